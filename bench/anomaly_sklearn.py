"""scikit-learn's IsolationForest on the feature matrix `billstream bench anomaly --features-out`
wrote: same rows, same split, same parameters (100 trees — scikit-learn's default — then 50 and
25, as billstream measures; 256 samples per tree), missing values
filled with the training median as billstream's model does. Prints one JSON line: ROC AUC on the
test rows and single-threaded scoring throughput (lines/s), batch (the whole test set per call,
sklearn's best case) and one line per call (how a stream scores a line as it arrives).
Usage: anomaly_sklearn.py FEATURES.csv [SEED]"""
import csv
import json
import os
import sys
import time

os.environ.setdefault("OMP_NUM_THREADS", "1")
os.environ.setdefault("OPENBLAS_NUM_THREADS", "1")

import numpy as np
import sklearn
from sklearn.ensemble import IsolationForest
from sklearn.metrics import roc_auc_score

MIN_SECS = 2.0
# scikit-learn's default forest (100 trees) and the smaller ones billstream measures.
TREES = [100, 50, 25]


def load(path):
    with open(path, newline="") as f:
        r = csv.reader(f)
        header = next(r)
        split, label, rows = [], [], []
        for row in r:
            split.append(row[0])
            label.append(int(row[1]))
            rows.append([float(v) for v in row[3:]])
    return header[3:], np.array(split), np.array(label), np.array(rows, dtype=np.float64)


def main():
    path = sys.argv[1]
    seed = int(sys.argv[2]) if len(sys.argv) > 2 else 1
    names, split, label, x = load(path)
    train, test = x[split == "train"], x[split == "test"]
    y = label[split == "test"]
    fill = np.nanmedian(train, axis=0)
    fill = np.where(np.isnan(fill), 0.0, fill)
    train = np.where(np.isnan(train), fill, train)
    test = np.where(np.isnan(test), fill, test)

    forests = [measure(train, test, y, trees, seed) for trees in TREES]
    print(json.dumps({
        "bench": "anomaly", "library": f"scikit-learn {sklearn.__version__} IsolationForest",
        "numpy": np.__version__, "python": sys.version.split()[0],
        "train_lines": int(len(train)), "test_lines": int(len(test)), "test_anomalies": int(y.sum()),
        "features": len(names), "forests": forests,
    }))


def measure(train, test, y, trees, seed):
    model = IsolationForest(n_estimators=trees, max_samples=256, random_state=seed, n_jobs=1)
    t = time.perf_counter()
    model.fit(train)
    train_s = time.perf_counter() - t
    # score_samples: higher is more normal, so its negation ranks anomalies first.
    auc = roc_auc_score(y, -model.score_samples(test))

    t, n = time.perf_counter(), 0
    while time.perf_counter() - t < MIN_SECS:
        model.score_samples(test)
        n += len(test)
    batch_s = time.perf_counter() - t

    one = test[:2000]
    t, m = time.perf_counter(), 0
    while time.perf_counter() - t < MIN_SECS:
        for row in one:
            model.score_samples(row.reshape(1, -1))
        m += len(one)
    single_s = time.perf_counter() - t
    return {
        "trees": trees, "sample_size": 256, "train_s": train_s, "auc": round(float(auc), 4),
        "batch_lines_per_s": round(n / batch_s), "one_line_per_call_lines_per_s": round(m / single_s),
    }


if __name__ == "__main__":
    main()
