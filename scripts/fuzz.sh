#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 20), as many at a time as there are cores:
#   frame_fuzzer          protocol/fuzz/frame_fuzzer.cc: wire::DecodeFrame and every payload
#                         decoder
#   record_fuzzer         core/fuzz/record_fuzzer.cc: ParseCaseRecord, ParseRelationRecord
#   snapshot_file_fuzzer  core/fuzz/snapshot_file_fuzzer.cc: OpenSnapshotFile and every accessor
#                         and query of what it accepts
#   delta_fuzzer          core/fuzz/delta_fuzzer.cc: ParseDelta (one delta file's text), and
#                         its application to data/sample
#   audit_fuzzer          audit/fuzz/audit_fuzzer.cc: audit segment headers, record frames and
#                         payloads (seeded from audit/testdata/sample*.audit)
#   json_api_fuzzer       daemon/fuzz/json_api_fuzzer.cc: the HTTP JSON API's requests (bodies,
#                         paths, methods; seeded from the examples of docs/openapi.yaml)
# Corpora persist in build-fuzz/corpus/<fuzzer>, seeded from protocol/testdata/vectors.txt (one
# frame per file, plus all of them as one stream), from the lines of data/sample/*.ndjson and
# the example deltas of docs/feed.md (each line, and all of them as one file), and
# from snapshot files that this build's shixin compiles from data/sample, the sample with a gap
# between one subject's cases (listing blocks), a small generated list and an empty one (each as is, resealed and packed: the fuzzer's first input byte is a mode).
# Crash inputs land in build-fuzz/crashes/<fuzzer>/. Exits non-zero if a fuzzer fails.
#
# With FUZZ_BUILD=DIR the fuzzers build in that tree, which must be configured with
# -DSHIXIN_FUZZ=ON (make fuzz-smoke: the ASan tree of make test-asan, built once for both).
#
# Usage: [FUZZ_BUILD=DIR] scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=${FUZZ_BUILD:-build-fuzz}

if [ -z "${FUZZ_BUILD:-}" ]; then
  CC=clang CXX=clang++ cmake -S . -B "$build" -DSHIXIN_FUZZ=ON -DSHIXIN_BENCH=OFF \
    -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
elif ! grep -qx 'SHIXIN_FUZZ:BOOL=ON' "$build/CMakeCache.txt" 2>/dev/null; then
  echo "fuzz: $build is not a build tree configured with -DSHIXIN_FUZZ=ON" >&2
  exit 2
fi
cmake --build "$build" -j"$(nproc)" \
  --target frame_fuzzer record_fuzzer snapshot_file_fuzzer delta_fuzzer audit_fuzzer \
  json_api_fuzzer shixin

# Seeds: each vector "name: <hex>" as a binary file.
frame_corpus=$build/corpus/frame_fuzzer
record_corpus=$build/corpus/record_fuzzer
snapshot_corpus=$build/corpus/snapshot_file_fuzzer
delta_corpus=$build/corpus/delta_fuzzer
audit_corpus=$build/corpus/audit_fuzzer
json_api_corpus=$build/corpus/json_api_fuzzer
mkdir -p "$frame_corpus" "$record_corpus" "$snapshot_corpus" "$delta_corpus" "$audit_corpus" \
  "$json_api_corpus" "$build/crashes/frame_fuzzer" "$build/crashes/record_fuzzer" \
  "$build/crashes/snapshot_file_fuzzer" "$build/crashes/delta_fuzzer" "$build/crashes/audit_fuzzer" \
  "$build/crashes/json_api_fuzzer"
# The JSON API: each request example of docs/openapi.yaml, prefixed with the byte of its endpoint.
python3 - docs/openapi.yaml "$json_api_corpus" <<'PY'
import sys, yaml, json, os
doc = yaml.safe_load(open(sys.argv[1]))
modes = {"/v1/check": 0, "/v1/measures": 1, "/v1/feedback": 2}
for path, item in doc.get("paths", {}).items():
    if path not in modes:
        continue
    content = item.get("post", {}).get("requestBody", {}).get("content", {})
    for name, ex in content.get("application/json", {}).get("examples", {}).items():
        with open(os.path.join(sys.argv[2], "seed-%s-%s" % (path.rsplit("/", 1)[1], name)), "wb") as f:
            f.write(bytes([modes[path]]) + json.dumps(ex.get("value")).encode())
