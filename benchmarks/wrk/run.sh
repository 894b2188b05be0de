#!/usr/bin/env bash
# Load test of POST /v1/chat/completions: the governed gateway (Silo) against a bare Kestrel endpoint that parses
# the same body and answers a canned completion (benchmarks/BareEndpoint), in the same run, on loopback only.
#
#   benchmarks/wrk/run.sh
#
# Environment (defaults in brackets):
#   THREADS [2] CONNECTIONS [64] DURATION [15s]   throughput runs:  wrk -t$THREADS -c$CONNECTIONS -d$DURATION
#   LATENCY_DURATION [10s]                         latency runs:     wrk -t1 -c1 -d$LATENCY_DURATION --latency
#   WARMUP [25s]                                   a throughput-shaped warm-up right before each server's run (JIT), not reported
#   SESSIONS [1000]                                X-Session-Id pool used by chat.lua
#   TOKEN_BUDGET [1000000000000]                   Governance__TokenBudget for the Silo, raised so that ~1000
#                                                  sessions at full speed never trip on token velocity
#   SILO_FROM_REPO_ROOT [0]                        1: start the Silo with the repository root as its working
#                                                  directory (appsettings.json not found; for comparison)
#   SKIP_BUILD [0]  RESULTS_DIR [mktemp]
# Both servers are killed on exit (trap). Every wrk run is bounded by its -d plus a timeout.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-15s}
LATENCY_DURATION=${LATENCY_DURATION:-10s}
WARMUP=${WARMUP:-25s}
export SESSIONS=${SESSIONS:-1000}
TOKEN_BUDGET=${TOKEN_BUDGET:-1000000000000}
SILO_FROM_REPO_ROOT=${SILO_FROM_REPO_ROOT:-0}
out=${RESULTS_DIR:-$(mktemp -d /tmp/agw-wrk.XXXXXX)}
mkdir -p "$out"

ensure_command wrk wrk
ensure_command curl curl

silo_dir="$root/src/Silo/bin/Release/net10.0"
bare_dir="$root/benchmarks/BareEndpoint/bin/Release/net10.0"

build() {
  # Others may build in this tree at the same time: retry a build that fails (e.g. a file in use).
  local project=$1
  for attempt in 1 2 3; do
    if dotnet build -c Release "$root/$project" -nologo -v q >"$out/build.log" 2>&1; then
      return 0
    fi
    echo "build of $project failed (attempt $attempt); retrying" >&2
    sleep 3
  done
  cat "$out/build.log" >&2
  return 1
}

if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== building Release"
  build src/Silo/Silo.csproj
  build benchmarks/BareEndpoint/BareEndpoint.csproj
fi

silo_port=$(free_port)
bare_port=$(free_port)
while [ "$bare_port" = "$silo_port" ]; do bare_port=$(free_port); done
silo_url="http://127.0.0.1:$silo_port"
bare_url="http://127.0.0.1:$bare_port"

silo_pid=
bare_pid=
cleanup() {
  for pid in $silo_pid $bare_pid; do
    if kill -0 "$pid" 2>/dev/null; then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
    fi
  done
}
trap cleanup EXIT INT TERM

# The Silo reads appsettings.json (logging levels) from its content root, the working directory: start it
# from its output directory, which is what `dotnet AgentGateway.Silo.dll` in a deployment does.
silo_cwd=$silo_dir
[ "$SILO_FROM_REPO_ROOT" = 1 ] && silo_cwd=$root
(cd "$silo_cwd" && exec env Governance__TokenBudget="$TOKEN_BUDGET" \
  dotnet "$silo_dir/AgentGateway.Silo.dll" --urls "$silo_url") >"$out/silo.log" 2>&1 &
silo_pid=$!
(cd "$bare_dir" && exec dotnet "$bare_dir/AgentGateway.BareEndpoint.dll" --urls "$bare_url") >"$out/bare.log" 2>&1 &
bare_pid=$!

