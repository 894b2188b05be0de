#!/usr/bin/env bash
# Profiling by subtraction: where a governed request's server time goes. Runs the same wrk throughput load
# (chat.lua, -t$THREADS -c$CONNECTIONS -d$DURATION) against
#   * the bare endpoint with the Silo's pieces added back one at a time (BARE_STEPS, see BareEndpoint),
#   * the Silo itself (started from its output directory, as in run.sh),
#   * the Silo started from the repository root (appsettings.json not found: request logging at Information).
# Prints req/s and server CPU per request for each. Servers run one at a time, on loopback, and are killed
# when their step ends (and on exit). THREADS=1 CONNECTIONS=1 gives the one-connection latency view (p50/p99).
# With ROUNDS > 1 every configuration is measured once per round (rounds interleaved, so a noisy minute hits
# all of them alike) and the median of each column is printed at the end.
#   benchmarks/wrk/ablation.sh   (env: THREADS [2] CONNECTIONS [64] DURATION [10s] WARMUP [3s] ROUNDS [1] SKIP_BUILD)
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
# shellcheck source=../lib.sh
. "$here/../lib.sh"

THREADS=${THREADS:-2}
CONNECTIONS=${CONNECTIONS:-64}
DURATION=${DURATION:-10s}
WARMUP=${WARMUP:-3s}
ROUNDS=${ROUNDS:-1}
export SESSIONS=${SESSIONS:-1000}
out=${RESULTS_DIR:-$(mktemp -d /tmp/agw-ablation.XXXXXX)}
mkdir -p "$out"
ensure_command wrk wrk

silo_dir="$root/src/Silo/bin/Release/net10.0"
bare_dir="$root/benchmarks/BareEndpoint/bin/Release/net10.0"
if [ "${SKIP_BUILD:-0}" != 1 ]; then
  dotnet build -c Release "$root/src/Silo/Silo.csproj" -nologo -v q >/dev/null
  dotnet build -c Release "$root/benchmarks/BareEndpoint/BareEndpoint.csproj" -nologo -v q >/dev/null
fi

server_pid=
cleanup() {
  if [ -n "$server_pid" ] && kill -0 "$server_pid" 2>/dev/null; then
    kill "$server_pid" 2>/dev/null || true
    wait "$server_pid" 2>/dev/null || true
  fi
  server_pid=
}
trap cleanup EXIT INT TERM

clk_tck=$(getconf CLK_TCK)
probe='{"model":"haiku","messages":[{"role":"user","content":"ping"}]}'
post() { curl -sf -X POST -H 'Content-Type: application/json' -H 'X-Session-Id: probe' -d "$probe" "$1/v1/chat/completions"; }

# measure LABEL CWD ENV-ASSIGNMENTS DLL: starts the server, warms it, measures, stops it.
measure() {
  local label=$1 cwd=$2 envs=$3 dll=$4 port url before after line requests rps machine0 machine1 wrk_ticks other
  port=$(free_port)
  url="http://127.0.0.1:$port"
  # shellcheck disable=SC2086
  (cd "$cwd" && exec env $envs dotnet "$dll" --urls "$url") >"$out/server.log" 2>&1 &
  server_pid=$!
  wait_for 30 post "$url" || { echo "$label: server did not answer" >&2; cat "$out/server.log" >&2; exit 1; }
  timeout 120 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$WARMUP" -s "$here/chat.lua" "$url/v1/chat/completions" >/dev/null
  wait_quiet 120
  before=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat"); machine0=$(machine_busy_ticks)
  wrk_ticks=$( (timeout 300 wrk -t"$THREADS" -c"$CONNECTIONS" -d"$DURATION" -s "$here/chat.lua" "$url/v1/chat/completions" >"$out/$label.txt" 2>&1; times) \
    | tail -1 | awk -v hz="$clk_tck" '{ gsub(/[ms]/, " "); print int(($1 * 60 + $2 + $3 * 60 + $4) * hz) }')
  after=$(awk '{ print $14 + $15 }' "/proc/$server_pid/stat"); machine1=$(machine_busy_ticks)
  line=$(grep '^RESULT' "$out/$label.txt")
  requests=$(sed -E 's/.* requests=([0-9]+).*/\1/' <<<"$line")
  rps=$(sed -E 's/.* rps=([^ ]+).*/\1/' <<<"$line")
  other=$(awk -v m="$(( machine1 - machine0 ))" -v s="$(( after - before ))" -v w="$wrk_ticks" -v hz="$clk_tck" \
    -v d="$(sed -E 's/.* duration_us=([0-9]+).*/\1/' <<<"$line")" 'BEGIN { o = m - s - w; if (o < 0) o = 0; printf "%.2f", o / hz / (d / 1e6) }')
  local cpu p50 p99
  cpu=$(( (after - before) * 1000000 / clk_tck / requests ))
  p50=$(sed -E 's/.* p50_us=([^ ]+).*/\1/' <<<"$line")
  p99=$(sed -E 's/.* p99_us=([^ ]+).*/\1/' <<<"$line")
  printf '%-44s %10s %12s %8s %8s %14s\n' "$label" "$rps" "$cpu" "$p50" "$p99" "$other" | tee -a "$out/summary.txt"
  printf '%s|%s|%s|%s|%s|%s|%s\n' "$order" "$label" "$rps" "$cpu" "$p50" "$p99" "$other" >>"$out/all.psv"
  order=$(( order + 1 ))
  cleanup
}

