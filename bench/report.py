#!/usr/bin/env python3
"""Turns Google Benchmark JSON from kernels_bench into the markdown tables of
bench/README.md. Uses the median aggregate of repetitions when present.

    kernels_bench --benchmark_repetitions=5 --benchmark_format=json > kernels.json
    python3 bench/report.py kernels.json
"""
import json
import re
import sys
from collections import defaultdict

NAME = re.compile(r"^(?P<kernel>[a-z0-9_]+)/(?P<level>[a-z0-9]+)/N:(?P<n>\d+)/frame:(?P<frame>\d+)$")


def load(path):
    with open(path) as f:
        doc = json.load(f)
    rows, medians = {}, {}
    for b in doc["benchmarks"]:
        name = b.get("run_name", b["name"])
        m = NAME.match(name)
        if not m:
            continue
        key = (m["kernel"], m["level"], int(m["n"]), int(m["frame"]))
        if b.get("aggregate_name") == "median":
            medians[key] = b
        elif b.get("run_type", "iteration") == "iteration" and key not in rows:
            rows[key] = b
    rows.update(medians)
    return doc.get("context", {}), rows


def gbs(b):
    return b["bytes_per_second"] / 1e9


def sns(b):
    return b["items_per_second"] / 1e9


def main():
    ctx, rows = load(sys.argv[1])
    levels = sorted({k[1] for k in rows if k[1] not in ("baseline",)},
                    key=["scalar", "sse2", "neon", "avx2", "avx512"].index)
    best = ctx.get("tutti_best_simd_level", levels[-1])
    print(f"Machine: {ctx.get('num_cpus')} CPUs at {ctx.get('mhz_per_cpu')} MHz; best level here: **{best}**. "
          f"Medians of {ctx.get('repetitions', '?') if 'repetitions' in ctx else 'the'} repetitions.\n")

    print("### N-input float mix (`mix_sum`) against the streaming-read baseline\n")
    print("Bytes read per call = N × frame × 4. L2-resident = inputs ≤ 512 KiB.\n")
    print(f"| N | frame | KiB read | read_sum GB/s | memcpy GB/s | mix_sum {best} GB/s | of read_sum | samples/ns | scalar GB/s | × scalar |")
    print("|---|---|---|---|---|---|---|---|---|---|")
    for (kernel, level, n, frame), b in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][3])):
        if kernel != "mix_sum" or level != best:
            continue
        rd, mc = rows.get(("read_sum", "baseline", n, frame)), rows.get(("memcpy", "baseline", n, frame))
        sc = rows.get(("mix_sum", "scalar", n, frame))
        kib = n * frame * 4 / 1024
        l2 = " (L2)" if kib <= 512 else ""
        print(f"| {n} | {frame} | {kib:.0f}{l2} | {gbs(rd):.1f} | {gbs(mc):.1f} | {gbs(b):.1f} | "
              f"{100 * gbs(b) / gbs(rd):.0f} % | {sns(b):.2f} | {gbs(sc):.2f} | {gbs(b) / gbs(sc):.1f} |")

    print("\n### N-input int16 saturating mix (`mix_saturate_s16`) against the scalar per-sample loop\n")
    print(f"| N | frame | scalar GB/s | " + " | ".join(f"{l} GB/s" for l in levels if l != "scalar") +
          f" | {best} samples/ns | {best} × scalar |")
    print("|---|---|---|" + "---|" * (len(levels) - 1) + "---|---|")
    for (kernel, level, n, frame), b in sorted(rows.items(), key=lambda kv: (kv[0][2], kv[0][3])):
        if kernel != "mix_saturate_s16" or level != "scalar":
            continue
        cells = [f"{gbs(rows[(kernel, l, n, frame)]):.1f}" for l in levels if l != "scalar"]
        top = rows[(kernel, best, n, frame)]
        print(f"| {n} | {frame} | {gbs(b):.2f} | " + " | ".join(cells) + f" | {sns(top):.2f} | {gbs(top) / gbs(b):.1f} |")

    print("\n### One-stream kernels: samples/ns per level, and the best level × scalar\n")
    kernels = sorted({k[0] for k in rows if k[2] == 1 and k[1] != "baseline" and k[0] not in ("mix_sum", "mix_saturate_s16")})
    print("| kernel | frame | " + " | ".join(levels) + f" | {best} × scalar |")
    print("|---|---|" + "---|" * len(levels) + "---|")
    for kernel in kernels:
        for frame in sorted({k[3] for k in rows if k[0] == kernel}):
            cells = [f"{sns(rows[(kernel, l, 1, frame)]):.2f}" for l in levels]
            ratio = sns(rows[(kernel, best, 1, frame)]) / sns(rows[(kernel, "scalar", 1, frame)])
            print(f"| {kernel} | {frame} | " + " | ".join(cells) + f" | {ratio:.1f} |")


if __name__ == "__main__":
    main()
