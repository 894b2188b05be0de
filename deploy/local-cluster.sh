#!/usr/bin/env bash
# A gateway cluster on this machine, as local processes on loopback: dynalite (the DynamoDB API), redis-server,
# N gateway nodes and nginx in front of them (deploy/nginx/nginx.conf with the local node list). No container.
#
#   deploy/local-cluster.sh start [N]      build (dotnet publish, once), start everything, print the URLs (N = 3)
#   deploy/local-cluster.sh status         what runs, the nodes the cluster knows (GET /admin/nodes)
#   deploy/local-cluster.sh kill-node I    SIGKILL node I (a crash: try failover with agent-loadgen mix)
#   deploy/local-cluster.sh start-node I   start node I again (same id, port and data)
#   deploy/local-cluster.sh stop           stop exactly the processes this script started (by their PIDs)
#   deploy/local-cluster.sh stop --purge   ... and delete the state directory (dynalite's data, logs)
#
# Environment (all optional):
#   LOCAL_CLUSTER_DIR   state: PIDs, logs, dynalite data, nginx config       [<repo>/.local-cluster]
#   LB_PORT             nginx's port                                         [8080 if free, else a free one]
#   NODE_PORTS          the nodes' ports, space-separated                    [free ports]
#   DYNALITE_PORT, REDIS_PORT                                                [free ports]
#   STORAGE             Storage:Provider of the nodes: DynamoDb or InMemory  [DynamoDb]
#                       DynamoDb: the nodes form one Orleans cluster (Cluster:Membership=Redis); InMemory: each
#                       node is a one-silo cluster of its own (nothing shared but the cache and limits)
#   SILO_DLL            a built AgentGateway.Silo.dll to run instead of publishing one
#   ALERTS_SINKS        Alerts:Sinks                                         [log]
#   SLACK_WEBHOOK_URL   Alerts:Slack:WebhookUrl (with ALERTS_SINKS=log,slack)
#
# Everything listens on 127.0.0.1 only and the nodes see nginx as a loopback caller: without keys they answer anyone
# who can reach nginx. That is fine on a developer machine; never publish LB_PORT beyond it (deploy/README.md).
# Needs: the .NET 10 SDK, node (dynalite: `cd tools/servers && npm ci`), redis-server and nginx (apt).
set -euo pipefail

repo="$(cd "$(dirname "$0")/.." && pwd)"
state="${LOCAL_CLUSTER_DIR:-$repo/.local-cluster}"
pids="$state/pids"

log() { printf '[local-cluster] %s\n' "$*" >&2; }
die() { log "$*"; exit 1; }

# A port is taken when something accepts a connection on it.
port_in_use() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

# A port nothing listens on now (a random one from the dynamic range, tried until free).
free_port() {
  local p
  for _ in $(seq 1 200); do
    p=$(( 20000 + RANDOM % 40000 ))
    if ! port_in_use "$p" && ! grep -qx "$p" "$state/ports.taken" 2>/dev/null; then
      echo "$p" >> "$state/ports.taken"
      echo "$p"
      return 0
    fi
  done
  die "no free port found"
}

# Polls a port until it accepts connections (a process just started: nothing to wait on instead).
wait_port() {
  local name="$1" port="$2" pid="$3" tries=0
  until port_in_use "$port"; do
    kill -0 "$pid" 2>/dev/null || die "$name exited before listening on $port; its log: $state/logs/$name.log"
    tries=$((tries + 1))
    [ "$tries" -le 600 ] || die "$name did not listen on $port within 60 s; its log: $state/logs/$name.log"
    sleep 0.1
  done
}

# Polls a node's readiness endpoint until it answers 200.
wait_healthy() {
  local name="$1" port="$2" pid="$3" tries=0
  until curl -fsS -o /dev/null "http://127.0.0.1:$port/health" 2>/dev/null; do
    kill -0 "$pid" 2>/dev/null || die "$name exited; its log: $state/logs/$name.log"
    tries=$((tries + 1))
    [ "$tries" -le 600 ] || die "$name was not healthy within 60 s; its log: $state/logs/$name.log"
    sleep 0.1
  done
}

# Starts a process in the background with its output in logs/NAME.log and its PID in pids/NAME.pid.
# The PID file also holds a word of its command line (MARK), so `stop` never signals a PID the system reused.
spawn() {
  local name="$1" workdir="$2" mark="$3"
  shift 3
  (cd "$workdir" && exec "$@" >> "$state/logs/$name.log" 2>&1 < /dev/null) &
  local pid=$!
  printf '%s %s\n' "$pid" "$mark" > "$pids/$name.pid"
  echo "$pid"
}

# True when pids/NAME.pid names a live process that is still the one we started.
running() {
  local file="$pids/$1.pid" pid exe
  [ -f "$file" ] || return 1
  read -r pid exe < "$file"
  kill -0 "$pid" 2>/dev/null || return 1
  tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q -- "$exe"
}