PY
printf '\003%s' 11010519491231002X >"$json_api_corpus/seed-subject"
printf '\004%s\n' 'GET /v1/subjects/91350503MA2XK7R352?asOf=2020-01-01T00:00:00Z' >"$json_api_corpus/seed-get"
# Audit segments as shixind wrote them (mode byte 0): four queries and two feedbacks in format 1
# (a chain per record); three queries and two feedbacks in format 2 (a seal per write).
{ printf '\000'; cat audit/testdata/sample.audit; } >"$audit_corpus/seed-sample-segment"
{ printf '\000'; cat audit/testdata/sample-v2.audit; } >"$audit_corpus/seed-sample-segment-v2"
stream=""
while IFS= read -r line; do
  case "$line" in '#'* | '') continue ;; esac
  name=${line%%:*}
  hex=${line#*:}
  hex=${hex// /}
  escaped=$(sed 's/../\\x&/g' <<<"$hex")
  printf '%b' "$escaped" >"$frame_corpus/seed-$name"
  stream+=$escaped
done <protocol/testdata/vectors.txt
printf '%b' "$stream" >"$frame_corpus/seed-all-vectors"
for f in data/sample/debtors.ndjson data/sample/relations.ndjson; do
  base=$(basename "$f" .ndjson)
  split -l 1 -d -a 3 "$f" "$record_corpus/seed-$base-"
done
# Deltas: the example lines of docs/feed.md's section 3 (the JSON block), and the sample's
# lines as adds and relates.
sed -n '/^```json$/,/^```$/{/^{/p}' docs/feed.md >"$delta_corpus/seed-feed-examples"
split -l 1 -d -a 3 "$delta_corpus/seed-feed-examples" "$delta_corpus/seed-feed-line-"
sed 's/^{/{"op":"add",/' data/sample/debtors.ndjson |
  split -l 4 -d -a 3 - "$delta_corpus/seed-sample-adds-"  # within -max_len
sed 's/^{/{"op":"relate","at":"2026-06-10T09:00:00+08:00",/' data/sample/relations.ndjson \
  >"$delta_corpus/seed-sample-relates"
sed 's/^{/{"op":"unrelate","at":"2026-06-10T09:00:00+08:00",/' data/sample/relations.ndjson \
  >"$delta_corpus/seed-sample-unrelates"
# Removes, revokes and corrects of the sample's cases (the fuzzer applies deltas to the sample).
python3 - data/sample/debtors.ndjson "$delta_corpus" <<'PY'
import json, sys
at = "2026-06-10T09:00:00+08:00"
lines = {"removes": [], "revokes": [], "corrects": []}
for text in open(sys.argv[1], encoding="utf-8"):
    case = json.loads(text)
    key = {"caseCode": case["caseCode"], "cardNum": case["cardNum"], "at": at}
    lines["removes"].append(dict(op="remove", reason="performed", **key))
    lines["revokes"].append(dict(op="revoke", **key))
    lines["corrects"].append(dict(case, op="correct", at=at, performance="部分履行"))
for name, changes in lines.items():
    with open("%s/seed-sample-%s" % (sys.argv[2], name), "w", encoding="utf-8") as out:
        out.writelines(json.dumps(c, ensure_ascii=False) + "\n" for c in changes[:4])
PY

# Snapshot files compiled by this build's shixin (against the default catalog, whose fingerprint
# the fuzzer's mode bit 2 expects), each prefixed with a mode byte: 0 as is, 1 resealed, 3 packed
# (the sections without their padding) and resealed, 5 resealed and checked against the catalog,
# 9 and 25 resealed and then changed in place under the open snapshot (overwritten, truncated).
seeds=$build/snapshot-seeds
rm -rf "$seeds"
mkdir -p "$seeds/empty"
: >"$seeds/empty/debtors.ndjson"
: >"$seeds/empty/relations.ndjson"
"$build/bin/shixin" gen --subjects 8 --seed 1 --out "$seeds/gen" >/dev/null
# Prints the packed form of snapshot file $1: its header and section table, then its sections
# back to back.
pack_snapshot() {
  head -c 544 "$1"
  local i offset size
  for i in 0 1 2 3 4 5 6 7 8; do
    read -r offset size < <(od -An -tu8 -j $((256 + 32 * i + 8)) -N16 "$1")
    dd if="$1" bs=4096 iflag=skip_bytes,count_bytes skip="$offset" count="$size" status=none
  done
}
# The sample with a term ending on the first case of its first subject, whose second case starts
# later: an entity with an earlier listing block (the listing_blocks section is not empty).
mkdir -p "$seeds/blocks"
sed '1s/"sexy"/"termEnd":"2016-12-31","sexy"/' data/sample/debtors.ndjson \
  >"$seeds/blocks/debtors.ndjson"
cp data/sample/relations.ndjson "$seeds/blocks/relations.ndjson"
# The sample compacted with a role ended and one begun (the link_intervals section is not
# empty).
mkdir -p "$seeds/roles-deltas"
printf '%s\n' \
  '{"op":"unrelate","orgId":"91350503MA2XK7R352","personId":"230402197605210027","role":"principal","at":"2026-06-10T09:00:00+08:00"}' \
  '{"op":"relate","orgId":"91350503MA2XK7R352","personId":"11010519491231002X","personName":"张秀兰","role":"director","at":"2026-06-10T09:00:00+08:00"}' \
  >"$seeds/roles-deltas/00000000000000000001.ndjson"
for list in sample blocks gen empty roles; do
  dir=$seeds/$list
  [ "$list" = sample ] && dir=data/sample
  if [ "$list" = roles ]; then
    "$build/bin/shixin" compile data/sample --deltas "$seeds/roles-deltas" \
      -o "$seeds/$list.snap" >/dev/null
  else
    "$build/bin/shixin" compile --allow-empty --data "$dir" -o "$seeds/$list.snap" >/dev/null
  fi
  { printf '\000'; cat "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-raw"
  { printf '\001'; cat "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-resealed"
  { printf '\003'; pack_snapshot "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-packed"
  { printf '\005'; cat "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-catalog"
  { printf '\011'; cat "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-overwritten"
  { printf '\031'; cat "$seeds/$list.snap"; } >"$snapshot_corpus/seed-$list-truncated"
done

# The keys and values of the court's feed and of deltas, to steer the record and delta fuzzers.
dict=$build/record.dict
for word in caseCode iname cardNum partyTypeName businessEntity courtName areaName gistId \
  gistUnit regDate publishDate publishDateStamp duty performance performedPart unperformPart \
  disruptTypeName age sexy orgId personId personName role legal_representative principal \
  actual_controller directly_responsible director supervisor senior_manager null true '\u' \
  '年' '月' '日' '男性' '女' '自然人' '法人' '581' op add remove revoke correct relate unrelate \
  at reason termEnd performed other '2026-06-10T09:00:00+08:00' 'Z'; do
  # Every byte as \xHH: libFuzzer's dictionary parser takes only printable ASCII.
  printf '"%s"\n' "$(printf '%s' "$word" | od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')"
done >"$dict"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
# Runs fuzzer $1 for the time given; its log in $build/$1.log, its exit status in
# $build/$1.status.
run_fuzzer() {
  local fuzzer=$1 extra=(-max_len=8192) rc=0
  case $fuzzer in
    record_fuzzer | delta_fuzzer) extra+=(-dict="$dict") ;;
    # The unpacked seeds are 8 - 33 KiB (sections start at multiples of 4096).
    snapshot_file_fuzzer) extra=(-max_len=65536) ;;
  esac
  "$build/bin/$fuzzer" -max_total_time="$seconds" -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$fuzzer/" "${extra[@]}" "$build/corpus/$fuzzer" \
    2>"$build/$fuzzer.log" || rc=$?
  echo "$rc" >"$build/$fuzzer.status"
}
# As many fuzzers at a time as there are cores (each is one process on one core).
fuzzers=(frame_fuzzer record_fuzzer snapshot_file_fuzzer delta_fuzzer audit_fuzzer json_api_fuzzer)
jobs=$(nproc)
running=0
for fuzzer in "${fuzzers[@]}"; do
  if [ "$running" -ge "$jobs" ]; then
    wait -n || true
    running=$((running - 1))
  fi
  echo "fuzz: running $fuzzer for ${seconds}s" >&2
  rm -f "$build/$fuzzer.status"
  run_fuzzer "$fuzzer" &
  running=$((running + 1))
done
wait || true
status=0
for fuzzer in "${fuzzers[@]}"; do
  if [ "$(cat "$build/$fuzzer.status" 2>/dev/null)" != 0 ]; then
    echo "fuzz: $fuzzer FAILED; see $build/$fuzzer.log and $build/crashes/$fuzzer/" >&2
    tail -40 "$build/$fuzzer.log" >&2
    status=1
  else
    echo "fuzz: $fuzzer:" >&2
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$build/$fuzzer.log" >&2 || true
  fi
done
exit $status
