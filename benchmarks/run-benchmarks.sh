#!/usr/bin/env bash
# Runs the in-process benchmarks (benchmarks/AgentGateway.Benchmarks) against a private redis-server on loopback.
#   benchmarks/run-benchmarks.sh [BenchmarkDotNet arguments, e.g. --filter '*Governor*']
# Starts redis-server on a free port, passes it as AGW_BENCH_REDIS_PORT, stops it on exit. Bounded to 20 minutes.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/.." && pwd)
# shellcheck source=lib.sh
. "$here/lib.sh"

ensure_command redis-server redis-server

port=$(free_port)
redis_pid=
cleanup() {
  if [ -n "$redis_pid" ] && kill -0 "$redis_pid" 2>/dev/null; then
    kill "$redis_pid" 2>/dev/null || true
    wait "$redis_pid" 2>/dev/null || true
  fi
}
trap cleanup EXIT INT TERM

redis_log=$(mktemp /tmp/agw-bench-redis.XXXXXX.log)
redis-server --port "$port" --save '' --appendonly no --bind 127.0.0.1 --daemonize no --loglevel warning >"$redis_log" 2>&1 &
redis_pid=$!
if ! wait_for 20 redis-cli -h 127.0.0.1 -p "$port" ping; then
  echo "redis-server did not start on 127.0.0.1:$port:" >&2
  cat "$redis_log" >&2
  exit 1
fi
echo "redis-server $(redis-server --version | sed -E 's/.*v=([0-9.]+).*/\1/') on 127.0.0.1:$port (pid $redis_pid)"

# Context for the Redis figures: the server's own round trip with C clients, one request at a time.
if command -v redis-benchmark >/dev/null 2>&1; then
  echo "redis-benchmark, 1 client, no pipelining (raw loopback round trip, for context):"
  timeout 60 redis-benchmark -h 127.0.0.1 -p "$port" -c 1 -n 50000 -t get,incr -q | tr '\r' '\n' | grep 'requests per second'
  redis-cli -h 127.0.0.1 -p "$port" flushall >/dev/null
fi

for attempt in 1 2 3; do
  # Others may build in this tree at the same time: retry a build that fails (e.g. a file in use).
  dotnet build -c Release "$here/AgentGateway.Benchmarks/AgentGateway.Benchmarks.csproj" -nologo -v q && break
  [ "$attempt" = 3 ] && exit 1
  sleep 3
done
wait_quiet 120
cd "$here/AgentGateway.Benchmarks"
hz=$(getconf CLK_TCK)
machine0=$(machine_busy_ticks); redis0=$(awk '{ print $14 + $15 }' "/proc/$redis_pid/stat"); start=$SECONDS
rc_file=$(mktemp)
exec 3>&1  # the benchmark writes to the real stdout; the command substitution only captures `times`
# `times` reports the CPU of this subshell's children: the benchmark process.
bench_ticks=$( (AGW_BENCH_REDIS_PORT=$port timeout 1200 \
  dotnet "bin/Release/net10.0/AgentGateway.Benchmarks.dll" "$@" >&3; echo $? >"$rc_file"; times) \
  | tail -1 | awk -v hz="$hz" '{ gsub(/[ms]/, " "); print int(($1 * 60 + $2 + $3 * 60 + $4) * hz) }')
machine1=$(machine_busy_ticks); redis1=$(awk '{ print $14 + $15 }' "/proc/$redis_pid/stat")
awk -v m="$(( machine1 - machine0 ))" -v b="$bench_ticks" -v r="$(( redis1 - redis0 ))" -v hz="$hz" -v d="$(( SECONDS - start ))" 'BEGIN {
  o = m - b - r; if (o < 0) o = 0; if (d < 1) d = 1
  printf "CPU during the run (%d s): benchmark %.2f cores, redis-server %.2f cores, everything else on the machine %.2f cores\n",
    d, b / hz / d, r / hz / d, o / hz / d }'
rc=$(cat "$rc_file"); rm -f "$rc_file"
exit "$rc"
