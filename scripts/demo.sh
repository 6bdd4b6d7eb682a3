#!/usr/bin/env bash
# The demo of the quick start: a short walk through the offline CLI on the shipped sample list,
# then the daemon: shixind started on the same sample (a temporary state directory, loopback),
# queried through the binary protocol (shixin --server) and over HTTP (curl), and stopped.
# Usage: scripts/demo.sh BIN_DIR
# Ports: SHIXIN_DEMO_PORT (binary protocol, default 7411) and SHIXIN_DEMO_HTTP_PORT (HTTP,
# default 7412) on 127.0.0.1; the demo stops with a clear message if one is taken.
set -uo pipefail
cd "$(dirname "$0")/.."
source scripts/daemon-lib.sh
bin=${1:-build/bin}
data=data/sample
port=${SHIXIN_DEMO_PORT:-7411}
http_port=${SHIXIN_DEMO_HTTP_PORT:-7412}
server=127.0.0.1:$port
http=http://127.0.0.1:$http_port
bold=""; plain=""
if [ -t 1 ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
say() { printf '\n%s$ %s%s\n' "$bold" "$*" "$plain"; }
step() { say "shixin $*"; "$bin/shixin" "$@"; }
# Shows the command line $1, runs curl with the other arguments and prints what it answered,
# or its own error (the HTTP listener may be absent).
http_step() {
  say "$1"
  shift
  local out
  if out=$(curl -sS --max-time 5 "$@"); then
    printf '%s\n' "$out"
  else
    echo "  (curl failed with exit status $?)"
  fi
}

echo "The offline CLI on the sample list (data/sample, described in data/sample/README.md):"
step check --data "$data" 11010519491231002X
echo "  -> a listed person with two cases"
step measures --data "$data" --scenario hotel 91350503MA2XK7R352
echo "  -> a hotel asks about a listed company: the measures that apply, each with its basis"
step check --data "$data" 110105194912310021
echo "  -> a wrong check digit is rejected with the reason (exit status 1)"

# The daemon. Everything it writes (the audit) goes to a temporary directory, removed at exit.
port_taken() { (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }
for p in "$port" "$http_port"; do
  if port_taken "$p"; then
    echo >&2
    echo "demo: port $p on 127.0.0.1 is in use (another shixind, or make run?): stop it, or" >&2
    echo "      choose others: SHIXIN_DEMO_PORT=17411 SHIXIN_DEMO_HTTP_PORT=17412 make demo" >&2
    exit 1
  fi
done
tmp=$(mktemp -d /tmp/shixin-demo.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
args=(--data "$data" --listen "$server" --state-dir "$tmp/state")
has_http=0
if "$bin/shixind" --help 2>&1 | grep -q -- '--http-listen'; then
  has_http=1
  args+=(--http-listen "127.0.0.1:$http_port")
fi

echo
echo "The daemon: shixind on the same list, with its audit in $tmp/state"
say "shixind ${args[*]}"
"$bin/shixind" "${args[@]}" >"$tmp/stdout" 2>"$tmp/log" &
pid=$!
# Ready when it prints "listening on"; it loads the sample in milliseconds: 30 s is generous.
if ! shixind_wait_listening "$pid" "$tmp/stdout" 30 >/dev/null; then
  echo "demo: shixind did not start; its log:" >&2
  sed 's/^/  /' "$tmp/log" >&2
  exit 1
fi
sed 's/^/  /' "$tmp/stdout"

step check --server "$server" 11010519491231002X
echo "  -> the same answer, now from the daemon"
step measures --server "$server" --scenario hotel 91350503MA2XK7R352
step info --server "$server"
echo "  -> the list it serves, the audit (the MEASURES above got a receipt), the security mode"

if [ "$has_http" = 0 ]; then
  echo
  echo "(this shixind has no --http-listen: the HTTP requests below fail)"
fi
http_step "curl -s $http/healthz" "$http/healthz"
http_step "curl -s $http/readyz" "$http/readyz"
body='{"ids":["11010519491231002X"]}'
http_step "curl -s -X POST -H 'Content-Type: application/json' -d '$body' $http/v1/check" \
  -X POST -H 'Content-Type: application/json' -d "$body" "$http/v1/check"
echo
echo "The status page: $http/status (keep the daemon running with: make run)"

# Stop it as systemd would: SIGTERM, then wait (bounded) for a graceful exit.
say "kill -TERM $pid"
shixind_stop "$pid" 10
status=$?
pid=""
if [ "$status" = 124 ]; then
  echo "demo: shixind did not stop within 10 s of SIGTERM; killed" >&2
  exit 1
fi
echo "shixind stopped, exit status $status; its log:"
sed 's/^/  /' "$tmp/log"
[ "$status" = 0 ] || exit 1
echo
echo "More: $bin/shixin help; $bin/shixind --help; a national-size list:"
echo "  $bin/shixin gen --subjects 10000000 --out /tmp/list-10m"
exit 0
