#!/usr/bin/env bash
# Requests per second over real sockets: the same hello-world axum app bare, behind a no-op
# middleware, and behind the full netid stack with a signed-in 网证 user
# (examples/load_target.rs), under `wrk -t1 -c32`, in alternating rounds so all three see the
# same machine. Figures go to benches/README.md.
#
#   bash benches/wrk.sh [ROUNDS] [SECONDS]      (default 3 rounds of 10 s per server and route)
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-3}"
seconds="${2:-10}"
port=18088

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

cargo build --release --example load_target --features axum,sandbox 2>/dev/null
bin=target/release/examples/load_target
work="$(mktemp -d)"
trap 'kill "${server:-0}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The POST body: 170 bytes of profile JSON with no identity data, as in benches/middleware.rs.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"nickname":"bob","address":{"city":"杭州","street":"文三路 90 号"},"phone":"13800138000","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"请尽快发货"}'
LUA

start_server() { # mode
  "$bin" "$1" "$port" >"$work/out" 2>&1 &
  server=$!
  for _ in $(seq 1 100); do
    grep -q "^listening" "$work/out" && return 0
    sleep 0.1
  done
  cat "$work/out" >&2
  echo "load_target $1 did not start" >&2
  exit 1
}

cpu_ticks() { # pid -> user+system clock ticks the server has used so far
  awk '{print $14 + $15}' "/proc/$1/stat"
}

run_wrk() { # mode route -> "requests/s server-CPU-µs-per-request"
  local script=() path=/
  # Both servers get the same request bytes, session cookie included; the bare app ignores it.
  if [ "$1" = netid ]; then
    sed -n 's/^cookie: //p' "$work/out" >"$work/cookie"
  fi
  if [ "$2" = post ]; then
    script=(-s "$work/post.lua")
    path=/profile
  fi
  local before after
  before=$(cpu_ticks "$server")
  wrk -t1 -c32 -d"${seconds}s" -H "Cookie: $(cat "$work/cookie")" "${script[@]}" "http://127.0.0.1:$port$path" >"$work/wrk"
  after=$(cpu_ticks "$server")
  # Every answer must be a success, or the figure measures refusals.
  if grep -q "Non-2xx" "$work/wrk"; then
    cat "$work/wrk" >&2
    echo "$1 $2: non-2xx answers" >&2
    exit 1
  fi
  # CPU time per request is steadier than throughput on a shared machine: the host's noise
  # moves how many requests a second get through far more than what each one costs.
  awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
    /requests in/ {n = $1}
    /^Requests\/sec:/ {rps = $2}
    END {printf "%.0f %.2f\n", rps, 1e6 * t / hz / n}' "$work/wrk"
}

nproc_=$(nproc)
echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $nproc_ cores, $rounds rounds of ${seconds}s"
printf '%-6s %-6s %-5s %12s %14s\n' round route mode 'requests/s' 'server µs/req'
for round in $(seq 1 "$rounds"); do
  # netid first: its session cookie is sent to all three.
  for mode in netid noop bare; do
    start_server "$mode"
    for route in get post; do
      read -r rps cpu < <(run_wrk "$mode" "$route")
      printf '%-6s %-6s %-5s %12s %14s\n' "$round" "$route" "$mode" "$rps" "$cpu"
      echo "$route $mode $rps $cpu" >>"$work/all"
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
  done
done

median() { # route mode column
  awk -v r="$1" -v m="$2" -v c="$3" '$1==r && $2==m {print $c}' "$work/all" | sort -n \
    | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo "== medians (requests/s; server CPU µs per request)"
for route in get post; do
  awk -v r="$route" \
    -v b="$(median "$route" bare 3)" -v o="$(median "$route" noop 3)" -v n="$(median "$route" netid 3)" \
    -v cb="$(median "$route" bare 4)" -v co="$(median "$route" noop 4)" -v cn="$(median "$route" netid 4)" 'BEGIN {
      printf "%-5s bare %8.0f/s %5.2f µs | noop middleware %8.0f/s %5.2f µs | netid %8.0f/s %5.2f µs\n", r, b, cb, o, co, n, cn
      printf "%-5s netid keeps %5.1f %% of bare requests/s; bare needs %5.1f %% of the CPU netid needs per request\n", r, 100 * n / b, 100 * cb / cn }'
done
