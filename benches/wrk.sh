#!/usr/bin/env bash
# Requests per second over real sockets: the same hello-world axum app bare, behind a no-op
# middleware, and behind the full netid stack with a signed-in 网证 user
# (examples/load_target.rs), under `wrk -t1 -c32`. Figures go to benches/README.md.
#
#   bash benches/wrk.sh [ROUNDS] [SECONDS]      (default 15 rounds of 3 s per server and route)
#   PIN=1 bash benches/wrk.sh …                  (each server on core 1 with one worker thread,
#                                                 wrk alone on core 0: latency without the two
#                                                 fighting over a core)
#
# The three servers run side by side (an idle one costs nothing) and wrk visits them in turn,
# a few seconds each: this shared machine changes speed in phases of tens of seconds, so only
# figures taken seconds apart compare. Each round gives a ratio netid / bare; the median ratio
# over the rounds is the figure.
set -euo pipefail
cd "$(dirname "$0")/.."
rounds="${1:-15}"
seconds="${2:-3}"
base_port=18088

if ! command -v wrk >/dev/null 2>&1; then
  echo "== installing wrk"
  export DEBIAN_FRONTEND=noninteractive
  apt-get install -y -qq wrk >/dev/null 2>&1 || { apt-get update -qq && apt-get install -y -qq wrk >/dev/null; }
fi

cargo build --release --example load_target --features axum,sandbox,redis 2>/dev/null
bin=target/release/examples/load_target
work="$(mktemp -d)"
pids=()
trap 'kill "${pids[@]}" 2>/dev/null || true; rm -rf "$work"' EXIT

# The POST body: 170 bytes of profile JSON with no identity data, as in benches/middleware.rs.
cat >"$work/post.lua" <<'LUA'
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"nickname":"bob","address":{"city":"杭州","street":"文三路 90 号"},"phone":"13800138000","items":[{"sku":"A-1","qty":2},{"sku":"B-7","qty":1}],"note":"请尽快发货"}'
LUA

server_prefix=()
wrk_prefix=()
if [ "${PIN:-0}" = 1 ]; then
  server_prefix=(env TOKIO_WORKER_THREADS=1 taskset -c 1)
  wrk_prefix=(taskset -c 0)
fi

# netid-redis: revocations and pending logins in the machine's Redis, as many instances run it.
modes=(netid netid-redis noop bare)
declare -A port pid
i=0
for mode in "${modes[@]}"; do
  port[$mode]=$((base_port + i))
  i=$((i + 1))
  "${server_prefix[@]}" "$bin" "$mode" "${port[$mode]}" >"$work/$mode.out" 2>&1 &
  pid[$mode]=$!
  pids+=("$!")
  for _ in $(seq 1 100); do
    grep -q "^listening" "$work/$mode.out" && break
    sleep 0.1
  done
  grep -q "^listening" "$work/$mode.out" || { cat "$work/$mode.out" >&2; exit 1; }
done
# Each netid server signed its own user in and printed its own session cookie; bare and noop get
# the same bytes as netid (they ignore them). A cookie a server does not accept would be served
# as anonymous after a full token check on every request, so each is checked first.
declare -A cookie
for mode in "${modes[@]}"; do
  cookie[$mode]="$(sed -n 's/^cookie: //p' "$work/$mode.out")"
  [ -n "${cookie[$mode]}" ] || cookie[$mode]="$(sed -n 's/^cookie: //p' "$work/netid.out")"
done
for mode in netid netid-redis; do
  status=$(curl -s -o /dev/null -w '%{http_code}' -H "Cookie: ${cookie[$mode]}" \
    "http://127.0.0.1:${port[$mode]}/whoami")
  [ "$status" = 200 ] || { echo "$mode does not accept its session cookie ($status)" >&2; exit 1; }
done

cpu_ticks() { # pid -> user+system clock ticks used so far
  awk '{print $14 + $15}' "/proc/$1/stat"
}

run_wrk() { # mode route -> "requests/s server-CPU-µs-per-request p99-µs"
  local script=() path=/ before after
  if [ "$2" = post ]; then
    script=(-s "$work/post.lua")
    path=/profile
  fi
  before=$(cpu_ticks "${pid[$1]}")
  "${wrk_prefix[@]}" wrk -t1 -c32 -d"${seconds}s" --latency -H "Cookie: ${cookie[$1]}" "${script[@]}" \
    "http://127.0.0.1:${port[$1]}$path" >"$work/wrk"
  after=$(cpu_ticks "${pid[$1]}")
  # Every answer must be a success, or the figure measures refusals.
  if grep -q "Non-2xx" "$work/wrk"; then
    cat "$work/wrk" >&2
    echo "$1 $2: non-2xx answers" >&2
    exit 1
  fi
  awk -v t="$((after - before))" -v hz="$(getconf CLK_TCK)" '
    function us(v) {
      if (v ~ /us$/) return v + 0; if (v ~ /ms$/) return 1000 * v; if (v ~ /s$/) return 1e6 * v
      return v + 0
    }
    /requests in/ {n = $1}
    /^Requests\/sec:/ {rps = $2}
    $1 == "99%" {p99 = us($2)}
    END {printf "%.0f %.2f %.0f\n", rps, 1e6 * t / hz / n, p99}' "$work/wrk"
}

echo "wrk $(wrk -v 2>&1 | head -1 | awk '{print $2}'), $(nproc) cores, $rounds rounds of ${seconds}s per server and route, pinned: ${PIN:-0}"
printf '%-6s %-5s %-11s %12s %14s %8s\n' round route mode 'requests/s' 'server µs/req' 'p99 µs'
for round in $(seq 1 "$rounds"); do
  for route in get post; do
    for mode in "${modes[@]}"; do
      read -r rps cpu p99 < <(run_wrk "$mode" "$route")
      printf '%-6s %-5s %-11s %12s %14s %8s\n' "$round" "$route" "$mode" "$rps" "$cpu" "$p99"
      echo "$round $route $mode $rps $cpu $p99" >>"$work/all"
    done
  done
done

median() { sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
echo "== medians over $rounds rounds"
for route in get post; do
  for mode in "${modes[@]}"; do
    rps=$(awk -v r="$route" -v m="$mode" '$2==r && $3==m {print $4}' "$work/all" | median)
    cpu=$(awk -v r="$route" -v m="$mode" '$2==r && $3==m {print $5}' "$work/all" | median)
    p99=$(awk -v r="$route" -v m="$mode" '$2==r && $3==m {print $6}' "$work/all" | median)
    printf '%-5s %-11s %10s requests/s  %6s µs CPU/request  p99 %6s µs\n' "$route" "$mode" "$rps" "$cpu" "$p99"
  done
  # Ratios within a round, where the machine ran at one speed.
  for mode in netid netid-redis noop; do
    ratio=$(awk -v r="$route" -v m="$mode" '
      $2==r && $3==m {x[$1]=$4} $2==r && $3=="bare" {b[$1]=$4}
      END {for (k in x) if (b[k] > 0) printf "%.4f\n", x[k] / b[k]}' "$work/all" | median)
    printf '%-5s %-11s keeps %5.1f %% of bare requests/s (median of the rounds'"'"' ratios)\n' \
      "$route" "$mode" "$(awk -v r="$ratio" 'BEGIN {print 100 * r}')"
  done
done
