#!/usr/bin/env bash
# The OpenAPI document's examples against a live daemon (issue 13): starts shixind on
# data/sample in open mode with an audit (state_dir in a scratch directory) and both listeners
# on free loopback ports, learns the HTTP port from what it prints ("http listening on ..."),
# runs scripts/openapi-examples.py --url against it and stops it. Every wait is bounded.
#
# usage: openapi_examples_test.sh BIN_DIR
set -euo pipefail
bin=$1
root=$(cd "$(dirname "$0")/.." && pwd)
# shellcheck disable=SC1091  # scripts/daemon-lib.sh
source "$root/scripts/daemon-lib.sh"
dir=$(mktemp -d)
pid=
# shellcheck disable=SC2317  # run by the EXIT trap
cleanup() {
  if [[ -n "$pid" ]] && kill -0 "$pid" 2>/dev/null; then shixind_stop "$pid" 10 || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT

: >"$dir/stdout"
"$bin/shixind" --data "$root/data/sample" --state-dir "$dir/state" --listen 127.0.0.1:0 \
  --http-listen 127.0.0.1:0 >"$dir/stdout" 2>"$dir/log" &
pid=$!
if ! shixind_wait_listening "$pid" "$dir/stdout" 30 >/dev/null; then
  echo "shixind did not start; its log:" >&2
  cat "$dir/log" >&2
  exit 1
fi
# The HTTP line follows the binary one (one flush, but wait a little in case).
for ((i = 0; i < 50; i++)); do
  grep -q '^http listening on ' "$dir/stdout" && break
  sleep 0.1
done
http=$(sed -n 's/^http listening on //p' "$dir/stdout" | head -n1)
if [[ -z "$http" ]]; then
  echo "shixind printed no HTTP address:" >&2
  cat "$dir/stdout" "$dir/log" >&2
  exit 1
fi
echo "shixind $pid, HTTP on $http"

status=0
timeout 120 python3 "$root/scripts/openapi-examples.py" --url "http://$http" || status=$?
if ! shixind_stop "$pid" 10; then
  echo "shixind did not stop cleanly; its log:" >&2
  cat "$dir/log" >&2
  status=1
fi
pid=
exit "$status"
