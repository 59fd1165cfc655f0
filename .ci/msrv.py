#!/usr/bin/env python3
"""Fails when Cargo.toml's rust-version is older than a locked dependency needs.

Only one toolchain can be installed on CI's machines, so the declared minimum cannot be built
with directly; this checks it against the `rust-version` every locked package declares.
"""
import json
import subprocess
import sys

meta = json.loads(subprocess.check_output(["cargo", "metadata", "--format-version", "1", "--locked"]))


def version(text):
    return tuple(int(x) for x in text.split("."))[:2]


ours = next(p for p in meta["packages"] if p["name"] == "netid")
declared = version(ours["rust_version"])
needed = max(
    ((version(p["rust_version"]), f'{p["name"]} {p["version"]}')
     for p in meta["packages"] if p.get("rust_version") and p["name"] != "netid"),
)
print(f"rust-version {'.'.join(map(str, declared))}; the locked dependencies need "
      f"{'.'.join(map(str, needed[0]))} ({needed[1]})")
if declared < needed[0]:
    sys.exit("rust-version in Cargo.toml is older than a locked dependency needs: raise it")
