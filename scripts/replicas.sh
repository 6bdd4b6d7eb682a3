#!/usr/bin/env bash
# Three shixind replicas on loopback behind HAProxy (docs/replicas.md).
#
#   scripts/replicas.sh start DIR     start r1 r2 r3 and haproxy; pid files and logs in DIR (again:
#                                     what is not running, on the ports of DIR/ports)
#   scripts/replicas.sh status DIR    which processes run, each replica's generation and list
#                                     (snapshot version, deltas applied up to N)
#   scripts/replicas.sh refresh DIR   rolling refresh: reload each running replica in turn (RELOAD,
#                                     which waits for the new list to serve); stops at a failure
#                                     (not at a delta gap: exit 5)
#   scripts/replicas.sh stop DIR      SIGTERM everything, SIGKILL what is left after 10 s
#
# Environment (all optional):
#   SHIXIND, SHIXIN        the binaries [build/bin/shixind, build/bin/shixin]
#   HAPROXY                [haproxy, else /usr/sbin/haproxy]
#   SHIXIN_HAPROXY_CFG     the HAProxy configuration copied with this run's ports
#                          [deploy/haproxy/haproxy.cfg]
#   SHIXIN_DATA            the list every replica loads (--data) [data/sample]
#   SHIXIN_SNAPSHOT        a snapshot file instead (--snapshot); the same file for all
#   SHIXIN_DELTAS          a delta directory all replicas read (--deltas-dir)
#   SHIXIND_FLAGS          more flags for every replica, split at blanks (--max-age-seconds N)
#   SHIXIN_CALLERS_FILE    the replicas' callers file (--callers-file). Without it they run in open
#                          development mode, where every client through HAProxy looks like a
#                          loopback admin: start then refuses a HAProxy `bind` that is not loopback
#   SHIXIN_CALLER, SHIXIN_TOKEN_FILE (or SHIXIN_TOKEN)
#                          with a callers file: an `admin` caller's credentials, for the INFO of
#                          status and refresh and the RELOAD of refresh
#   SHIXIN_RELOAD_LIVENESS refresh gives up on a replica whose /healthz does not answer for this
#                          many seconds while it reloads (hung) [5]
#   SHIXIN_REPLICA_PORTS   "auto": free ports picked at start; any other value (or unset): the
#                          ports of deploy/haproxy/haproxy.cfg (7411/7412, 7421/7422, 7431/7432;
#                          7511, 7512). Other fixed ports: write DIR/ports (its variables) first
# The ports used are written to DIR/ports (sourced by the other commands and by tests). The
# replicas run with max_connections_per_ip 0: behind HAProxy all clients share its address, and
# the configuration's per-server maxconn limits them (docs/replicas.md).
#
# Exit status: 0 done; 2 usage. start: 1 something did not start, or the HAProxy configuration
# was refused (what is printed; everything in DIR is stopped). status: 1 a process is not
# running, a replica does not answer INFO, or its deltas have a gap or an error (DELTA GAP,
# DELTA ERROR: its list does not advance). refresh, at the first replica that fails (the later
# ones are not reloaded): 1 it refused the new list (RELOAD_FAILED: its old generation keeps
# serving); 3 it did not answer INFO or RELOAD (connection refused, lost or timed out, or its
# /healthz silent for SHIXIN_RELOAD_LIVENESS seconds during the reload: is it running?); 4 it
# refused the request itself (UNAUTHENTICATED, PERMISSION_DENIED: credentials). 5: every
# running replica was reloaded and serves the new list, but the delta feed has a gap or a
# refused file, so their lists do not advance past it (said per replica).
# The ports come from DIR/ports, sourced.
# shellcheck disable=SC2154
set -euo pipefail

root=$(cd "$(dirname "$0")/.." && pwd)
cmd=${1:-}
dir=${2:-}
if [[ -z "$cmd" || -z "$dir" ]]; then
  echo "usage: $0 start|status|refresh|stop DIR" >&2
  exit 2
