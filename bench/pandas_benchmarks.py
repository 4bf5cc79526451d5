#!/usr/bin/env python3
"""pandas computing the benchmarks dataflow's per-code statistics on the same claim lines.

Reads the CSV written by `billstream generate claims --csv FILE` (same generator, same seed as
`billstream bench dataflow`), then times: latest version per (claim_id, line_no) in log order,
voids dropped, and per (code, modifier, place_of_service) count, min, median, p90, max, mean
(pandas' default linear quantiles, as the dataflow computes them). Reading the CSV is not timed.
Charges are read as float64 here — pandas has no native decimal; the dataflow computes in
exact decimal.
"""
import json
import sys
import time

import pandas as pd


def main():
    path = sys.argv[1]
    df = pd.read_csv(path, dtype={"claim_id": str, "code": str, "modifier": str, "place_of_service": str,
                                  "frequency_code": str}, keep_default_na=False)
    n = len(df)
    t0 = time.perf_counter()
    latest = df.drop_duplicates(subset=["claim_id", "line_no"], keep="last")
    latest = latest[latest["frequency_code"] != "8"]
    g = latest.groupby(["code", "modifier", "place_of_service"])["charge"]
    stats = g.agg(["count", "min", "median", lambda s: s.quantile(0.9), "max", "mean"])
    elapsed = time.perf_counter() - t0
    print(json.dumps({"bench": "pandas", "lines": n, "seconds": elapsed, "lines_per_s": round(n / elapsed),
                      "benchmark_keys": len(stats), "pandas": pd.__version__}))


if __name__ == "__main__":
    main()