bare="$bare_dir/AgentGateway.BareEndpoint.dll"
silo="$root/src/Silo/bin/Release/net10.0/AgentGateway.Silo.dll"
budget="Governance__TokenBudget=1000000000000"
echo "== wrk -t$THREADS -c$CONNECTIONS -d$DURATION -s chat.lua, $(nproc) cores, $(date -u +%Y-%m-%dT%H:%MZ); results in $out"
header() { printf '%-44s %10s %12s %8s %8s %14s\n' "server" "req/s" "CPU us/req" "p50 us" "p99 us" "others (cores)"; }
header | tee "$out/summary.txt"
order=0
for round in $(seq 1 "$ROUNDS"); do
  [ "$ROUNDS" -gt 1 ] && echo "-- round $round of $ROUNDS" | tee -a "$out/summary.txt"
  order=0
  measure "bare (parse + canned answer)"            "$bare_dir" "BARE_STEPS=" "$bare"
  measure "+ Silo middleware (defaults)"             "$bare_dir" "BARE_STEPS=defaults" "$bare"
  measure "+ map (ChatRequestMapper)"                "$bare_dir" "BARE_STEPS=defaults,map" "$bare"
  measure "+ AdmitAsync (actor turn)"                "$bare_dir" "BARE_STEPS=defaults,map,admit" "$bare"
  measure "+ sim model call"                         "$bare_dir" "BARE_STEPS=defaults,map,admit,call" "$bare"
  measure "+ Settle (one-way turn)"                  "$bare_dir" "BARE_STEPS=defaults,map,admit,call,settle" "$bare"
  measure "+ written completion (as the Silo)"       "$bare_dir" "BARE_STEPS=defaults,map,admit,call,settle,write" "$bare"
  measure "Silo (cwd = output dir)"                  "$silo_dir" "$budget" "$silo"
  measure "Silo (cwd = repo root: no appsettings)"   "$root"     "$budget" "$silo"
done

if [ "$ROUNDS" -gt 1 ]; then
  echo "-- median of $ROUNDS rounds" | tee -a "$out/summary.txt"
  header | tee -a "$out/summary.txt"
  sort -t'|' -k1,1n "$out/all.psv" | awk -F'|' '
    function median(list,   n, a, i, j, t) {
      n = split(list, a, " ")
      for (i = 1; i <= n; i++) for (j = i + 1; j <= n; j++) if (a[j] + 0 < a[i] + 0) { t = a[i]; a[i] = a[j]; a[j] = t }
      return n % 2 ? a[(n + 1) / 2] : (a[n / 2] + a[n / 2 + 1]) / 2
    }
    { if (!($1 in label)) { label[$1] = $2; n++ } rps[$1] = rps[$1] " " $3; cpu[$1] = cpu[$1] " " $4; p50[$1] = p50[$1] " " $5; p99[$1] = p99[$1] " " $6; oth[$1] = oth[$1] " " $7 }
    END { for (k = 0; k < n; k++) printf "%-44s %10.1f %12s %8s %8s %14s\n", label[k], median(rps[k]), median(cpu[k]), median(p50[k]), median(p99[k]), median(oth[k]) }' \
    | tee -a "$out/summary.txt"
fi