fi
shixind=${SHIXIND:-$root/build/bin/shixind}
shixin=${SHIXIN:-$root/build/bin/shixin}
haproxy=${HAPROXY:-$(command -v haproxy || echo /usr/sbin/haproxy)}
template=${SHIXIN_HAPROXY_CFG:-$root/deploy/haproxy/haproxy.cfg}
reload_liveness=${SHIXIN_RELOAD_LIVENESS:-5}
replicas=(r1 r2 r3)

# Prints $1 distinct free loopback ports: all bound at once, so that none is handed out twice.
free_ports() {
  python3 -c '
import socket, sys
socks = [socket.socket() for _ in range(int(sys.argv[1]))]
for s in socks:
    s.bind(("127.0.0.1", 0))
print(" ".join(str(s.getsockname()[1]) for s in socks))' "$1"
}

# Waits up to $2 seconds for the file $1 to contain $3; gives up at once if the process of pid
# file $4 (when given) has exited.
wait_for_line() {
  local deadline=$((SECONDS + $2))
  until grep -q "$3" "$1" 2>/dev/null; do
    if ((SECONDS >= deadline)); then return 1; fi
    if [[ -n "${4:-}" ]] && ! running "$4"; then return 1; fi
    sleep 0.1
  done
}

# Waits up to $2 seconds for 127.0.0.1:$1 to accept connections.
wait_for_port() {
  local deadline=$((SECONDS + $2))
  until (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; do
    if ((SECONDS >= deadline)); then return 1; fi
    sleep 0.1
  done
}

running() { [[ -f "$1" ]] && kill -0 "$(cat "$1")" 2>/dev/null; }

# The admin credentials for INFO and RELOAD (SHIXIN_TOKEN, if set, is read by shixin itself).
credentials=()
[[ -n "${SHIXIN_CALLER:-}" ]] && credentials+=(--caller "$SHIXIN_CALLER")
[[ -n "${SHIXIN_TOKEN_FILE:-}" ]] && credentials+=(--token-file "$SHIXIN_TOKEN_FILE")

# Runs `shixin info` against 127.0.0.1:$1; prints "snapshot V generation G, deltas applied up to
# N (P pending)[, STALE][, DELTA GAP: F is missing][, DELTA ERROR: E]", or shixin's error (on
# failure, with shixin's exit status). A gap or an error keeps the replica's list from
# advancing: status fails on it.
replica_info() {
  local out status=0
  out=$("$shixin" info --server "127.0.0.1:$1" --timeout-ms 2000 --json \
    ${credentials[@]+"${credentials[@]}"} 2>&1) || status=$?
  if ((status != 0)); then
    echo "$out"
    return "$status"
  fi
  python3 -c '
import json, sys
i = json.loads(sys.argv[1])
d = i["deltas"]
line = "snapshot %s generation %d, deltas applied up to %d (%d pending)%s" % (
    i["version"], i["generation"], max(d["base_sequence"], d["sequence"]), d["pending"],
    ", STALE" if i["stale"] else "")
if d.get("gap"):
    line += ", DELTA GAP: %020d.ndjson is missing, the files after it wait" % (d["gap_after"] + 1)
if d.get("delta_error"):
    line += ", DELTA ERROR: " + d["delta_error"]
print(line)' "$out"
}

# How a failed INFO or RELOAD of replica $1 failed, from shixin's output $2, the request's name
# $3 and shixin's exit status $4: prints the message and returns refresh's exit status for it.
request_failed() {
  if (($4 == 2)); then
    echo "$1: the $3 was not sent (SHIXIN_CALLER, SHIXIN_TOKEN_FILE?): $2" >&2
    return 4
  fi
  if (($4 == 4)); then
    echo "$1: reloaded, but its list does not advance: $2" >&2
    return 1
  fi
  if grep -q 'RELOAD_FAILED: ' <<<"$2"; then
    echo "$1: reload refused, the old generation keeps serving: $2" >&2
    return 1
  fi
  # The server's own answer names its status ("shixin reload: UNAUTHENTICATED: ..."); a
  # connection's failure does not ("connect: Connection refused", "HELLO: no response in 2s").
  local answered='(UNAUTHENTICATED|PERMISSION_DENIED|RATE_LIMITED|INVALID_ARGUMENT|BUSY|UNAVAILABLE'
  answered+='|INTERNAL|UNSUPPORTED_VERSION|UNKNOWN_OPCODE|BAD_FRAME|BAD_PAYLOAD|FRAME_TOO_LARGE)'
  if grep -Eq "^shixin [a-z]+: $answered: " <<<"$2"; then
    echo "$1 refused the $3 (credentials? SHIXIN_CALLER, SHIXIN_TOKEN_FILE): $2" >&2
    return 4
  fi
  echo "$1 did not answer the $3: $2; is it running? (status DIR, its log)" >&2
  return 3
}

# Refuses open mode with a HAProxy frontend that is not loopback: behind HAProxy every client
# is loopback to the replicas, so they would give anyone reaching it RELOAD and the admin INFO.
check_open_mode() {
  [[ -n "${SHIXIN_CALLERS_FILE:-}" ]] && return 0
  local bind
  while read -r bind; do
    case "$bind" in
      127.* | localhost:* | "[::1]:"* | ::1:*) ;;
      *)
        echo "open mode (no SHIXIN_CALLERS_FILE) behind a frontend that is not loopback" \
          "(bind $bind in $1): every client would be a loopback admin of the replicas;" \
          "set SHIXIN_CALLERS_FILE" >&2
        return 1
        ;;
    esac
  done < <(awk '$1 == "bind" { n = split($2, a, ","); for (i = 1; i <= n; i++) print a[i] }' "$1")
}

