# shellcheck shell=bash
# Shell functions to start and stop shixind in scripts and tests (sourced by scripts/demo.sh and
# packaging/package_test.sh); every wait is bounded.

# Waits up to SECONDS for shixind (PID) to print a line starting "PREFIX " into STDOUT_FILE;
# prints the rest of the first such line and returns 0, or returns 1 if it exited or did not
# get there in time.
shixind_wait_line() {
  local pid=$1 out=$2 seconds=$3 prefix=$4 i
  for ((i = 0; i < seconds * 10; i++)); do
    grep -q "^$prefix " "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q "^$prefix " "$out" || return 1
  sed -n "s/^$prefix //p" "$out" | head -n1
}

# Waits up to SECONDS for shixind (PID) to print "listening on ..." into STDOUT_FILE; prints the
# first address and returns 0, or returns 1 if it exited or did not get there in time.
shixind_wait_listening() { shixind_wait_line "$1" "$2" "$3" 'listening on'; }

# The same for "http listening on ..." (printed after all other listeners).
shixind_wait_http() { shixind_wait_line "$1" "$2" "$3" 'http listening on'; }

# Sends SIGTERM to shixind (PID, a child of this shell) and waits up to SECONDS for it to exit;
# returns its exit status, or 124 after killing it when it did not stop in time.
shixind_stop() {
  local pid=$1 seconds=$2 i
  kill -TERM "$pid"
  for ((i = 0; i < seconds * 10; i++)); do
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  if kill -0 "$pid" 2>/dev/null; then
    kill -KILL "$pid"
    wait "$pid"
    return 124
  fi
  wait "$pid"
}

# shixind_stop (SECONDS each) for every PID still running; for the cleanup trap of the bench
# scripts, which start several.
shixind_stop_all() {
  local seconds=$1 pid
  shift
  for pid in "$@"; do
    if kill -0 "$pid" 2>/dev/null; then shixind_stop "$pid" "$seconds" || true; fi
  done
}
