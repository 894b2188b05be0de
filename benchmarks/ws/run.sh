#!/usr/bin/env bash
# Concurrent streaming WebSocket sessions on one node: starts a fresh Silo (Release) per level on a loopback port,
# drives it with agent-loadgen (tools/LoadGen, Release) and prints one Markdown row per level.
#
#   benchmarks/ws/run.sh                      levels 1000 5000 10000
#   LEVELS="1000 5000 10000 15000" benchmarks/ws/run.sh
#
# Environment (defaults in brackets):
#   LEVELS ["1000 5000 10000"]   concurrent sessions per level (a fresh node each)
#   RATE [500]                   connects a second during the ramp
#   SETTLE [10s] HOLD [60s]      wait after the ramp, then the measured window
#   STALL [5s]                   a session with no token for longer is not streaming
#   TEXT ["[[sim:tokens=100000]] [[sim:pace=1000]]"]   every session streams one token a second
#   NODE_ARGS [""]               extra Silo arguments, e.g. "--Governance:TokenBudget=1000000"
#   SKIP_BUILD [0]  RESULTS_DIR [mktemp]  QUIET_WAIT [60]  (seconds to wait for a quiet machine; 0: don't)
# Every client socket and every server socket is a file descriptor, in two processes: each needs N + a few
# hundred. The script raises the soft limit to the hard one (ulimit -Hn; 20000 on the build machine), so one
# node holds at most ~19,500 sessions here; beyond that raise the hard limit as root. The loopback ephemeral
# port range (net.ipv4.ip_local_port_range, 32768-60999 by default: ~28,000 ports) bounds one client address.
# The node is killed on exit (trap); the load generator ends by itself after its hold.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

LEVELS=${LEVELS:-"1000 5000 10000"}
RATE=${RATE:-500}
SETTLE=${SETTLE:-10s}
HOLD=${HOLD:-60s}
STALL=${STALL:-5s}
TEXT=${TEXT:-"[[sim:tokens=100000]] [[sim:pace=1000]]"}
NODE_ARGS=${NODE_ARGS:-}
QUIET_WAIT=${QUIET_WAIT:-60}
out=${RESULTS_DIR:-$(mktemp -d /tmp/agw-ws.XXXXXX)}
mkdir -p "$out"

ensure_command curl curl
ulimit -n "$(ulimit -Hn)"
echo "== open files: soft $(ulimit -n), hard $(ulimit -Hn); ephemeral ports $(tr '\t' '-' < /proc/sys/net/ipv4/ip_local_port_range); results in $out"

silo_dir="$root/src/Silo/bin/Release/net10.0"
loadgen="$root/tools/LoadGen/bin/Release/net10.0/agent-loadgen.dll"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  echo "== building Release"
  for project in src/Silo/Silo.csproj tools/LoadGen/LoadGen.csproj; do
    dotnet build -c Release "$root/$project" -nologo -v q >"$out/build.log" 2>&1 || { cat "$out/build.log" >&2; exit 1; }
  done
fi

silo_pid=
stop_node() {
  if [ -n "$silo_pid" ] && kill -0 "$silo_pid" 2>/dev/null; then
    kill "$silo_pid" 2>/dev/null || true
    wait "$silo_pid" 2>/dev/null || true
  fi
  silo_pid=
}
trap stop_node EXIT INT TERM

reports=()
for level in $LEVELS; do
  port=$(free_port)
  url="http://127.0.0.1:$port"
  # From its output directory: appsettings.json (log levels) is read from there, as in a deployment.
  # shellcheck disable=SC2086
  (cd "$silo_dir" && exec dotnet AgentGateway.Silo.dll --urls "$url" $NODE_ARGS) >"$out/silo-$level.log" 2>&1 &
  silo_pid=$!
  if ! wait_for 30 curl -sf "$url/health"; then
    echo "the node did not start; see $out/silo-$level.log" >&2
    exit 1
  fi
  [ "$QUIET_WAIT" -gt 0 ] && wait_quiet "$QUIET_WAIT"
  echo "== level $level (node pid $silo_pid, $url)"
  report="$out/ws-$level.json"
  dotnet "$loadgen" ws --url "$url" --sessions "$level" --rate "$RATE" --settle "$SETTLE" --duration "$HOLD" \
    --stall "$STALL" --text "$TEXT" --node-pid "$silo_pid" --report "$report" \
    >"$out/ws-$level.txt" 2>"$out/ws-$level.progress"
  cat "$out/ws-$level.txt"
  reports+=("$report")
  if ! kill -0 "$silo_pid" 2>/dev/null; then
    # The node ended during the level (it should still be running): say how, with its last log lines.
    status=0; wait "$silo_pid" || status=$?
    echo "!! the node (pid $silo_pid) ended during level $level with exit status $status; its log ends:" >&2
    tail -5 "$out/silo-$level.log" >&2
    silo_pid=
  fi
  stop_node
done

echo
echo "== $(date -u +%Y-%m-%dT%H:%MZ), $(nproc) CPUs, levels: $LEVELS, rate $RATE/s, settle $SETTLE, hold $HOLD, stall $STALL"
echo "   text: $TEXT"
dotnet "$loadgen" table "${reports[@]}" | tee "$out/table.md"
echo "results: $out"