write_ports() {
  if [[ "${SHIXIN_REPLICA_PORTS:-}" == auto ]]; then
    local p
    read -r -a p <<<"$(free_ports 8)"
    echo "r1_port=${p[0]} r1_http=${p[1]} r2_port=${p[2]} r2_http=${p[3]}"
    echo "r3_port=${p[4]} r3_http=${p[5]} front_binary=${p[6]} front_http=${p[7]}"
  else
    echo "r1_port=7411 r1_http=7412 r2_port=7421 r2_http=7422"
    echo "r3_port=7431 r3_http=7432 front_binary=7511 front_http=7512"
  fi
}

# Writes DIR/haproxy.cfg: deploy/haproxy/haproxy.cfg with this run's ports; and DIR/errors,
# the error files beside it (its errorfile paths are relative to it).
write_haproxy_cfg() {
  local errors
  errors=$(dirname "$template")/errors
  if [[ -d "$errors" ]]; then
    rm -rf "$dir/errors"
    cp -r "$errors" "$dir/errors"
  fi
  awk -v r1="$r1_port" -v h1="$r1_http" -v r2="$r2_port" -v h2="$r2_http" \
    -v r3="$r3_port" -v h3="$r3_http" -v fb="$front_binary" -v fh="$front_http" '
    {
      gsub(/127\.0\.0\.1:7411/, "127.0.0.1:" r1); gsub(/port 7412/, "port " h1)
      gsub(/127\.0\.0\.1:7412/, "127.0.0.1:" h1)
      gsub(/127\.0\.0\.1:7421/, "127.0.0.1:" r2); gsub(/port 7422/, "port " h2)
      gsub(/127\.0\.0\.1:7422/, "127.0.0.1:" h2)
      gsub(/127\.0\.0\.1:7431/, "127.0.0.1:" r3); gsub(/port 7432/, "port " h3)
      gsub(/127\.0\.0\.1:7432/, "127.0.0.1:" h3)
      gsub(/127\.0\.0\.1:7511/, "127.0.0.1:" fb); gsub(/127\.0\.0\.1:7512/, "127.0.0.1:" fh)
      print
    }' "$template" >"$dir/haproxy.cfg"
}

# Says why start failed, stops everything in DIR and exits 1.
start_failed() {
  echo "$1" >&2
  echo "stopping what runs in $dir" >&2
  stop
  exit 1
}

start() {
  mkdir -p "$dir"
  # A second start in the same DIR starts what is not running, on the same ports.
  [[ -f "$dir/ports" ]] || write_ports >"$dir/ports"
  # shellcheck disable=SC1091
  source "$dir/ports"
  # HAProxy's configuration is checked before any replica starts.
  local out
  if ! running "$dir/haproxy.pid"; then
    if ! out=$(write_haproxy_cfg 2>&1); then
      start_failed "cannot write $dir/haproxy.cfg from $template: $out"
    fi
    if ! check_open_mode "$dir/haproxy.cfg"; then
      start_failed "nothing started"
    fi
    if ! out=$("$haproxy" -c -q -f "$dir/haproxy.cfg" 2>&1); then
      start_failed "$haproxy -c refused $dir/haproxy.cfg: ${out:-(no message)}"
    fi
  fi
  local source_flags=(--data "${SHIXIN_DATA:-$root/data/sample}")
  [[ -n "${SHIXIN_SNAPSHOT:-}" ]] && source_flags=(--snapshot "$SHIXIN_SNAPSHOT")
  [[ -n "${SHIXIN_DELTAS:-}" ]] && source_flags+=(--deltas-dir "$SHIXIN_DELTAS")
  [[ -n "${SHIXIN_CALLERS_FILE:-}" ]] && source_flags+=(--callers-file "$SHIXIN_CALLERS_FILE")
  local extra_flags
  read -r -a extra_flags <<<"${SHIXIND_FLAGS:-}"
  for r in "${replicas[@]}"; do
    local port_var="${r}_port" http_var="${r}_http"
    mkdir -p "$dir/$r/state"
    if running "$dir/$r/pid"; then
      echo "$r already runs (pid $(cat "$dir/$r/pid"))" >&2
      continue
    fi
    # HAProxy's clients all come from its address; its per-server maxconn limits them.
    local flags=("${source_flags[@]}" --listen "127.0.0.1:${!port_var}"
      --http-listen "127.0.0.1:${!http_var}" --state-dir "$dir/$r/state"
      --max-connections-per-ip 0 ${extra_flags[@]+"${extra_flags[@]}"})
    "$shixind" "${flags[@]}" >"$dir/$r/shixind.log" 2>&1 &
    echo $! >"$dir/$r/pid"
  done
  for r in "${replicas[@]}"; do
    if ! wait_for_line "$dir/$r/shixind.log" 60 "listening on" "$dir/$r/pid"; then
      start_failed "$r did not start (exited, or not listening within 60 s); its log:
$(tail -5 "$dir/$r/shixind.log")"
    fi
  done
  if running "$dir/haproxy.pid"; then
    echo "haproxy already runs (pid $(cat "$dir/haproxy.pid"))"
    return
  fi
  "$haproxy" -db -f "$dir/haproxy.cfg" >"$dir/haproxy.log" 2>&1 &
  echo $! >"$dir/haproxy.pid"
  if ! wait_for_port "$front_binary" 10; then
    start_failed "haproxy did not listen within 10 s; its log:
$(tail -5 "$dir/haproxy.log")"
  fi
  echo "replicas: 127.0.0.1:$r1_port 127.0.0.1:$r2_port 127.0.0.1:$r3_port (checked: GET /readyz)"
  echo "haproxy: binary 127.0.0.1:$front_binary, http 127.0.0.1:$front_http"
}

status() {
  # shellcheck disable=SC1091
  source "$dir/ports"
  local rc=0
  for r in "${replicas[@]}"; do
    local port_var="${r}_port" info
    if ! running "$dir/$r/pid"; then
      echo "$r: not running"
      rc=1
    elif info=$(replica_info "${!port_var}"); then
      echo "$r: pid $(cat "$dir/$r/pid"), 127.0.0.1:${!port_var}, $info"
      [[ "$info" == *", DELTA "* ]] && rc=1
    else
      echo "$r: pid $(cat "$dir/$r/pid"), 127.0.0.1:${!port_var}, INFO failed: $info"
      rc=1
    fi
  done
  if running "$dir/haproxy.pid"; then
    echo "haproxy: pid $(cat "$dir/haproxy.pid"), binary 127.0.0.1:$front_binary, http 127.0.0.1:$front_http"
  else
    echo "haproxy: not running"
    rc=1
  fi
  return "$rc"
}

