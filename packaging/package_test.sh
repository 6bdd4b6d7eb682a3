#!/usr/bin/env bash
# The Debian package end to end (ctest: package_deb): builds it with cpack from the build tree,
# checks its control fields and conffiles, unpacks it into a scratch root (dpkg -x), starts the
# installed shixind on the installed sample with the installed catalog, queries it with the
# installed shixin, stops it, and runs lintian (no errors allowed) if it is installed and the
# prefix is /usr.
# Usage: package_test.sh BUILD_DIR PREFIX CONFIG_DIR UNIT_DIR VERSION (absolute paths)
set -uo pipefail
source "$(dirname "$0")/../scripts/daemon-lib.sh"
build=$1 prefix=$2 etc=$3 units=$4 version=$5
tmp=$(mktemp -d /tmp/shixin-package-test.XXXXXX)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then kill -KILL "$pid" 2>/dev/null; fi
  rm -rf "$tmp"
}
trap cleanup EXIT
fail() { echo "FAIL: $*" >&2; [ -f "$tmp/log" ] && sed 's/^/  log: /' "$tmp/log" >&2; exit 1; }

(cd "$build" && cpack -G DEB -B "$tmp/out") >"$tmp/cpack.txt" 2>&1 ||
  { cat "$tmp/cpack.txt" >&2; fail "cpack"; }
