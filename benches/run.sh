#!/usr/bin/env bash
# Measures netid's figures and OpenSSL's reference figures in one run, on one machine, so
# benches/README.md can put them side by side.
set -euo pipefail
cd "$(dirname "$0")/.."
openssl version
echo "== openssl speed sm2 (reference)"
openssl speed -seconds 5 sm2 2>/dev/null | tail -2
echo "== openssl speed sm3, 1 KiB blocks (reference)"
openssl speed -seconds 3 -bytes 1024 -evp sm3 2>/dev/null | tail -2
echo "== netid (criterion)"
for bench in verify sandbox detector middleware stores; do
  cargo bench --all-features --bench "$bench" -- --warm-up-time 2 --measurement-time 5 2>/dev/null \
    | grep -E "^[a-z0-9_/]+ +time:|^[a-z0-9_/]+$|^ +time:|thrpt:"
done
