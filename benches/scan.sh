#!/usr/bin/env bash
# `netid scan` against ripgrep on the same generated NDJSON corpus, in one run on one machine:
# throughput on one core and on all cores, peak RSS (GNU time), and the same for a corpus with no
# identity numbers. Installs ripgrep when missing. Usage: bash benches/scan.sh [MIB] (default
# 1024). The corpus goes to $SCAN_BENCH_DIR (default: target/scan-bench) and is kept for reruns.
set -euo pipefail
cd "$(dirname "$0")/.."
MIB="${1:-1024}"
DIR="${SCAN_BENCH_DIR:-target/scan-bench}"
mkdir -p "$DIR"
if ! command -v rg >/dev/null; then
  apt-get install -y ripgrep >/dev/null 2>&1 || (apt-get update >/dev/null && apt-get install -y ripgrep >/dev/null) \
    || cargo install ripgrep
fi
[ -x /usr/bin/time ] || apt-get install -y time >/dev/null
cargo build --release --features cli,postgres --bin netid --example scan_corpus >/dev/null 2>&1
NETID=target/release/netid
for kind in ids clean; do
  f="$DIR/corpus-$kind-$MIB.ndjson"
  [ -f "$f" ] || target/release/examples/scan_corpus "$f" "$MIB" $([ "$kind" = clean ] && echo clean)
done
# The resident-ID shape with ASCII word boundaries: what a regex can do (no check character).
RE='(?-u)\b[1-9][0-9]{5}(?:18|19|20)[0-9]{2}(?:0[1-9]|1[0-2])(?:0[1-9]|[12][0-9]|3[01])[0-9]{3}[0-9Xx]\b'
run() { # label, command...
  local label="$1"; shift
  cat "$@" >/dev/null 2>&1 || true
  /usr/bin/time -f "%e s, peak RSS %M KiB" "$@" >"$DIR/out.txt" 2>"$DIR/time.txt" || true
  printf '%-58s %s | %s\n' "$label" "$(tail -1 "$DIR/time.txt")" "$(head -c 120 "$DIR/out.txt" | tr '\n' ' ')"
}
echo "== $(nproc) cores, $(rg --version | head -1), corpus ${MIB} MiB"
for kind in ids clean; do
  f="$DIR/corpus-$kind-$MIB.ndjson"
  cat "$f" >/dev/null
  echo "-- $f ($(stat -c %s "$f") bytes)"
  run "rg -j1 --count-matches RE (one core)" rg -j1 --count-matches "$RE" "$f"
  run "netid scan -j1 --input-format text --summary-only" "$NETID" scan -j1 --no-progress --input-format text --summary-only "$f"
  run "netid scan -j1 (ndjson: paths, field names) --summary-only" "$NETID" scan -j1 --no-progress --summary-only "$f"
done
# Scaling: the corpus cut into 8 files, one core and all cores.
split -n l/8 -d --additional-suffix=.ndjson "$DIR/corpus-ids-$MIB.ndjson" "$DIR/part-"
mkdir -p "$DIR/parts" && mv "$DIR"/part-*.ndjson "$DIR/parts/"
echo "-- 8 files"
run "rg -j1 --count-matches RE" rg -j1 --count-matches "$RE" "$DIR/parts"
run "rg (all cores) --count-matches RE" rg --count-matches "$RE" "$DIR/parts"
run "netid scan -j1 --input-format text" "$NETID" scan -j1 --no-progress --input-format text --summary-only "$DIR/parts"
run "netid scan (all cores) --input-format text" "$NETID" scan --no-progress --input-format text --summary-only "$DIR/parts"
run "netid scan (all cores) ndjson" "$NETID" scan --no-progress --summary-only "$DIR/parts"
rm -rf "$DIR/parts"
