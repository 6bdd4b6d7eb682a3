#!/usr/bin/env bash
# scripts/replicas.sh and deploy/haproxy/haproxy.cfg as an operator runs them (docs/replicas.md),
# on free loopback ports:
#   - start: a HAProxy configuration that is refused (haproxy -c, a missing file, open mode
#     behind a frontend that is not loopback) starts nothing and says why;
#
# usage: replicas_ops_test.sh BIN_DIR
# Exit status 77 (skipped) without haproxy. The ports come from DIR/ports, sourced.
# shellcheck disable=SC2154
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
haproxy=$(command -v haproxy || echo /usr/sbin/haproxy)
if [[ ! -x "$haproxy" ]]; then
  echo "SKIP: haproxy is not installed (apt-get install haproxy)"
  exit 77
fi
replicas=$root/scripts/replicas.sh
export SHIXIND=$bin/shixind SHIXIN=$bin/shixin SHIXIN_REPLICA_PORTS=auto
export SHIXIN_DATA=$root/data/sample
tmp=$(mktemp -d)
cleanup() {
  for d in "$tmp"/run*; do
    [[ -d "$d" ]] && { "$replicas" stop "$d" || true; }
  done
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
  echo "FAIL: $1"
  [[ -f "${2:-}" ]] && cat "$2"
  exit 1
}
# Fails unless nothing of run directory $1 runs.
nothing_runs() {
  local f
  for f in "$1"/r?/pid "$1/haproxy.pid"; do
    if [[ -f "$f" ]] && kill -0 "$(cat "$f")" 2>/dev/null; then
      fail "$f still runs after a failed start"
    fi
  done
}
# Runs replicas.sh with arguments $2...; fails unless it exits $1. Output in $tmp/out.
expect_exit() {
  local want=$1 got=0
  shift
  "$replicas" "$@" >"$tmp/out" 2>&1 || got=$?
  [[ $got -eq $want ]] || fail "replicas.sh $* exited $got, not $want" "$tmp/out"
}

# A HAProxy configuration that is refused: nothing starts, and the reason is printed.
HAPROXY=/bin/false expect_exit 1 start "$tmp/run-bad"
grep -q 'refused .*haproxy.cfg' "$tmp/out" || fail "no reason for the refused config" "$tmp/out"
nothing_runs "$tmp/run-bad"
SHIXIN_HAPROXY_CFG=$tmp/missing.cfg expect_exit 1 start "$tmp/run-bad"
grep -q "cannot write .*missing.cfg" "$tmp/out" || fail "no reason for the missing file" "$tmp/out"
nothing_runs "$tmp/run-bad"
# Open mode behind a frontend other hosts reach: every client would be a loopback admin.
sed 's/bind 127.0.0.1:7512/bind 0.0.0.0:7512/' "$root/deploy/haproxy/haproxy.cfg" >"$tmp/wide.cfg"
SHIXIN_HAPROXY_CFG=$tmp/wide.cfg expect_exit 1 start "$tmp/run-bad"
grep -q 'SHIXIN_CALLERS_FILE' "$tmp/out" || fail "open mode behind 0.0.0.0 not refused" "$tmp/out"
nothing_runs "$tmp/run-bad"
echo "ok: refused configurations start nothing"

echo "PASS"
