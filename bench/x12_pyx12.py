"""pyx12 on the same X12 files Billstream's X12 loader reads (see BENCHMARKS.md).

Two figures per run: `reader` iterates the segments only (pyx12.x12file.X12Reader: delimiters,
envelope counts), `validate` walks each segment through the implementation-guide maps as
`x12valid` does (pyx12.x12n_document, loops and element checks, 997/999 to /dev/null).
Prints JSON: files, segments, seconds and segments/s for each.
"""
import io, json, logging, sys, time

import pyx12.error_handler
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

logging.disable(logging.CRITICAL)


def reader(paths):
    n = 0
    for p in paths:
        with open(p, encoding="ascii", errors="replace") as fd:
            for _seg in pyx12.x12file.X12Reader(fd):
                n += 1
    return n


def validate(paths):
    param = pyx12.params.params()
    for p in paths:
        with open(p, encoding="ascii", errors="replace") as fd:
            pyx12.x12n_document.x12n_document(param, fd, io.StringIO(), None)


def main():
    repeat = int(sys.argv[1])
    paths = sys.argv[2:]
    segments = reader(paths)
    out = {"files": len(paths), "segments_per_pass": segments, "repeat": repeat}
    for name, fn in (("reader", reader), ("validate", validate)):
        t = time.perf_counter()
        for _ in range(repeat):
            fn(paths)
        secs = time.perf_counter() - t
        out[name] = {"seconds": round(secs, 3), "segments_per_s": round(segments * repeat / secs)}
    print(json.dumps(out))


if __name__ == "__main__":
    main()
