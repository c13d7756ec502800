#!/usr/bin/env python3
"""Prints the ratios of a criterion run as a Markdown table.

Reads target/criterion/<group>/<function>/new/estimates.json (the last
`cargo bench` run) for every group that has a baseline function (default
`jsonwebtoken`), and prints each other function's mean, the baseline's mean
and their ratio. Usage: python3 tools/criterion-ratios.py [baseline] [groups...]
"""
import json
import pathlib
import sys

root = pathlib.Path(__file__).resolve().parent.parent / "target" / "criterion"
baseline = sys.argv[1] if len(sys.argv) > 1 else "jsonwebtoken"
wanted = sys.argv[2:]


def mean_ns(group, function):
    path = root / group / function / "new" / "estimates.json"
    return json.loads(path.read_text())["mean"]["point_estimate"]


def human(ns):
    if ns >= 1_000_000:
        return f"{ns / 1_000_000:.2f} ms"
    return f"{ns / 1000:.2f} µs" if ns >= 1000 else f"{ns:.0f} ns"


print(f"| group | ours | {baseline} | ratio |")
print("| --- | ---: | ---: | ---: |")
for group in sorted(p.name for p in root.iterdir() if (p / baseline).is_dir()):
    if wanted and not any(group.startswith(w) for w in wanted):
        continue
    base = mean_ns(group, baseline)
    for function in sorted(p.name for p in (root / group).iterdir() if p.is_dir() and p.name not in (baseline, "report")):
        ours = mean_ns(group, function)
        # criterion writes "a/b" groups as "a_b" folders.
        print(f"| {group} ({function}) | {human(ours)} | {human(base)} | {ours / base:.2f}× |")
