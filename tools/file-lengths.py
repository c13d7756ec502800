#!/usr/bin/env python3
"""Fails when a crate's source file holds more than 400 lines of non-test
code: its lines before the first top-level `#[cfg(test)]`.

    tools/file-lengths.py          # every crates/*/src/**/*.rs
    tools/file-lengths.py --top 10 # also list the ten longest
"""

import sys
from pathlib import Path

LIMIT = 400
ROOT = Path(__file__).resolve().parent.parent


def code_lines(path):
    count = 0
    for line in path.read_text().splitlines():
        if line.startswith("#[cfg(test)]"):
            break
        count += 1
    return count


def main():
    sizes = sorted(
        ((code_lines(p), p.relative_to(ROOT)) for p in ROOT.glob("crates/*/src/**/*.rs")),
        reverse=True,
    )
    if "--top" in sys.argv:
        for lines, path in sizes[: int(sys.argv[sys.argv.index("--top") + 1])]:
            print(f"{lines:5} {path}")
    long = [(lines, path) for lines, path in sizes if lines > LIMIT]
    for lines, path in long:
        print(f"{path}: {lines} lines of non-test code (limit {LIMIT}): split it by concept")
    if long:
        sys.exit(1)
    print(f"every source file within {LIMIT} lines of non-test code")


if __name__ == "__main__":
    main()
