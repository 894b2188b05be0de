# Shared helpers for the benchmark scripts (sourced, not run).

# Prints a TCP port nobody listens on at the moment (random, 20000-59999).
free_port() {
  local port
  for _ in $(seq 1 100); do
    port=$(( 20000 + RANDOM % 40000 ))
    if [ -z "$(ss -Htln "sport = :$port" 2>/dev/null)" ]; then
      echo "$port"
      return 0
    fi
  done
  echo "no free port found" >&2
  return 1
}

# Waits until "$@" succeeds, at most $1 seconds (polling every 0.2 s). Usage: wait_for 20 curl -sf URL
wait_for() {
  local seconds=$1; shift
  local tries=$(( seconds * 5 ))
  for _ in $(seq 1 "$tries"); do
    if "$@" >/dev/null 2>&1; then
      return 0
    fi
    sleep 0.2
  done
  return 1
}

# Installs a package from Debian when its command is missing (redis-server, wrk), with the
# dpkg "cannot stat /tmp/apt-dpkg-install-..." recovery this image needs.
ensure_command() {
  local command=$1 package=$2
  if command -v "$command" >/dev/null 2>&1; then
    return 0
  fi
  echo "installing $package (for $command)" >&2
  apt-get update >/dev/null
  if ! apt-get install -y "$package" >/dev/null; then
    apt-get --fix-broken install -y >/dev/null
    apt-get install -y "$package" >/dev/null
  fi
}

# Busy CPU jiffies of the whole machine so far (user+nice+system+irq+softirq+steal, all cores).
machine_busy_ticks() { awk '/^cpu / { print $2 + $3 + $4 + $7 + $8 + $9 }' /proc/stat; }

# Waits (at most $1 seconds, default 120) until the machine is nearly idle: under 10 % of one core busy
# over one second. Others may build and test on this machine; a load test on a busy machine measures them.
# Prints a warning and goes on when it never gets quiet.
wait_quiet() {
  local limit=${1:-120} start=$SECONDS a b busy hz
  hz=$(getconf CLK_TCK)
  while :; do
    a=$(machine_busy_ticks); sleep 1; b=$(machine_busy_ticks)
    busy=$(( (b - a) * 100 / hz ))
    if [ "$busy" -lt 10 ]; then
      return 0
    fi
    if [ $(( SECONDS - start )) -ge "$limit" ]; then
      echo "warning: the machine is still busy (${busy}% of a core used by others) after ${limit}s; measuring anyway" >&2
      return 0
    fi
    sleep 2
  done
}
