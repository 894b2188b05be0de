#!/usr/bin/env bash
# Throughput of governed POST /v1/chat/completions calls (benchmarks/wrk/chat.lua) in two comparisons, on loopback:
#
#   A. one node, embedded (in-memory state, no Redis) against durable (DynamoDB API via dynalite + Redis), in the
#      same run, alternating ROUNDS times (A B A B ...), wrk straight at the node;
#   B. 1, 2 and 3 durable nodes behind nginx (deploy/local-cluster.sh), wrk at nginx.
#
#   benchmarks/cluster/run.sh
#
# Environment (defaults in brackets):
#   THREADS [2] CONNECTIONS [64] DURATION [20s] WARMUP [5s]   wrk -t$THREADS -c$CONNECTIONS -d$DURATION
#   ROUNDS [2]           embedded/durable alternations in A
#   NODE_COUNTS [1 2 3]  cluster sizes in B
#   SESSIONS [1000]      X-Session-Id pool of chat.lua (nginx hashes on it)
#   TOKEN_BUDGET [1000000000000]  raised so that no session trips on velocity at full speed
#   PARTS [A B]          which comparisons to run
#   RESULTS_DIR [mktemp]
# Everything it starts is stopped on exit (local-cluster.sh stop; the embedded node by PID).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-20s}
WARMUP=${WARMUP:-5s}
ROUNDS=${ROUNDS:-2}
NODE_COUNTS=${NODE_COUNTS:-1 2 3}
PARTS=${PARTS:-A B}
export SESSIONS=${SESSIONS:-1000}
export Governance__TokenBudget=${TOKEN_BUDGET:-1000000000000}
# Logging at Warning: a log line per request would measure the console, not the gateway.
export Logging__LogLevel__Default=Warning
out=${RESULTS_DIR:-$(mktemp -d /tmp/agw-cluster-bench.XXXXXX)}
mkdir -p "$out"
export LOCAL_CLUSTER_DIR="$out/cluster"

ensure_command wrk wrk
ensure_command curl curl

echo "== publishing the node (Release)"
dotnet publish "$root/src/Silo/Silo.csproj" -c Release -o "$out/silo" -nologo -v q >"$out/publish.log" 2>&1 \
  || { cat "$out/publish.log" >&2; exit 1; }
export SILO_DLL="$out/silo/AgentGateway.Silo.dll"

embedded_pid=
cleanup() {
  if [ -n "$embedded_pid" ] && kill -0 "$embedded_pid" 2>/dev/null; then
    kill "$embedded_pid" 2>/dev/null || true
    wait "$embedded_pid" 2>/dev/null || true
  fi
  "$root/deploy/local-cluster.sh" stop >/dev/null 2>&1 || true
}
trap cleanup EXIT INT TERM

machine_cpu() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 }' /proc/stat; }

