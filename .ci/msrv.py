#!/usr/bin/env python3
"""Fails unless Cargo.toml's rust-version is exactly what the locked dependencies need.

"Need" is the highest `rust-version` declared by a locked package that building this repository
compiles: everything reachable from netid through its normal, build and dev-dependencies (then
their normal and build dependencies), with every feature on, for this machine's platform. The
dev-dependencies count because the promised first command, `cargo run --example quickstart`,
and the README's `cargo test` build them. A declared value below that cannot build them; one
above it refuses toolchains that would work. What a dependent's build alone (no
dev-dependencies) needs is printed too.

`.ci/run` then installs that toolchain with rustup and checks the whole workspace with it, so
the declared minimum is both computed and built with.
"""
import json
import subprocess
import sys


def version(text):
    return tuple(int(x) for x in text.split("."))[:2]


def show(v):
    return ".".join(map(str, v))


host = next(
    line.split(":", 1)[1].strip()
    for line in subprocess.check_output(["rustc", "-vV"], text=True).splitlines()
    if line.startswith("host:")
)
meta = json.loads(subprocess.check_output([
    "cargo", "metadata", "--format-version", "1", "--locked", "--all-features",
    "--filter-platform", host, "--manifest-path", "Cargo.toml",
]))
packages = {p["id"]: p for p in meta["packages"]}
nodes = {n["id"]: n for n in meta["resolve"]["nodes"]}
ours = next(p for p in meta["packages"] if p["name"] == "netid" and p["source"] is None)
declared = version(ours["rust_version"])


def reachable(first_kinds):
    """Package ids reachable from netid: netid's own edges of `first_kinds`, then normal and
    build edges (a dependency's dev-dependencies are never built)."""
    seen, todo = set(), [(ours["id"], first_kinds)]
    while todo:
        pid, kinds = todo.pop()
        for dep in nodes[pid]["deps"]:
            if any(k["kind"] in kinds for k in dep["dep_kinds"]) and dep["pkg"] not in seen:
                seen.add(dep["pkg"])
                todo.append((dep["pkg"], {None, "build"}))
    seen.discard(ours["id"])
    return seen


def highest(ids):
    return max(
        ((version(packages[i]["rust_version"]), f'{packages[i]["name"]} {packages[i]["version"]}')
         for i in ids if packages[i].get("rust_version")),
        default=((0, 0), "none"),
    )


lib, lib_by = highest(reachable({None, "build"}))
needed, by = highest(reachable({None, "build", "dev"}))
print(f"rust-version {show(declared)}; building netid, its examples and tests (all features) "
      f"compiles packages that need at most {show(needed)} ({by}); a dependent's build alone, "
      f"{show(lib)} ({lib_by})")
if declared != needed:
    sys.exit(f"rust-version in Cargo.toml must be {show(needed)}, what the locked dependencies "
             f"need ({by}), not {show(declared)}")
