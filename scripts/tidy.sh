#!/usr/bin/env bash
# Runs clang-tidy (the checks in .clang-tidy) on the project's C++ sources with the compile
# commands of build directory BUILD; any warning fails the run.
#
#   scripts/tidy.sh BUILD            the files changed by the last commit and in the work tree
#                                    (what make test runs: a whole-tree run takes too long for CI)
#   scripts/tidy.sh BUILD --all      every source file (make tidy)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:?usage: scripts/tidy.sh BUILD [--all]}
if [ "${2:-}" = "--all" ]; then
  files=$(git ls-files '*.cc')
else
  files=$( (git diff --name-only HEAD~1 HEAD 2>/dev/null || true; git diff --name-only HEAD) |
    { grep '\.cc$' || true; } | sort -u)  # a commit may change no source file
fi
if [ -z "$files" ]; then
  echo "tidy: no changed source files"
  exit 0
fi
# The build compiles its sources eight to a file (a unity build): clang-tidy gets the compile
# commands of each file alone, from a tree configured (not built) without it beside the build's.
db=$build/tidy
mkdir -p "$db"
cmake -S . -B "$db/tree" -DCMAKE_BUILD_TYPE="$(sed -n 's/^CMAKE_BUILD_TYPE:[A-Z]*=//p' \
  "$build/CMakeCache.txt")" -DCMAKE_UNITY_BUILD=OFF >/dev/null
# clang cannot read GCC's precompiled header of the tests: clang-tidy gets the compile commands
# without it (each test includes GoogleTest itself).
sed -E 's# -Winvalid-pch -include [^ ]*/cmake_pch\.hxx##' "$db/tree/compile_commands.json" \
  >"$db/compile_commands.json"
# Only translation units the build compiles (fuzzers need clang's fuzzing build).
list=()
for f in $files; do
  [ -f "$f" ] && grep -q "\"file\": \"$PWD/$f\"" "$db/compile_commands.json" && list+=("$f")
done
if [ ${#list[@]} -eq 0 ]; then
  echo "tidy: no changed source files"
  exit 0
fi
echo "tidy: ${#list[@]} files"
status=0
out=$(printf '%s\n' "${list[@]}" | xargs -P "$(nproc)" -n 1 clang-tidy -p "$db" --quiet \
  --warnings-as-errors='*' 2>&1) || status=$?
printf '%s\n' "$out" | grep -v 'warnings\? generated\.$' | sed '/^$/d' || true
if [ "$status" != 0 ]; then
  echo "tidy: clang-tidy found problems (above)"
  exit 1
fi
echo "tidy: ok"