# "name pid" of every process to account CPU to: the cluster's (from local-cluster.sh's PID files) or the embedded node.
processes() {
  if [ -n "$embedded_pid" ]; then echo "node $embedded_pid"; fi
  for f in "$LOCAL_CLUSTER_DIR"/pids/*.pid; do
    [ -e "$f" ] || continue
    echo "$(basename "$f" .pid | sed 's/^node[0-9]*$/node/') $(awk '{ print $1 }' "$f")"
  done
}

# CPU ticks (user + system) of each process group, with its direct children (nginx's workers): "name ticks" lines.
process_ticks() {
  processes | while read -r name pid; do
    for p in "$pid" $(pgrep -P "$pid" || true); do
      [ -r "/proc/$p/stat" ] && echo "$name $(awk '{ print $14 + $15 }' "/proc/$p/stat")"
    done
  done | awk '{ t[$1] += $2 } END { for (n in t) print n, t[n] }' | sort
}

# wrk at $1 for $DURATION after a warm-up; prints "rps p50_ms p99_ms non2xx errors cores" (cores: whole machine).
measure() {
  local url=$1 name=$2
  timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$root/benchmarks/wrk/chat.lua" "$url" >/dev/null 2>&1 || true
  local c0 t0 c1 t1
  process_ticks >"$out/$name.cpu0"
  c0=$(machine_cpu); t0=$(date +%s.%N)
  timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" --latency -s "$root/benchmarks/wrk/chat.lua" "$url" >"$out/$name.wrk" 2>&1
  c1=$(machine_cpu); t1=$(date +%s.%N)
  process_ticks >"$out/$name.cpu1"
  # Cores each kind of process used during the run (nodes summed), e.g. "node 1.10 dynalite 0.62 redis 0.05 nginx 0.08".
  join "$out/$name.cpu0" "$out/$name.cpu1" | awk -v hz="$(getconf CLK_TCK)" -v d="$(awk -v a="$t0" -v b="$t1" 'BEGIN { print b - a }')" \
    '{ printf "%s%s %.2f", (NR > 1 ? " " : ""), $1, ($3 - $2) / hz / d } END { print "" }' >"$out/$name.cores"
  awk -v c="$(( c1 - c0 ))" -v hz="$(getconf CLK_TCK)" -v t0="$t0" -v t1="$t1" '/^RESULT/ {
    for (i = 2; i <= NF; i++) { split($i, kv, "="); r[kv[1]] = kv[2] }
    printf "%.0f %.2f %.2f %d %d %.2f", r["rps"], r["p50_us"] / 1000, r["p99_us"] / 1000, r["non2xx"],
      r["connect_err"] + r["read_err"] + r["write_err"] + r["timeouts"], c / hz / (t1 - t0) }' "$out/$name.wrk"
  echo " $(tr ' ' '_' <"$out/$name.cores")"
}

row() { # name, then measure's fields
  printf '| %s | %s | %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "$3" "$4" "$5" "$6" "$7" "${8//_/ }" | tee -a "$out/table.md"
}

if [[ " $PARTS " == *" A "* ]]; then
  echo
  echo "== A. one node: embedded against durable (dynalite + Redis), $ROUNDS rounds, wrk -t$THREADS -c$CONNECTIONS -d$DURATION"
  echo "| run | req/s | p50 ms | p99 ms | non-2xx | socket errors | machine cores busy | cores by process |" | tee -a "$out/table.md"
  echo "|---|---|---|---|---|---|---|---|" | tee -a "$out/table.md"
  for round in $(seq 1 "$ROUNDS"); do
    port=$(free_port)
    (cd "$out/silo" && exec env ASPNETCORE_URLS="http://127.0.0.1:$port" Alerts__OutboxDirectory="$out/embedded-alerts" \
      dotnet "$SILO_DLL" >"$out/embedded-$round.log" 2>&1) &
    embedded_pid=$!
    wait_for 60 curl -fsS "http://127.0.0.1:$port/health" || { cat "$out/embedded-$round.log" >&2; exit 1; }
    # shellcheck disable=SC2046
    row "embedded, round $round" $(measure "http://127.0.0.1:$port" "embedded-$round")
    kill "$embedded_pid"; wait "$embedded_pid" 2>/dev/null || true; embedded_pid=

    port=$(free_port)
    NODE_PORTS=$port "$root/deploy/local-cluster.sh" start 1 >"$out/durable-$round.start.log" 2>&1 \
      || { cat "$out/durable-$round.start.log" >&2; exit 1; }
    # shellcheck disable=SC2046
    row "durable, round $round" $(measure "http://127.0.0.1:$port" "durable-$round")
    "$root/deploy/local-cluster.sh" stop --purge >/dev/null 2>&1
  done
fi

if [[ " $PARTS " == *" B "* ]]; then
  echo
  echo "== B. durable nodes behind nginx, wrk -t$THREADS -c$CONNECTIONS -d$DURATION at nginx"
  echo "| nodes | req/s | p50 ms | p99 ms | non-2xx | socket errors | machine cores busy | cores by process |" | tee -a "$out/table.md"
  echo "|---|---|---|---|---|---|---|---|" | tee -a "$out/table.md"
  for n in $NODE_COUNTS; do
    lb=$(free_port)
    LB_PORT=$lb "$root/deploy/local-cluster.sh" start "$n" >"$out/cluster-$n.start.log" 2>&1 \
      || { cat "$out/cluster-$n.start.log" >&2; exit 1; }
    # shellcheck disable=SC2046
    row "$n" $(measure "http://127.0.0.1:$lb" "cluster-$n")
    "$root/deploy/local-cluster.sh" stop --purge >/dev/null 2>&1
  done
fi

echo
echo "results: $out (table.md, one .wrk file per run)"