debs=("$tmp"/out/*.deb)
[ "${#debs[@]}" = 1 ] && [ -f "${debs[0]}" ] || fail "expected one .deb in $tmp/out"
deb=${debs[0]}

# Control fields: the name, the version from the project, dependencies computed from the
# binaries (dpkg-shlibdeps), and the configuration marked as conffiles.
field() { dpkg-deb -f "$deb" "$1"; }
[ "$(field Package)" = shixin ] || fail "Package: $(field Package)"
[ "$(field Version)" = "$version-1" ] || fail "Version: $(field Version), want $version-1"
[ "$(field Section)" = net ] || fail "Section: $(field Section)"
for lib in libc6 libstdc++6 libssl3 libsystemd0 libjemalloc2; do
  field Depends | grep -q "$lib" || fail "Depends lacks $lib: $(field Depends)"
done
dpkg-deb -e "$deb" "$tmp/control"
printf '%s\n' "$etc/shixind.toml" "$etc/callers.toml.example" | diff - "$tmp/control/conffiles" ||
  fail "conffiles"

root=$tmp/root
dpkg -x "$deb" "$root"
for f in "$prefix/bin/shixind" "$prefix/bin/shixin"; do
  [ -x "$root$f" ] || fail "$f missing"
  file -L "$root$f" | grep -q 'not stripped' && fail "$f is not stripped"
done
# Only the two programs: no tests, benchmarks or tools.
[ "$(ls "$root$prefix/bin" | tr '\n' ' ')" = "shixin shixind " ] ||
  fail "unexpected programs: $(ls "$root$prefix/bin")"
for f in "$etc/shixind.toml" "$etc/callers.toml.example" "$units/shixind.service" \
  "$units/shixin-compact.service" "$units/shixin-compact.timer" \
  "$prefix/share/shixin/measures/hegang-2018.json" "$prefix/share/shixin/sample/debtors.ndjson" \
  "$prefix/share/doc/shixin/copyright" "$prefix/share/doc/shixin/changelog.Debian.gz" \
  "$prefix/share/shixin/calendar/2026.toml" "$prefix/share/shixin/sample/README.md" \
  "$prefix/share/man/man8/shixind.8.gz" "$prefix/share/man/man1/shixin.1.gz" \
  "$prefix/lib/sysusers.d/shixin.conf"; do
  [ -f "$root$f" ] || fail "$f missing"
done
# Every file path the shipped units, configuration, manual pages and data files point the
# administrator to is in the package (x27 #4): /usr/share/doc/shixin/..., file:// links, the
# example callers file; none names the source tree (docs/X.md, data/...).
shipped=("$root$units"/*.service "$root$units"/*.timer "$root$etc"/*
  "$root$prefix"/share/shixin/*/*.md "$root$prefix"/share/shixin/calendar/*.toml)
for f in "$root$prefix"/share/man/man*/*.gz; do
  zcat "$f" | sed 's/\\-/-/g' >"$tmp/$(basename "$f" .gz)"
done
shipped+=("$tmp"/shixin.1 "$tmp"/shixind.8)
while read -r ref; do
  [ -e "$root$ref" ] || fail "a shipped file refers to $ref, which the package lacks"
done < <(grep -ohE "$prefix/share/(doc/)?shixin/[A-Za-z0-9_./-]*[A-Za-z0-9_]" "${shipped[@]}" |
  sort -u)
grep -q "callers.toml.example beside this file" "$root$etc/shixind.toml" ||
  fail "shixind.toml does not name callers.toml.example"
if grep -nE '(--data data/|data/calendar/README|\[data/calendar\]|(^|[ (])docs/[a-z]+\.md)' \
  "${shipped[@]}"; then
  fail "a shipped file points to the source tree (above)"
fi
out=$("$root$prefix/bin/shixin" help) ||
  fail "shixin help"
grep -q "data/calendar" <<<"$out" && fail "shixin help names the source tree's data/calendar"
grep -q "calendar \[the shipped one" <<<"$out" || fail "shixin help: the report's calendar default"

grep -qx "ExecStart=$prefix/bin/shixind --config $etc/shixind.toml" "$root$units/shixind.service" ||
  fail "the unit's ExecStart: $(grep ExecStart= "$root$units/shixind.service")"
# The units as systemd reads them (x27 #10): systemd-analyze verify in a copy of the root with
# the host's units (the targets they name) and a stand-in systemctl (ExecStartPost=); any
# message is a failure (an unknown key or one in the wrong section is only a warning).
if command -v systemd-analyze >/dev/null && [ -f /lib/systemd/system/sysinit.target ]; then
  vroot=$tmp/vroot
  mkdir -p "$vroot"
  cp -a "$root/." "$vroot/"
  mkdir -p "$vroot/lib/systemd/system" "$vroot/usr/bin"
  cp -an /lib/systemd/system/. "$vroot/lib/systemd/system/"
  [ -e "$vroot/usr/bin/systemctl" ] || printf '#!/bin/sh\n' >"$vroot/usr/bin/systemctl"
  chmod +x "$vroot/usr/bin/systemctl"
  out=$(systemd-analyze verify --man=no --root="$vroot" "$units/shixind.service" \
    "$units/shixin-compact.service" "$units/shixin-compact.timer" 2>&1)
  status=$?
  [ "$status" = 0 ] && [ -z "$out" ] || fail "systemd-analyze verify (exit $status): $out"
else
  echo "package_test: no systemd-analyze or host units: the units are not verified"
fi
# The values of KEY in [SECTION] of the unit FILE, one a line.
unit_values() {
  awk -v section="[$2]" -v key="$3" '/^\[/ { in_section = ($0 == section) }
    in_section && index($0, key "=") == 1 { print substr($0, length(key) + 2) }' "$1"
}
service=$root$units/shixind.service
# A start refused for a cause that clears by itself (an audit dated ahead of a clock set back,
# for hours or days) is retried until it starts: no start limit, and retries spaced out.
[ "$(unit_values "$service" Service Restart)" = on-failure ] || fail "shixind.service: Restart="
[ "$(unit_values "$service" Unit StartLimitIntervalSec)" = 0 ] ||
  fail "shixind.service: a start limit ends the restarts: StartLimitIntervalSec=$(
    unit_values "$service" Unit StartLimitIntervalSec)"
[ "$(unit_values "$service" Service RestartSec)" = 10s ] || fail "shixind.service: RestartSec="
# Ordered after the clock is set and, where the host waits for it, synchronised; nothing pulled
# in that would fail or hold the start on a host without it.
after=" $(unit_values "$service" Unit After | tr '\n' ' ') "
for target in time-set.target time-sync.target; do
  [[ "$after" == *" $target "* ]] || fail "shixind.service is not ordered after $target"
done
if unit_values "$service" Unit Requires | grep -q time || unit_values "$service" Unit Wants |
  grep -q time; then
  fail "shixind.service pulls in a clock unit"
fi

