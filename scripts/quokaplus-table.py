#!/usr/bin/env python3
"""Summarise results/quokaplus/ (written by scripts/eval-quokaplus.sh) as the README's markdown tables.

    python3 scripts/quokaplus-table.py [results/quokaplus]
"""
import collections
import glob
import json
import os
import re
import sys

d = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "results", "quokaplus")

# settings in table order: (file key, label)
KLD = [("ub512-c0-nq16", "ub 512"), ("ub512-c128-nq16", "ub 512 chunk 128"), ("ub512-c64-nq16", "ub 512 chunk 64"),
       ("ub512-c128-nq4", "ub 512 chunk 128 N_Q 4"),
       ("ub512-c0-nq64", "ub 512 N_Q 64"), ("ub512-c0-nq16-s1", "ub 512 sink 1"), ("ub512-c0-nq16-s4", "ub 512 sink 4"),
       ("ub128-c0-nq16", "ub 128")]

models = sorted({re.sub(r"^kld-(.*)-ub\d+-c\d+-nq\d+(-s\d+)?\.json$", r"\1", os.path.basename(f))
                 for f in glob.glob(os.path.join(d, "kld-*.json"))})

print("KL(dense || QUOKA), mean over the positions p >= 512 of 4 windows of tinystories-kld.txt (top-1 agreement; keys attended as a share of dense):\n")
print("| model | window | B_SA | " + " | ".join(l for _, l in KLD) + " |")
print("|---|---:|---:|" + "---:|" * len(KLD))
for m in models:
    cells, window, budget = [], "", ""
    for key, _ in KLD:
        f = os.path.join(d, f"kld-{m}-{key}.json")
        if not os.path.exists(f) or os.path.getsize(f) == 0:
            cells.append("-")
            continue
        r = json.load(open(f))
        p = r["pooled"]
        window = r["window"]
        budget = re.sub(r"^B_SA=(\S+).*", r"\1", r["quoka"])
        cells.append(f"{p['mean_kl']:.4f} ({100*p['top1_agreement']:.1f}%, {100*r['kv_frac']:.1f}%)")
    print(f"| {m} | {window} | {budget} | " + " | ".join(cells) + " |")

niah = collections.OrderedDict()
for f in sorted(glob.glob(os.path.join(d, "niah-*.json"))):
    m = re.sub(r"^niah-(.*)-ub\d+(-s\d+)?\.json$", r"\1", os.path.basename(f))
    for c in json.load(open(f)):
        name = c["setting"] if c["setting"] == "dense" else ("chunk 128" if "chunk=128" in c["setting"] else
                                                              "sink 4" if "sink=4" in c["setting"] else "QUOKA")
        col = f"{name}, ub {c['n_ubatch']}" if name != "dense" else "dense"
        k = (m, c["length"])
        niah.setdefault(k, collections.OrderedDict()).setdefault(col, [0, 0])
        niah[k][col][0] += c["correct"]
        niah[k][col][1] += c["cases"]
if niah:
    cols = ["dense", "QUOKA, ub 512", "chunk 128, ub 512", "sink 4, ub 512", "QUOKA, ub 128"]
    print("\nNeedle retrieval (eval niah, greedy, correct / cases over depths 0-100%):\n")
    print("| model | length | " + " | ".join(cols) + " |")
    print("|---|---:|" + "---:|" * len(cols))
    for (m, n), v in niah.items():
        print(f"| {m} | {n} | " + " | ".join(f"{v[c][0]}/{v[c][1]}" if c in v else "-" for c in cols) + " |")

bench = sorted(glob.glob(os.path.join(d, "bench-*.json")))
if bench:
    print("\nTTFT (quokarun bench, ub 512, mean over interleaved repetitions; ratios to plain QUOKA's TTFT, same run, ± standard error):\n")
    print("| model | prompt | reps | dense ms | QUOKA ms | chunk 128 / QUOKA | sink 4 / QUOKA |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for f in bench:
        if os.path.getsize(f) == 0:
            continue
        m = re.sub(r"^bench-(.*)\.json$", r"\1", os.path.basename(f))
        rows = json.load(open(f))
        rows = rows.get("results", rows) if isinstance(rows, dict) else rows
        by = collections.defaultdict(dict)
        for r in rows:
            by[r["n_prompt"]][r["quoka"]] = r
        def ratio(a, b):
            reps = len(a["runs"])
            r = b["ttft_ms"] / a["ttft_ms"]
            se = r * ((a["ttft_ms_stddev"] / a["ttft_ms"]) ** 2 / reps + (b["ttft_ms_stddev"] / b["ttft_ms"]) ** 2 / reps) ** 0.5
            return f"{r:.3f} ± {se:.3f}"
        for n, v in sorted(by.items()):
            q = [k for k in v if k != "off" and "/" not in k]
            if not q:
                continue
            a = v[q[0]]
            c = [v[k] for k in v if k.endswith("/c128")]
            sk = [v[k] for k in v if k.endswith("/s4") and "/c" not in k]
            dense = v["off"]["ttft_ms"] if "off" in v else 0
            print(f"| {m} | {n} | {len(a['runs'])} | {dense:.1f} | {a['ttft_ms']:.1f} | "
                  f"{ratio(a, c[0]) if c else '-'} | {ratio(a, sk[0]) if sk else '-'} |")
