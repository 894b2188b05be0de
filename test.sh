#!/usr/bin/env bash
# Runs every test of the gateway. On a fresh Debian machine it first installs what the tests need,
# starts any server they need on loopback, and stops what it started when it ends.
#
#   ./test.sh                 build and run every test
#   ./test.sh --filter EXPR   pass a dotnet test filter (e.g. FullyQualifiedName~Runaway)
#
# The last line is "N passed, N failed, N skipped"; the exit code is dotnet test's.
set -euo pipefail
cd "$(dirname "$0")"

log() { printf '[test.sh] %s\n' "$*" >&2; }

# Debian packages the tests need. The tests start the servers themselves, on loopback and free ports,
# and stop them by PID: redis-server (cache, tenant limits), nginx (the cluster's load balancer).
# chromium is the browser tests' browser (Playwright never downloads one).
APT_PACKAGES=(chromium redis-server nginx)

apt_install() {
  [ "$#" -eq 0 ] && return 0
  local missing=()
  for pkg in "$@"; do
    dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing+=("$pkg")
  done
  [ "${#missing[@]}" -eq 0 ] && return 0
  log "installing ${missing[*]} (apt)"
  local sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  export DEBIAN_FRONTEND=noninteractive
  $sudo apt-get update -qq
  # A fresh image can delete downloaded .debs between dpkg runs ("cannot stat /tmp/apt-dpkg-install-…"):
  # repair and repeat once.
  if ! $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"; then
    $sudo apt-get --fix-broken install -y -qq
    $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
  fi
}

if ! command -v dotnet >/dev/null 2>&1; then
  log "the .NET 10 SDK is required (see global.json); install it and run again"
  exit 2
fi

apt_install "${APT_PACKAGES[@]}"

# dynalite (the DynamoDB API on loopback) from the committed lockfile, into tools/servers/node_modules.
if [ ! -x tools/servers/node_modules/.bin/dynalite ]; then
  if ! command -v npm >/dev/null 2>&1; then
    log "installing nodejs npm (apt)"
    apt_install nodejs npm
  fi
  log "installing dynalite (npm ci, tools/servers/package-lock.json)"
  (cd tools/servers && npm ci --no-audit --no-fund --loglevel=error)
fi

export DOTNET_CLI_TELEMETRY_OPTOUT=1 DOTNET_NOLOGO=1 DOTNET_SKIP_FIRST_TIME_EXPERIENCE=1

results_dir="$(mktemp -d)"
cleanup() { rm -rf "$results_dir"; }
trap cleanup EXIT

log "building"
dotnet build Actors.sln -c Debug -nologo -v quiet -clp:NoSummary

log "testing"
set +e
dotnet test Actors.sln -c Debug --no-build -nologo \
  --blame-hang-timeout 5m \
  --logger "console;verbosity=minimal" \
  --results-directory "$results_dir" "$@" 2>&1 | tee "$results_dir/out.txt"
status=${PIPESTATUS[0]}
set -e

# One "Passed!/Failed! - Failed: F, Passed: P, Skipped: S, Total: T" line per test assembly: add them up.
awk '
  /(Passed|Failed)!.*Failed:.*Passed:.*Skipped:/ {
    for (i = 1; i <= NF; i++) {
      if ($i == "Failed:")  { v = $(i+1); gsub(/,/, "", v); f += v }
      if ($i == "Passed:")  { v = $(i+1); gsub(/,/, "", v); p += v }
      if ($i == "Skipped:") { v = $(i+1); gsub(/,/, "", v); s += v }
    }
    n++
  }
  END {
    if (n == 0) { print "no test results found"; exit }
    printf "%d passed, %d failed, %d skipped\n", p, f, s
  }' "$results_dir/out.txt"
exit "$status"
