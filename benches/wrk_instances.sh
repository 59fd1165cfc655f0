#!/usr/bin/env bash
# How the Redis-backed stack scales with instances on this machine: 1, 2 and 3 instances of
# examples/load_target.rs in `netid-redis` mode (revocations and pending logins in the machine's
# Redis), each loaded by its own `wrk -t1` at the same time, against the same number of bare
# axum instances. Signed-in GET /. Figures go to benches/README.md.
#
#   bash benches/wrk_instances.sh [SECONDS]      (default 5 s per run; 3 rounds each)
set -euo pipefail
cd "$(dirname "$0")/.."
seconds="${1:-5}"
rounds=3
base_port=18200

command -v wrk >/dev/null 2>&1 || { echo "wrk is missing: bash benches/wrk.sh installs it" >&2; exit 2; }
cargo build --release --example load_target --features axum,sandbox,redis 2>/dev/null
bin=target/release/examples/load_target
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

declare -A port
start() { # mode index: serves on a port of its own, noted in port[mode.index], once it listens
  port[$1.$2]=$((base_port + ${#pids[@]}))
  "$bin" "$1" "${port[$1.$2]}" >"$work/$1.$2.out" 2>&1 &
  pids+=("$!")
  for _ in $(seq 1 100); do
    grep -q "^listening" "$work/$1.$2.out" && break
    sleep 0.1
  done
  grep -q "^listening" "$work/$1.$2.out" || { cat "$work/$1.$2.out" >&2; exit 1; }
  # A cookie the instance refused would be measured as an anonymous request after a full token
  # check: make sure it signs in.
  if [ "$1" != bare ]; then
    local status
    status=$(curl -s -o /dev/null -w '%{http_code}' \
      -H "Cookie: $(sed -n 's/^cookie: //p' "$work/$1.$2.out")" "http://127.0.0.1:${port[$1.$2]}/whoami")
    [ "$status" = 200 ] || { echo "$1.$2 does not accept its session cookie ($status)" >&2; exit 1; }
  fi
}

for i in 1 2 3; do
  start netid-redis "$i"
  start bare "$i"
done

load() { # mode instances -> total requests/s, all wrk at once
  local n=$2 i loaders=()
  for i in $(seq 1 "$n"); do
    local cookie
    cookie="$(sed -n 's/^cookie: //p' "$work/$1.$i.out")"
    wrk -t1 -c$((32 / n)) -d"${seconds}s" -H "Cookie: ${cookie:-none=1}" \
      "http://127.0.0.1:${port[$1.$i]}/" >"$work/wrk.$i" &
    loaders+=("$!")
  done
  wait "${loaders[@]}"
  awk '/^Requests\/sec:/ {s += $2} END {printf "%.0f\n", s}' "$work"/wrk.*
  rm -f "$work"/wrk.*
}

echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nproc) cores, ${seconds}s per run, $rounds rounds; 32 connections in all"
printf '%-9s %-12s %12s\n' instances mode 'requests/s'
for n in 1 2 3; do
  for mode in netid-redis bare; do
    for r in $(seq 1 $rounds); do
      echo "$n $mode $(load "$mode" "$n")" >>"$work/all"
    done
    rps=$(awk -v n="$n" -v m="$mode" '$1==n && $2==m {print $3}' "$work/all" | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}')
    printf '%-9s %-12s %12s\n' "$n" "$mode" "$rps"
  done
done