# The daemon reads the list (root:shixin 0640) through the group the package declares.
grep -qx "SupplementaryGroups=shixin" "$root$units/shixind.service" ||
  fail "shixind.service does not join the group shixin"
grep -qx "g shixin -" "$root$prefix/lib/sysusers.d/shixin.conf" || fail "no group shixin declared"
# ... and creates it when configured (dpkg -e: the control area's maintainer scripts).
dpkg-deb -e "$deb" "$tmp/control"
grep -q "systemd-sysusers shixin.conf" "$tmp/control/postinst" || fail "postinst does not create the group"

# The maintainer scripts (x27 #2): present, executable, valid sh, and doing what
# dh_installsystemd does for units it enables nothing of. Run against stubs of systemctl,
# deb-systemd-invoke and systemd-sysusers that log their arguments; "systemd runs"
# (/run/systemd/system) is made true or false in a mount namespace of its own where unshare is
# allowed (root), else only the host's case is checked.
for script in postinst prerm postrm; do
  [ -x "$tmp/control/$script" ] || fail "no executable $script in the control archive"
  sh -n "$tmp/control/$script" || fail "$script is not valid sh"
done
stubs=$tmp/stubs
mkdir -p "$stubs/with-invoke" "$stubs/without-invoke"
for tool in systemctl deb-systemd-invoke systemd-sysusers; do
  for dir in with-invoke without-invoke; do
    [ "$dir/$tool" = without-invoke/deb-systemd-invoke ] && continue
    printf '#!/bin/sh\necho "%s $*" >>"$STUB_LOG"\n' "$tool" >"$stubs/$dir/$tool"
    chmod +x "$stubs/$dir/$tool"
  done
done
# Runs SCRIPT ARGS... with systemd running (yes/no/host) and the stubs of STUB_DIR; prints what
# the stubs were asked, one line each, and "exit N".
maint() {
  local systemd=$1 dir=$2 script=$3
  shift 3
  : >"$tmp/stub.log"
  local run=(env "PATH=$stubs/$dir" "STUB_LOG=$tmp/stub.log" /bin/sh "$tmp/control/$script" "$@")
  case $systemd in
    host) "${run[@]}" ;;
    yes) unshare -m /bin/sh -c \
      'mount -t tmpfs none /run && mkdir -p /run/systemd/system && exec "$@"' sh "${run[@]}" ;;
    no) unshare -m /bin/sh -c 'mount -t tmpfs none /run && exec "$@"' sh "${run[@]}" ;;
  esac >/dev/null 2>&1
  local status=$?
  cat "$tmp/stub.log"
  echo "exit $status"
}
expect() {  # NAME WANT GOT
  [ "$2" = "$3" ] || fail "$1: the maintainer script ran
$3
  want
$2"
}
reload='systemctl --system daemon-reload'
stop='shixin-compact.timer shixin-compact.service shixind.service'
if unshare -m /bin/sh -c 'mount -t tmpfs none /run' 2>/dev/null; then
  expect "fresh install" "systemd-sysusers shixin.conf
$reload
exit 0" "$(maint yes with-invoke postinst configure)"
  expect "upgrade" "systemd-sysusers shixin.conf
$reload
deb-systemd-invoke try-restart shixind.service
exit 0" "$(maint yes with-invoke postinst configure 0.0.9-1)"
  expect "upgrade without deb-systemd-invoke" "systemd-sysusers shixin.conf
$reload
systemctl try-restart shixind.service
exit 0" "$(maint yes without-invoke postinst configure 0.0.9-1)"
  expect "prerm remove" "deb-systemd-invoke stop $stop
exit 0" "$(maint yes with-invoke prerm remove)"
  expect "prerm remove without deb-systemd-invoke" "systemctl stop $stop
exit 0" "$(maint yes without-invoke prerm remove)"
  expect "prerm upgrade" "exit 0" "$(maint yes with-invoke prerm upgrade 0.1.1-1)"
  expect "postrm remove" "$reload
exit 0" "$(maint yes with-invoke postrm remove)"
  expect "postrm purge" "$reload
exit 0" "$(maint yes with-invoke postrm purge)"
  expect "upgrade, no systemd" "systemd-sysusers shixin.conf
