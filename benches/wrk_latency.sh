#!/usr/bin/env bash
# Latency a signed-in GET adds, without queueing: bare axum, netid (in-memory stores) and netid
# with RedisStore (examples/load_target.rs), each on core 1 with one worker thread, loaded by
# `wrk -t1 -c1` on core 0 (one request at a time, so p99 is the request's own tail, not the
# wait behind 31 others). Servers visited in turn, ROUNDS rounds of SECONDS each; medians.
#
#   bash benches/wrk_latency.sh [ROUNDS] [SECONDS]      (default 7 rounds of 6 s)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-7}"
seconds="${2:-6}"
base_port=18500
command -v wrk >/dev/null 2>&1 || { echo "wrk is missing: bash benches/wrk.sh installs it" >&2; exit 2; }
cargo build --release --example load_target --features axum,sandbox,redis 2>/dev/null
bin=target/release/examples/load_target
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT
modes=(bare netid netid-redis)
declare -A port cookie
i=0
for mode in "${modes[@]}"; do
  port[$mode]=$((base_port + i))
  i=$((i + 1))
  env TOKIO_WORKER_THREADS=1 taskset -c 1 "$bin" "$mode" "${port[$mode]}" >"$work/$mode.out" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    grep -q "^listening" "$work/$mode.out" && break
    sleep 0.1
  done
  grep -q "^listening" "$work/$mode.out" || { cat "$work/$mode.out" >&2; exit 1; }
done
for mode in "${modes[@]}"; do
  cookie[$mode]="$(sed -n 's/^cookie: //p' "$work/$mode.out")"
  [ -n "${cookie[$mode]}" ] || cookie[$mode]="$(sed -n 's/^cookie: //p' "$work/netid.out")"
done
for mode in netid netid-redis; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie[$mode]}" \
    "http://127.0.0.1:${port[$mode]}/whoami")
  [ "$status" = 200 ] || { echo "$mode does not accept its session cookie ($status)" >&2; exit 1; }
done
us() { awk '{v=$1; if (v ~ /us$/) print v+0; else if (v ~ /ms$/) print 1000*v; else if (v ~ /s$/) print 1e6*v; else print v+0}'; }
printf '%-6s %-12s %10s %8s %8s\n' round mode 'requests/s' 'p50 µs' 'p99 µs'
for round in $(seq 1 "$rounds"); do
  for mode in "${modes[@]}"; do
    taskset -c 0 wrk -t1 -c1 -d"${seconds}s" --latency -H "Cookie: ${cookie[$mode]}" \
      "http://127.0.0.1:${port[$mode]}/" >"$work/wrk"
    rps=$(awk '/^Requests\/sec:/ {print $2}' "$work/wrk")
    p50=$(awk '$1 == "50%" {print $2}' "$work/wrk" | us)
    p99=$(awk '$1 == "99%" {print $2}' "$work/wrk" | us)
    printf '%-6s %-12s %10s %8s %8s\n' "$round" "$mode" "$rps" "$p50" "$p99"
    echo "$round $mode $rps $p50 $p99" >>"$work/all"
  done
done
median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== medians over $rounds rounds"
for mode in "${modes[@]}"; do
  printf '%-12s p50 %6s µs  p99 %6s µs\n' "$mode" \
    "$(awk -v m="$mode" '$2==m {print $4}' "$work/all" | median)" \
    "$(awk -v m="$mode" '$2==m {print $5}' "$work/all" | median)"
done
for mode in netid netid-redis; do
  # Differences within a round, where the machine ran at one speed.
  d=$(awk -v m="$mode" '$2==m {x[$1]=$5} $2=="bare" {b[$1]=$5} END {for (k in x) print x[k]-b[k]}' "$work/all" | median)
  printf '%-12s adds %s µs at p99 (median of the rounds'"'"' differences)\n' "$mode" "$d"
done