pid_of() { local pid _; read -r pid _ < "$pids/$1.pid"; echo "$pid"; }

silo_dll() {
  if [ -n "${SILO_DLL:-}" ]; then
    [ -f "$SILO_DLL" ] || die "SILO_DLL=$SILO_DLL does not exist"
    echo "$SILO_DLL"
    return
  fi
  if [ ! -f "$state/app/AgentGateway.Silo.dll" ]; then
    log "publishing the node (dotnet publish src/Silo -c Release -o $state/app)"
    dotnet publish "$repo/src/Silo/Silo.csproj" -c Release -o "$state/app" --nologo -v quiet >&2
  fi
  echo "$state/app/AgentGateway.Silo.dll"
}

start_node() {
  local i="$1" port dll
  port=$(sed -n "${i}p" "$state/node.ports")
  [ -n "$port" ] || die "no node $i (see $state/node.ports)"
  running "node$i" && { log "node$i already runs (pid $(pid_of "node$i"))"; return; }
  dll=$(cat "$state/silo.dll")
  mkdir -p "$state/node$i"
  local pid
  pid=$(spawn "node$i" "$state/node$i" "$(basename "$dll")" env \
    ASPNETCORE_URLS="http://127.0.0.1:$port" \
    Storage__Provider="${STORAGE:-DynamoDb}" \
    DynamoDb__ServiceUrl="http://127.0.0.1:$(cat "$state/dynalite.port")" \
    DynamoDb__Region=us-east-1 \
    DynamoDb__TablePrefix=agent-gateway- \
    DynamoDb__CreateTables=true \
    Redis__Configuration="127.0.0.1:$(cat "$state/redis.port")" \
    Cluster__NodeId="node$i" \
    Cluster__Membership="$([ "${STORAGE:-DynamoDb}" = DynamoDb ] && echo Redis || echo Localhost)" \
    Cluster__AdvertisedAddress=127.0.0.1 \
    Alerts__OutboxDirectory="$state/node$i/alerts" \
    Alerts__Sinks="${ALERTS_SINKS:-log}" \
    Alerts__Slack__WebhookUrl="${SLACK_WEBHOOK_URL:-}" \
    dotnet "$dll")
  wait_healthy "node$i" "$port" "$pid"
  log "node$i: http://127.0.0.1:$port (pid $pid)"
}