probe='{"model":"haiku","messages":[{"role":"user","content":"ping"}]}'
post() { curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Session-Id: probe' -d "$probe" "$1/v1/chat/completions"; }
wait_for 30 post "$silo_url" || { echo "the Silo did not answer on $silo_url" >&2; cat "$out/silo.log" >&2; exit 1; }
wait_for 30 post "$bare_url" || { echo "the bare endpoint did not answer on $bare_url" >&2; cat "$out/bare.log" >&2; exit 1; }
echo "== Silo on $silo_url (pid $silo_pid, cwd $silo_cwd, Governance__TokenBudget=$TOKEN_BUDGET); bare endpoint on $bare_url (pid $bare_pid)"

model_calls() { curl -sf "$silo_url/admin/models" | grep -o '"calls":[0-9]*' | cut -d: -f2 | awk '{ s += $1 } END { print s + 0 }'; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$1/stat"; }
clk_tck=$(getconf CLK_TCK)
seconds_of() { local d=$1; case $d in *s) echo "${d%s}";; *m) echo $(( ${d%m} * 60 ));; *) echo "$d";; esac; }

# run NAME PID URL wrk-args...: waits for a quiet machine, runs wrk (bounded), keeps its output, and writes
# the RESULT line plus CPU accounting: server CPU per request, and the cores used during the run by the
# server, by wrk, and by everything else on the machine (others' builds and tests: should be ~0).
run() {
  local name=$1 pid=$2 url=$3; shift 3
  local server0 server1 machine0 machine1 line requests seconds wrk_ticks
  wait_quiet 120
  server0=$(cpu_ticks "$pid"); machine0=$(machine_busy_ticks)
  # `times` in the subshell reports the CPU of its children (timeout and wrk).
  wrk_ticks=$( (timeout 300 wrk "$@" -s "$here/chat.lua" "$url/v1/chat/completions" >"$out/$name.txt" 2>&1; times) \
    | tail -1 | awk -v hz="$clk_tck" '{ gsub(/[ms]/, " "); print int(($1 * 60 + $2 + $3 * 60 + $4) * hz) }')
  server1=$(cpu_ticks "$pid"); machine1=$(machine_busy_ticks)
  line=$(grep '^RESULT' "$out/$name.txt")
  requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
  seconds=$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")
  awk -v l="$line" -v s="$(( server1 - server0 ))" -v m="$(( machine1 - machine0 ))" -v w="$wrk_ticks" \
      -v r="$requests" -v d="$seconds" -v hz="$clk_tck" 'BEGIN {
    d = d / 1e6; if (r < 1) r = 1; other = m - s - w; if (other < 0) other = 0
    printf "%s cpu_us_per_req=%d server_cores=%.2f wrk_cores=%.2f other_cores=%.2f\n",
      l, s * 1e6 / hz / r, s / hz / d, w / hz / d, other / hz / d }' >"$out/$name.result"
}
field() { sed -E "s/.* $2=([^ ]+).*/\1/" "$out/$1.result"; }

calls_before=$(model_calls)
load_before=$(cut -d' ' -f1-3 /proc/loadavg)

# Each server is warmed right before its own throughput run: both take 15-20 s of load to reach their steady rate on
# 2 cores (tiered JIT), and a server left idle while the other one runs starts its measurement below it again.
echo "== warm-up + throughput, one server after the other: wrk -t$THREADS -c$CONNECTIONS -d$WARMUP, then -d$DURATION -s chat.lua"
run warm-bare "$bare_pid" "$bare_url" -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP"
run tput-bare "$bare_pid" "$bare_url" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"
run warm-silo "$silo_pid" "$silo_url" -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP"
run tput-silo "$silo_pid" "$silo_url" -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION"

echo "== latency: wrk -t1 -c1 -d$LATENCY_DURATION --latency -s chat.lua"
run lat-bare "$bare_pid" "$bare_url" -t1 -c1 -d"$LATENCY_DURATION" --latency
run lat-silo "$silo_pid" "$silo_url" -t1 -c1 -d"$LATENCY_DURATION" --latency

