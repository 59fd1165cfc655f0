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

run_wrk() { # mode route -> requests/s
  local script=() path=/
  # Both servers get the same request bytes, session cookie included; the bare app ignores it.
  if [ "$1" = netid ]; then
    sed -n 's/^cookie: //p' "$work/out" >"$work/cookie"
  fi
  if [ "$2" = post ]; then
    script=(-s "$work/post.lua")
    path=/profile
  fi
  wrk -t1 -c32 -d"${seconds}s" -H "Cookie: $(cat "$work/cookie")" "${script[@]}" "http://127.0.0.1:$port$path" >"$work/wrk"
  # Every answer must be a success, or the figure measures refusals.
  if grep -q "Non-2xx" "$work/wrk"; then
    cat "$work/wrk" >&2
    echo "$1 $2: non-2xx answers" >&2
    exit 1
  fi
  awk '/^Requests\/sec:/ {print $2}' "$work/wrk"
}

nproc_=$(nproc)
echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $nproc_ cores, $rounds rounds of ${seconds}s"
printf '%-6s %-6s %-5s %12s\n' round route mode 'requests/s'
for round in $(seq 1 "$rounds"); do
  # netid first: its session cookie is sent to all three.
  for mode in netid noop bare; do
    start_server "$mode"
    for route in get post; do
      rps=$(run_wrk "$mode" "$route")
      printf '%-6s %-6s %-5s %12s\n' "$round" "$route" "$mode" "$rps"
      echo "$route $mode $rps" >>"$work/all"
    done
    kill "$server"
    wait "$server" 2>/dev/null || true
  done
done

median() { # route mode
  awk -v r="$1" -v m="$2" '$1==r && $2==m {print $3}' "$work/all" | sort -n \
    | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'
}
echo "== medians"
for route in get post; do
  awk -v r="$route" -v b="$(median "$route" bare)" -v o="$(median "$route" noop)" \
    -v n="$(median "$route" netid)" 'BEGIN {
      printf "%-5s bare %8.0f/s  noop middleware %8.0f/s (%5.1f %%)  netid %8.0f/s (%5.1f %% of bare, %5.1f %% of noop)\n",
        r, b, o, 100 * o / b, n, 100 * n / b, 100 * n / o }'
done
