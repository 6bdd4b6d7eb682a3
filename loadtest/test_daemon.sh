# Sourced by loadtest/*_test.sh: a scratch directory ($dir) removed at exit, and a private
# shixind on loopback ports started and stopped by the helpers below. Needs $bin (BIN_DIR).
dir=$(mktemp -d)
pid=
cleanup() {
  if [ -n "$pid" ]; then kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; fi
  rm -rf "$dir"
}
trap cleanup EXIT
# Starts shixind with "$@" on a loopback port; sets pid and addr.
start_daemon() {
  # A fresh file: the new process truncates it only once it runs, and the loop below must not
  # read the previous daemon's address meanwhile.
  rm -f "$dir/out"
  # Both listeners on free ports: tests run side by side (HTTP's default is 127.0.0.1:7412).
  "$bin/shixind" "$@" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 >"$dir/out" 2>"$dir/err" &
  pid=$!
  for _ in $(seq 100); do
    grep -qs '^listening on ' "$dir/out" && break
    sleep 0.05
  done
  addr=$(sed -n 's/^listening on //p' "$dir/out")
  [ -n "$addr" ] || { echo "shixind did not start"; cat "$dir/err"; exit 1; }
}
stop_daemon() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }
