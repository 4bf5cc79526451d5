"""Large CMS v3.0 hospital price-transparency files for the ingest benchmark (BENCHMARKS.md).

Repeats the data rows of CMS's own v3.0.0 examples (../shared/data/cms-hpt/v3.0.0/examples)
with the item description numbered, until the file reaches the size asked for, in the tall CSV
and the JSON layout. Usage: make_mrf.py DATA_DIR OUT_DIR MEGABYTES
"""
import csv, io, json, os, sys

data, out, mb = sys.argv[1], sys.argv[2], int(sys.argv[3])
target = mb * 1_000_000
ex = os.path.join(data, "cms-hpt/v3.0.0/examples")
os.makedirs(out, exist_ok=True)

# Tall CSV: the two header rows as they are, then the data rows repeated.
with open(os.path.join(ex, "V3.0.0_Tall_CSV_Format_Example.csv"), newline="", encoding="utf-8-sig") as f:
    rows = list(csv.reader(f))
head, body = rows[:3], rows[3:]
path = os.path.join(out, "mrf_tall_v3.csv")
with open(path, "w", newline="", encoding="utf-8") as f:
    w = csv.writer(f)
    w.writerows(head)
    n = 0
    while f.tell() < target:
        for r in body:
            r = list(r)
            r[0] = f"{r[0]} #{n}"
            w.writerow(r)
        n += 1
print(path, os.path.getsize(path))

# JSON: the header fields, then standard_charge_information repeated.
with open(os.path.join(ex, "v3_json_format_example.json"), encoding="utf-8") as f:
    doc = json.load(f)
items = doc.pop("standard_charge_information")
path = os.path.join(out, "mrf_v3.json")
with open(path, "w", encoding="utf-8") as f:
    head = json.dumps(doc)
    f.write(head[:-1] + ', "standard_charge_information": [')
    n = 0
    first = True
    while f.tell() < target:
        for it in items:
            it = dict(it)
            it["description"] = f"{it['description']} #{n}"
            f.write(("" if first else ",") + json.dumps(it))
            first = False
        n += 1
    f.write("]}")
print(path, os.path.getsize(path))