exit 0" "$(maint no with-invoke postinst configure 0.0.9-1)"
  expect "prerm remove, no systemd" "exit 0" "$(maint no with-invoke prerm remove)"
  expect "postrm remove, no systemd" "exit 0" "$(maint no with-invoke postrm remove)"
else
  echo "package_test: unshare not allowed: maintainer scripts run as the host has systemd"
  want="exit 0"
  [ -d /run/systemd/system ] && want="deb-systemd-invoke stop $stop
exit 0"
  expect "prerm remove" "$want" "$(maint host with-invoke prerm remove)"
fi
for script in postinst prerm postrm; do
  expect "$script bogus" "exit 1" "$(maint host with-invoke "$script" bogus)"
done

# The installed daemon on the installed sample; it must find the installed catalog on its own.
# Both listeners on free ports: tests run side by side (HTTP's default is 127.0.0.1:7412).
"$root$prefix/bin/shixind" \
  --data "$root$prefix/share/shixin/sample" --listen 127.0.0.1:0 --http-listen 127.0.0.1:0 \
  --state-dir "$tmp/state" \
  >"$tmp/stdout" 2>"$tmp/log" &
pid=$!
address=$(shixind_wait_listening "$pid" "$tmp/stdout" 30)
[ -n "$address" ] || fail "shixind did not start within 30 s"
grep -q "catalog $root$prefix/share/shixin/measures/hegang-2018.json" "$tmp/log" ||
  fail "shixind did not use the installed catalog"
cli() { timeout 10 "$root$prefix/bin/shixin" "$@"; }
out=$(cli check --server "$address" 11010519491231002X) || fail "shixin check: $out"
grep -q '^11010519491231002X  LISTED  person' <<<"$out" || fail "shixin check printed: $out"
out=$(cli measures --server "$address" --scenario hotel 91350503MA2XK7R352) ||
  fail "shixin measures: $out"
grep -q 'receipt ' <<<"$out" && grep -q '^  41 ' <<<"$out" || fail "shixin measures printed: $out"
out=$(cli measures --data "$root$prefix/share/shixin/sample" --scenario hotel 91350503MA2XK7R352) ||
  fail "offline shixin measures: $out"
grep -q '^  41 ' <<<"$out" || fail "offline shixin measures printed: $out"

# The installed programs copied elsewhere without their data (x27 #7): they fail naming the
# catalog they expected under their own prefix, never reading the build's source tree.
mkdir -p "$tmp/opt/bin"
cp "$root$prefix/bin/shixind" "$root$prefix/bin/shixin" "$tmp/opt/bin/"
want="$tmp/opt/share/shixin/measures/hegang-2018.json"
out=$(timeout 10 "$tmp/opt/bin/shixin" catalog 2>&1)
status=$?
{ [ "$status" = 3 ] && grep -qF "$want" <<<"$out"; } ||
  fail "a copied shixin catalog, exit $status (want 3 naming $want): $out"
out=$(timeout 10 "$tmp/opt/bin/shixind" --data "$root$prefix/share/shixin/sample" \
  --listen 127.0.0.1:0 --http-listen "" 2>&1)
status=$?
{ [ "$status" = 2 ] && grep -qF "$want" <<<"$out"; } ||
  fail "a copied shixind, exit $status (want 2 naming $want): $out"

shixind_stop "$pid" 10
status=$?
pid=""
[ "$status" = 124 ] && fail "shixind did not stop within 10 s of SIGTERM"
[ "$status" = 0 ] || fail "shixind exited with status $status"
grep -q 'stopped' "$tmp/log" || fail "shixind did not log its stop"

# A Debian package lives in /usr: under another prefix (an older build tree's /usr/local)
# lintian would rightly refuse it.
if [ "$prefix" != /usr ]; then
  echo "package_test: prefix $prefix, not /usr: lintian not run"
elif command -v lintian >/dev/null; then
  lintian --fail-on error "$deb" >"$tmp/lintian.txt" 2>&1 || {
    cat "$tmp/lintian.txt" >&2
    fail "lintian reports errors"
  }
  sed 's/^/lintian: /' "$tmp/lintian.txt"
fi
echo "package_test: $(basename "$deb") ok"
