#!/usr/bin/env python3
"""Fails when a crate's module graph has a cycle.

An edge runs from a module to the module a `crate::`, `super::` or `self::`
path in it names (imports and inline paths alike; `mod` declarations and
`pub(crate)`-style visibilities are not edges). A path to a name that a
module re-exports with `pub use` counts for the re-exporting module *and*
for the module that defines the name, so `use crate::Thing` cannot hide an
upward import behind the crate root. Inline modules (`mod tests { … }`) are
modules of their own. Comments and string literals are ignored.

    tools/module-cycles.py             # every crate under crates/
    tools/module-cycles.py --graph     # also print each crate's edges
    tools/module-cycles.py --self-test # shows it finds the cycles it should

Exit status 1 lists each cycle found.
"""

import re
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
IDENT = r"[A-Za-z_][A-Za-z0-9_]*"


def strip(text):
    """Blanks comments, strings and char literals, keeping newlines."""
    out = []
    i, n = 0, len(text)
    while i < n:
        c = text[i]
        if text.startswith("//", i):
            j = text.find("\n", i)
            j = n if j < 0 else j
            i = j
        elif text.startswith("/*", i):
            depth, j = 1, i + 2
            while j < n and depth:
                if text.startswith("/*", j):
                    depth, j = depth + 1, j + 2
                elif text.startswith("*/", j):
                    depth, j = depth - 1, j + 2
                else:
                    j += 1
            out.append("\n" * text.count("\n", i, j))
            i = j
        elif (m := re.match(r'b?r(#*)"', text[i:])) and (i == 0 or not re.match(r"\w", text[i - 1])):
            end = '"' + m.group(1)
            j = text.find(end, i + m.end())
            j = n if j < 0 else j + len(end)
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j
        elif c == '"':
            j = i + 1
            while j < n and text[j] != '"':
                j += 2 if text[j] == "\\" else 1
            out.append('""' + "\n" * text.count("\n", i, j))
            i = j + 1
        elif c == "'" and (m := re.match(r"'(\\.[^']*|[^\\'])'", text[i:])):
            out.append("' '")
            i += m.end()
        else:
            out.append(c)
            i += 1
    return "".join(out)


def expand_use(tree):
    """`a::{b, c::{d, e}}` -> ["a::b", "a::c::d", "a::c::e"]."""
    tree = re.sub(r"\s+", "", tree)
    brace = tree.find("{")
    if brace < 0:
        return [re.sub(r"as\w+$", "", tree)] if tree else []
    prefix, inner = tree[:brace], tree[brace + 1 : tree.rindex("}")]
    parts, depth, start = [], 0, 0
    for k, ch in enumerate(inner):
        if ch == "{":
            depth += 1
        elif ch == "}":
            depth -= 1
        elif ch == "," and depth == 0:
            parts.append(inner[start:k])
            start = k + 1
    parts.append(inner[start:])
    paths = []
    for part in parts:
        for sub in expand_use(part):
            paths.append(prefix + sub if sub != "self" else prefix.rstrip(":"))
    return paths


class Module:
    def __init__(self, path, file):
        self.path = path  # tuple of segments below the crate root
        self.file = file
        self.text = ""
        self.children = set()
        self.reexports = {}  # name -> absolute path tuple


def modules_of(src):
    """Every module of the crate rooted at `src`, with its own text."""
    root_file = src / "lib.rs" if (src / "lib.rs").exists() else src / "main.rs"
    mods = {}

    def load(path, file):
        text = strip(file.read_text())
        carve(path, file, text)

    def carve(path, file, text):
        mod = mods.setdefault(path, Module(path, file))
        own, i = [], 0
        for m in re.finditer(rf"\bmod\s+({IDENT})\s*([;{{])", text):
            if m.start() < i:
                continue
            name = m.group(1)
            mod.children.add(name)
            if m.group(2) == ";":
                continue
            depth, j = 1, m.end()
            while j < len(text) and depth:
                depth += {"{": 1, "}": -1}.get(text[j], 0)
                j += 1
            own.append(text[i : m.start()])
            carve(path + (name,), file, text[m.end() : j - 1])
            i = j
        own.append(text[i:])
        mod.text += "".join(own)
        for name in sorted(mod.children):
            if path + (name,) in mods:
                continue
            if file.name in ("lib.rs", "main.rs", "mod.rs"):
                base = file.parent
            else:
                base = file.parent / file.stem
            for candidate in (base / f"{name}.rs", base / name / "mod.rs"):
                if candidate.exists():
                    load(path + (name,), candidate)
                    break

    load((), root_file)
    return mods


def absolute(current, segments):
    """Resolves `crate`/`super`/`self` prefixes; None for other paths."""
    if not segments or segments[0] not in ("crate", "super", "self"):
        return None
    if segments[0] == "crate":
        return tuple(segments[1:])
    base = list(current)
    k = 0
    while k < len(segments) and segments[k] in ("super", "self"):
        if segments[k] == "super":
            if not base:
                return None
            base.pop()
        k += 1
    return tuple(base) + tuple(segments[k:])