calls_after=$(model_calls)
silo_requests=$(( $(field warm-silo requests) + $(field tput-silo requests) + $(field lat-silo requests) ))
silo_errors=0
for r in warm-silo tput-silo lat-silo; do
  silo_errors=$(( silo_errors + $(field $r non2xx) + $(field $r read_err) + $(field $r write_err) + $(field $r timeouts) ))
done
session_view=$(curl -sf "$silo_url/admin/sessions/bench-0000" || echo '{}')
session_status=$(grep -o '"status":"[a-z]*"' <<<"$session_view" | cut -d'"' -f4)
session_calls=$(grep -o '"modelCalls":[0-9]*' <<<"$session_view" | cut -d: -f2)
tripped_lines=$(grep -c 'tripped' "$out/silo.log" || true)

tb=$(field tput-bare rps); ts=$(field tput-silo rps)
b50=$(field lat-bare p50_us); s50=$(field lat-silo p50_us)
b99=$(field lat-bare p99_us); s99=$(field lat-silo p99_us)
pct=$(awk -v s="$ts" -v b="$tb" 'BEGIN { printf "%.1f", 100 * s / b }')
add50=$(( s50 - b50 )); add99=$(( s99 - b99 ))
verdict() { if [ "$1" = 1 ]; then echo "met"; else echo "MISSED"; fi; }

{
  echo
  echo "== summary ($(date -u +%Y-%m-%dT%H:%MZ); $(nproc) cores; loadavg before: $load_before; results in $out)"
  printf '%-34s %14s %14s\n' "" "bare endpoint" "governed Silo"
  printf '%-34s %14s %14s\n' "throughput req/s (-c$CONNECTIONS)" "$tb" "$ts"
  printf '%-34s %14s %14s\n' "  server CPU per request (us)" "$(field tput-bare cpu_us_per_req)" "$(field tput-silo cpu_us_per_req)"
  printf '%-34s %14s %14s\n' "  cores used: server / wrk / others" \
    "$(field tput-bare server_cores)/$(field tput-bare wrk_cores)/$(field tput-bare other_cores)" \
    "$(field tput-silo server_cores)/$(field tput-silo wrk_cores)/$(field tput-silo other_cores)"
  printf '%-34s %14s %14s\n' "  mean latency (us)" "$(field tput-bare mean_us)" "$(field tput-silo mean_us)"
  printf '%-34s %14s %14s\n' "  p99 latency (us)" "$(field tput-bare p99_us)" "$(field tput-silo p99_us)"
  printf '%-34s %14s %14s\n' "latency p50 (us, -c1)" "$b50" "$s50"
  printf '%-34s %14s %14s\n' "latency p90 (us, -c1)" "$(field lat-bare p90_us)" "$(field lat-silo p90_us)"
  printf '%-34s %14s %14s\n' "latency p99 (us, -c1)" "$b99" "$s99"
  printf '%-34s %14s %14s\n' "  cores used by others during -c1" "$(field lat-bare other_cores)" "$(field lat-silo other_cores)"
  printf '%-34s %14s %14s\n' "requests/s at -c1" "$(field lat-bare rps)" "$(field lat-silo rps)"
  echo
  echo "added latency at one connection (governed - bare): p50 ${add50} us, p99 ${add99} us"
  echo "governed model calls: sim models counted $(( calls_after - calls_before )) calls for $silo_requests completed governed requests (wrk counts only completed responses); non-2xx/socket errors: $silo_errors"
  echo "session bench-0000 after the run: status=${session_status:-?} modelCalls=${session_calls:-?}; 'tripped' log lines: $tripped_lines"
  echo
  echo "targets (reported, not asserted):"
  echo "  governed throughput >= 20,000 req/s:        $ts  -> $(verdict "$(awk -v s="$ts" 'BEGIN { print (s >= 20000) }')")"
  echo "  governed >= 40 % of bare:                   ${pct} %  -> $(verdict "$(awk -v p="$pct" 'BEGIN { print (p >= 40) }')")"
  echo "  p99 added latency <= 1 ms at one connection: ${add99} us  -> $(verdict "$(( add99 <= 1000 ? 1 : 0 ))")"
} | tee "$out/summary.txt"
