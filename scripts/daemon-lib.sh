# Shell functions to start and stop shixind in scripts and tests (sourced by scripts/demo.sh and
# packaging/package_test.sh); every wait is bounded.

# Waits up to SECONDS for shixind (PID) to print "listening on ..." into STDOUT_FILE; prints the
# first address and returns 0, or returns 1 if it exited or did not get there in time.
shixind_wait_listening() {
  local pid=$1 out=$2 seconds=$3 i
  for ((i = 0; i < seconds * 10; i++)); do
    grep -q '^listening on' "$out" && break
    kill -0 "$pid" 2>/dev/null || break
    sleep 0.1
  done
  grep -q '^listening on' "$out" || return 1
  sed -n 's/^listening on //p' "$out" | head -n1
}

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