def collect(mods):
    uses = {}
    for mod in mods.values():
        paths = []
        text = mod.text
        for m in re.finditer(r"\b(pub(\s*\([^)]*\))?\s+)?use\s+([^;]+);", text):
            is_pub = bool(m.group(1))
            for p in expand_use(m.group(3)):
                segs = [s for s in p.split("::") if s]
                if not segs:
                    continue
                name = segs[-1]
                alias = re.search(rf"\bas\s+({IDENT})", m.group(3))
                if is_pub and name != "*":
                    full = absolute(mod.path, segs) or (
                        mod.path + tuple(segs) if segs[0] in mod.children else None
                    )
                    if full:
                        mod.reexports[name] = full
                paths.append(segs)
        rest = re.sub(r"\b(pub(\s*\([^)]*\))?\s+)?use\s+[^;]+;", " ", text)
        rest = re.sub(r"\$crate", " ", rest)
        for m in re.finditer(rf"\b(?:crate|super|self)(?:\s*::\s*(?:{IDENT}|\*))+", rest):
            paths.append([s.strip() for s in m.group(0).split("::")])
        uses[mod.path] = paths
    return uses


def targets(mods, current, segments, depth=0):
    full = absolute(current, segments)
    if full is None or depth > 8:
        return set()
    found = set()
    k = 0
    while k < len(full) and full[: k + 1] in mods:
        k += 1
    owner = full[:k]
    found.add(owner)
    if k < len(full):
        name = full[k]
        again = mods[owner].reexports.get(name)
        if again is not None and again != full[: k + 1]:
            found |= targets(mods, (), ["crate", *again, *full[k + 1 :]], depth + 1)
    return found


def cycles(graph):
    """Strongly connected components with more than one module."""
    index, low, stack, on, out, counter = {}, {}, [], set(), [], [0]

    def visit(v):
        index[v] = low[v] = counter[0]
        counter[0] += 1
        stack.append(v)
        on.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            comp = []
            while True:
                w = stack.pop()
                on.discard(w)
                comp.append(w)
                if w == v:
                    break
            if len(comp) > 1:
                out.append(sorted(comp))

    sys.setrecursionlimit(10000)
    for v in graph:
        if v not in index:
            visit(v)
    return out


def name(path):
    return "crate" + "".join("::" + s for s in path)


def crate_cycles(src, show=False):
    """The cycles of the crate whose sources are in `src`, as lines."""
    mods = modules_of(src)
    uses = collect(mods)
    graph = {}
    for mod, paths in uses.items():
        for segs in paths:
            for t in targets(mods, mod, segs):
                if t != mod:
                    graph.setdefault(mod, set()).add(t)
    crate = src.parent.name
    if show:
        print(f"# {crate}")
        for mod in sorted(graph):
            print(f"  {name(mod)} -> {', '.join(sorted(name(t) for t in graph[mod]))}")
    found = []
    for comp in cycles(graph):
        lines = [f"{crate}: cycle through {len(comp)} modules:"]
        for mod in comp:
            inside = sorted(name(t) for t in graph.get(mod, ()) if t in comp)
            lines.append(f"  {name(mod)} -> {', '.join(inside)}")
        found.append("\n".join(lines))
    return found


def self_test():
    """Three small crates: two with a cycle (one hidden behind a re-export
    of the crate root), one layered."""
    import tempfile

    cases = {
        "direct": ({"lib.rs": "mod a;\nmod b;\n",
                    "a.rs": "use crate::b::X;\npub struct Y;\n",
                    "b.rs": "pub struct X;\nfn f() { let _ = super::a::Y; }\n"}, 1),
        "reexport": ({"lib.rs": "mod a;\nmod b;\npub use a::Y;\n",
                      "a.rs": "use crate::b::X;\npub struct Y;\n",
                      "b.rs": "// crate::a::Y in a comment is no edge\npub struct X;\nuse crate::Y;\n"}, 1),
        "layered": ({"lib.rs": "mod a;\nmod b;\npub use a::Y;\npub(crate) use b::X;\n",
                     "a.rs": "pub struct Y;\n#[cfg(test)]\nmod tests { use super::*; use crate::b::X; }\n",
                     "b.rs": "use crate::a::Y;\npub(crate) struct X(Y);\nconst S: &str = \"crate::b::X\";\n"}, 0),
    }
    failed = 0
    with tempfile.TemporaryDirectory() as tmp:
        for case, (files, expected) in cases.items():
            src = Path(tmp) / case / "src"
            src.mkdir(parents=True)
            for file, text in files.items():
                (src / file).write_text(text)
            found = crate_cycles(src)
            if len(found) != expected:
                failed += 1
                print(f"self-test {case}: expected {expected} cycle(s), found {len(found)}")
    if failed:
        sys.exit(1)
    print("self-test: cycles found where they are, none where there are none")


def main():
    if "--self-test" in sys.argv:
        self_test()
        return
    show = "--graph" in sys.argv
    found = []
    for src in sorted(ROOT.glob("crates/*/src")):
        found += crate_cycles(src, show)
    for cycle in found:
        print(cycle)
    if found:
        sys.exit(1)
    print("no module cycles")


if __name__ == "__main__":
    main()