# deploy/nginx/nginx.conf with the local nodes, a loopback listen address, and paths inside the state directory.
nginx_conf() {
  local lb_port="$1" dir="$state/nginx" servers=""
  while read -r port; do
    servers+="        server 127.0.0.1:$port max_fails=1 fail_timeout=10s;\\n"
  done < "$state/node.ports"
  awk -v servers="$servers" -v dir="$dir" -v listen="127.0.0.1:$lb_port" '
    /^error_log /                 { print "error_log " dir "/error.log warn;"; print "pid " dir "/nginx.pid;"; next }
    /^http \{/                    { print; print "    client_body_temp_path " dir "/client_body;"; print "    proxy_temp_path " dir "/proxy;";
                                    print "    fastcgi_temp_path " dir "/fastcgi;"; print "    uwsgi_temp_path " dir "/uwsgi;";
                                    print "    scgi_temp_path " dir "/scgi;"; next }
    /^    access_log /            { print "    access_log " dir "/access.log gateway;"; next }
    /^    resolver /              { next }
    /^        server .*resolve/   { if (!done) { printf "%s", servers; done = 1 }; next }
    /^        listen 8080;/       { print "        listen " listen ";"; next }
                                  { print }
  ' "$repo/deploy/nginx/nginx.conf" > "$dir/nginx.conf"
}

cmd_start() {
  local n="${1:-3}"
  [[ "$n" =~ ^[1-9][0-9]*$ ]] || die "start N: N must be a positive number (was '$n')"
  if [ -d "$pids" ] && ls "$pids"/*.pid >/dev/null 2>&1; then
    for f in "$pids"/*.pid; do
      running "$(basename "$f" .pid)" && die "already started ($state); run '$0 stop' first"
    done
  fi
  command -v dotnet >/dev/null || die "the .NET 10 SDK is needed"
  local nginx redis dynalite
  nginx=$(command -v nginx || echo /usr/sbin/nginx); [ -x "$nginx" ] || die "nginx is needed (apt-get install nginx)"
  redis=$(command -v redis-server || echo /usr/bin/redis-server); [ -x "$redis" ] || die "redis-server is needed (apt-get install redis-server)"
  dynalite="$repo/tools/servers/node_modules/.bin/dynalite"
  [ -x "$dynalite" ] || die "dynalite is needed: (cd tools/servers && npm ci)"

  mkdir -p "$state/logs" "$pids" "$state/nginx" "$state/dynalite"
  : > "$state/ports.taken"
  silo_dll > "$state/silo.dll"

  local dport rport lb_port
  dport="${DYNALITE_PORT:-$(free_port)}"; echo "$dport" > "$state/dynalite.port"
  rport="${REDIS_PORT:-$(free_port)}"; echo "$rport" > "$state/redis.port"
  if [ -n "${LB_PORT:-}" ]; then lb_port="$LB_PORT"; elif ! port_in_use 8080; then lb_port=8080; else lb_port=$(free_port); fi
  echo "$lb_port" > "$state/lb.port"
  if [ -n "${NODE_PORTS:-}" ]; then
    printf '%s\n' $NODE_PORTS | head -n "$n" > "$state/node.ports"
    [ "$(wc -l < "$state/node.ports")" -eq "$n" ] || die "NODE_PORTS has fewer than $n ports"
  else
    : > "$state/node.ports"
    for _ in $(seq 1 "$n"); do free_port >> "$state/node.ports"; done
  fi

  local pid
  pid=$(spawn dynalite "$state" dynalite node "$dynalite" --port "$dport" --host 127.0.0.1 --path "$state/dynalite")
  wait_port dynalite "$dport" "$pid"; log "dynalite: http://127.0.0.1:$dport (pid $pid)"
  pid=$(spawn redis "$state" redis-server "$redis" --port "$rport" --bind 127.0.0.1 --save "" --appendonly no)
  wait_port redis "$rport" "$pid"; log "redis: 127.0.0.1:$rport (pid $pid)"

  for i in $(seq 1 "$n"); do start_node "$i"; done

  nginx_conf "$lb_port"
  "$nginx" -t -p "$state/nginx" -c "$state/nginx/nginx.conf" -e stderr >> "$state/logs/nginx.log" 2>&1 \
    || die "nginx rejected $state/nginx/nginx.conf; see $state/logs/nginx.log"
  pid=$(spawn nginx "$state/nginx" nginx "$nginx" -p "$state/nginx" -c "$state/nginx/nginx.conf" -e stderr -g 'daemon off;')
  wait_port nginx "$lb_port" "$pid"; log "nginx: http://127.0.0.1:$lb_port (pid $pid)"

  cat <<EOF

gateway (nginx):  http://127.0.0.1:$lb_port      chat page http://127.0.0.1:$lb_port/   dashboard http://127.0.0.1:$lb_port/dashboard
nodes:            $(sed 's|^|http://127.0.0.1:|' "$state/node.ports" | paste -sd' ')
state and logs:   $state
try:  dotnet tools/LoadGen/bin/Debug/net10.0/agent-loadgen.dll mix --url http://127.0.0.1:$lb_port --rate 10 --duration 30s
      $0 kill-node 2 ; $0 start-node 2 ; $0 status ; $0 stop
EOF
}

# SIGTERM, then SIGKILL after 5 s; only a process that is still the one we started.
stop_one() {
  local name="$1" pid
  [ -f "$pids/$name.pid" ] || return 0
  if running "$name"; then
    pid=$(pid_of "$name")
    kill -TERM "$pid" 2>/dev/null || true
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null || true
    log "stopped $name (pid $pid)"
  fi
  rm -f "$pids/$name.pid"
}

cmd_stop() {
  [ -d "$pids" ] || { log "nothing started ($state)"; return 0; }
  stop_one nginx
  for f in "$pids"/node*.pid; do [ -e "$f" ] && stop_one "$(basename "$f" .pid)"; done
  stop_one redis
  stop_one dynalite
  if [ "${1:-}" = "--purge" ]; then rm -rf "$state"; log "deleted $state"; fi
}

cmd_status() {
  [ -d "$pids" ] || { echo "not started ($state)"; return 0; }
  for f in "$pids"/*.pid; do
    [ -e "$f" ] || continue
    local name; name=$(basename "$f" .pid)
    if running "$name"; then echo "$name: running (pid $(pid_of "$name"))"; else echo "$name: not running"; fi
  done
  local lb; lb=$(cat "$state/lb.port" 2>/dev/null || true)
  if [ -n "$lb" ]; then
    echo "gateway: http://127.0.0.1:$lb"
    echo "GET /admin/nodes:"
    curl -fsS "http://127.0.0.1:$lb/admin/nodes" 2>/dev/null || echo "  (no answer)"
    echo
  fi
}

case "${1:-}" in
  start) shift; cmd_start "$@" ;;
  stop) shift; cmd_stop "$@" ;;
  status) cmd_status ;;
  kill-node)
    [ -n "${2:-}" ] || die "kill-node I"
    running "node$2" || die "node$2 is not running"
    pid=$(pid_of "node$2"); kill -KILL "$pid"; log "killed node$2 (pid $pid, SIGKILL)" ;;
  start-node)
    [ -n "${2:-}" ] || die "start-node I"
    start_node "$2" ;;
  *) sed -n '2,9p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
esac