# Runs `shixin reload` against replica $1 (binary port $2, HTTP port $3); prints its output and
# returns its exit status. While it waits, the replica's /healthz is polled every second: a
# replica that has not answered it for reload_liveness seconds (hung: a dead disk, a stopped
# process) is given up on (the reload is killed, status 3, as for a lost connection) rather
# than waited on for the RELOAD's whole timeout. Progress goes to stderr every 10 s.
reload_watched() {
  local out=$dir/.reload.$1 pid status=0 silent=0 waited=0
  "$shixin" reload --server "127.0.0.1:$2" --timeout-ms 600000 \
    ${credentials[@]+"${credentials[@]}"} >"$out" 2>&1 &
  pid=$!
  while kill -0 "$pid" 2>/dev/null; do
    sleep 1
    kill -0 "$pid" 2>/dev/null || break
    waited=$((waited + 1))
    if curl -sf --max-time 1 -o /dev/null "http://127.0.0.1:$3/healthz" 2>/dev/null; then
      silent=0
    else
      silent=$((silent + 1))
    fi
    if ((silent >= reload_liveness)); then
      kill "$pid" 2>/dev/null || true
      wait "$pid" 2>/dev/null || true
      echo "its /healthz did not answer for ${silent} s while it reloaded (hung?)"
      rm -f "$out"
      return 3
    fi
    if ((waited % 10 == 0)); then
      echo "$1: still reloading after ${waited} s (its /healthz answers)" >&2
    fi
  done
  wait "$pid" || status=$?
  cat "$out"
  rm -f "$out"
  return "$status"
}

refresh() {
  # shellcheck disable=SC1091
  source "$dir/ports"
  local gaps=0
  for r in "${replicas[@]}"; do
    local port_var="${r}_port" http_var="${r}_http"
    if ! running "$dir/$r/pid"; then
      echo "$r: not running, not reloaded (it loads the current files when started)" >&2
      continue
    fi
    local before out status=0
    before=$(replica_info "${!port_var}") || status=$?
    if ((status != 0)); then
      request_failed "$r" "$before" INFO "$status"
      return
    fi
    # RELOAD waits for this reload's outcome (a delta applied meanwhile also makes a new
    # generation: waiting for one would take it for the reload) and says why it was refused.
    out=$(reload_watched "$r" "${!port_var}" "${!http_var}") || status=$?
    # Exit 4: it took the new list, but a delta gap or a refused delta (the feed's, the same for
    # every replica) keeps it from advancing: the others are reloaded too, then refresh says so.
    if ((status == 4)); then
      echo "$r: reloaded, but its list does not advance (the delta feed): $out" >&2
      gaps=1
      continue
    fi
    if ((status != 0)); then
      request_failed "$r" "$out" reload "$status"
      return
    fi
    before=${before#* generation }
    echo "$r: $out (was generation ${before%%,*})"
  done
  if ((gaps)); then
    echo "reloaded, but the delta feed has a gap or a refused file: fix it (docs/shixind.md," \
      "Deltas); the replicas apply it by themselves once it is" >&2
    return 5
  fi
}

stop() {
  local pids=()
  for f in "$dir/haproxy.pid" "$dir"/r?/pid; do
    if running "$f"; then
      pids+=("$(cat "$f")")
      kill -TERM "$(cat "$f")" 2>/dev/null || true
    fi
  done
  local deadline=$((SECONDS + 10))
  for p in "${pids[@]}"; do
    while kill -0 "$p" 2>/dev/null && ((SECONDS < deadline)); do sleep 0.1; done
    kill -KILL "$p" 2>/dev/null || true
  done
  rm -f "$dir/haproxy.pid" "$dir"/r?/pid
}

case "$cmd" in
  start) start ;;
  status) status ;;
  refresh) refresh ;;
  stop) stop ;;
  *)
    echo "usage: $0 start|status|refresh|stop DIR" >&2
    exit 2
    ;;
esac
