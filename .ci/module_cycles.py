#!/usr/bin/env python3
"""Fails when the crate's top-level modules import each other in a cycle.

Dependencies point one way (crypto <- token <- keys <- client <- policy <- adapters); a cycle
means a lower module names a higher one. Reads `crate::name` paths in each top-level module's
files (and `super::` from a top-level module's own file names nothing else), excluding tests.
"""
import pathlib
import re
import sys

src = pathlib.Path(__file__).resolve().parent.parent / "src"
# Top-level module -> files. The adapters live under src/adapters/ but are modules `axum`, `actix`.
modules = {}
for path in src.rglob("*.rs"):
    rel = path.relative_to(src)
    if rel.parts[0] == "bin" or rel.name in ("lib.rs",):
        continue
    if rel.parts[0] == "adapters":
        name = rel.stem
    else:
        name = rel.parts[0].removesuffix(".rs")
    if rel.name == "tests.rs":
        continue
    modules.setdefault(name, []).append(path)

edges = {m: set() for m in modules}
for module, files in modules.items():
    for path in files:
        text = path.read_text()
        # Unit-test modules may reach anywhere.
        text = text.split("#[cfg(test)]\nmod tests")[0]
        for line in text.splitlines():
            if line.lstrip().startswith("//"):
                continue
            targets = re.findall(r"\bcrate::([a-z_]+)", line)
            for group in re.findall(r"\bcrate::\{([^}]*)", line):
                targets += re.findall(r"(?:^|,)\s*([a-z_]+)", group)
            for target in targets:
                if target != module and target in modules:
                    edges[module].add(target)

# Tarjan's strongly connected components.
index, low, stack, on, sccs, counter = {}, {}, [], set(), [], [0]


def strong(v):
    index[v] = low[v] = counter[0]
    counter[0] += 1
    stack.append(v)
    on.add(v)
    for w in sorted(edges[v]):
        if w not in index:
            strong(w)
            low[v] = min(low[v], low[w])
        elif w in on:
            low[v] = min(low[v], index[w])
    if low[v] == index[v]:
        scc = []
        while True:
            w = stack.pop()
            on.discard(w)
            scc.append(w)
            if w == v:
                break
        if len(scc) > 1:
            sccs.append(sorted(scc))


for v in sorted(edges):
    if v not in index:
        strong(v)

if "-v" in sys.argv:
    for m in sorted(edges):
        print(m, "->", ", ".join(sorted(edges[m])))
if sccs:
    for scc in sccs:
        pairs = [f"{a} -> {b}" for a in scc for b in sorted(edges[a]) if b in scc]
        print("module cycle:", ", ".join(scc), "|", "; ".join(pairs))
    sys.exit(1)
print(f"no module cycles among {len(modules)} top-level modules")
