#!/usr/bin/env bash
# Builds the libFuzzer targets with clang (ASan + UBSan) in build-fuzz/ and runs each for
# SECONDS (default 20):
#   frame_fuzzer   protocol/fuzz/frame_fuzzer.cc: wire::DecodeFrame and every payload decoder
#   record_fuzzer  core/fuzz/record_fuzzer.cc: ParseCaseRecord, ParseRelationRecord
# Corpora persist in build-fuzz/corpus/<fuzzer>, seeded from protocol/testdata/vectors.txt (one
# frame per file, plus all of them as one stream) and from the lines of data/sample/*.ndjson.
# Crash inputs land in build-fuzz/crashes/<fuzzer>/. Exits non-zero if a fuzzer fails.
#
# Usage: scripts/fuzz.sh [SECONDS]
set -euo pipefail
cd "$(dirname "$0")/.."
seconds=${1:-20}
build=build-fuzz

CC=clang CXX=clang++ cmake -S . -B "$build" -DSHIXIN_FUZZ=ON -DSHIXIN_BENCH=OFF \
  -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build "$build" -j"$(nproc)" --target frame_fuzzer record_fuzzer

# Seeds: each vector "name: <hex>" as a binary file.
frame_corpus=$build/corpus/frame_fuzzer
record_corpus=$build/corpus/record_fuzzer
mkdir -p "$frame_corpus" "$record_corpus" "$build/crashes/frame_fuzzer" \
  "$build/crashes/record_fuzzer"
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

# The keys and values of the court's feed, to steer the record fuzzer.
dict=$build/record.dict
for word in caseCode iname cardNum partyTypeName businessEntity courtName areaName gistId \
  gistUnit regDate publishDate publishDateStamp duty performance performedPart unperformPart \
  disruptTypeName age sexy orgId personId personName role legal_representative principal \
  actual_controller directly_responsible director supervisor senior_manager null true '\u' \
  '年' '月' '日' '男性' '女' '自然人' '法人' '581'; do
  # Every byte as \xHH: libFuzzer's dictionary parser takes only printable ASCII.
  printf '"%s"\n' "$(printf '%s' "$word" | od -An -v -tx1 | tr -d ' \n' | sed 's/../\\x&/g')"
done >"$dict"

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:abort_on_error=1}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}
status=0
for fuzzer in frame_fuzzer record_fuzzer; do
  extra=()
  [ "$fuzzer" = record_fuzzer ] && extra=(-dict="$dict")
  echo "fuzz: running $fuzzer for ${seconds}s" >&2
  if ! "$build/bin/$fuzzer" -max_total_time="$seconds" -max_len=8192 -print_final_stats=1 \
    -artifact_prefix="$build/crashes/$fuzzer/" "${extra[@]}" "$build/corpus/$fuzzer" \
    2>"$build/$fuzzer.log"; then
    echo "fuzz: $fuzzer FAILED; see $build/$fuzzer.log and $build/crashes/$fuzzer/" >&2
    tail -40 "$build/$fuzzer.log" >&2
    status=1
  else
    grep -E '^stat::number_of_executed_units|^#[0-9]+.*DONE' "$build/$fuzzer.log" >&2 || true
  fi
done
exit $status
