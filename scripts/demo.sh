#!/usr/bin/env bash
# The demo of the quick start: queries the shipped sample list with the offline CLI and shows
# what a newcomer should see. Usage: scripts/demo.sh BIN_DIR
set -uo pipefail
cd "$(dirname "$0")/.."
bin=${1:-build/bin}
data=data/sample
shixin() { "$bin/shixin" "$@"; }
bold=""; plain=""
if [ -t 1 ]; then bold=$'\033[1m'; plain=$'\033[0m'; fi
step() { printf '\n%s$ shixin %s%s\n' "$bold" "$*" "$plain"; shixin "$@"; }

echo "The sample list (data/sample, described in data/sample/README.md):"
step check --data "$data" 11010519491231002X
echo "  -> a listed person with two cases"
step check --data "$data" 230402197203140038
echo "  -> not listed, but the legal representative of a listed company: a related person"
step measures --data "$data" 230402197203140038
echo "  -> the measures that reach a related person, each with its basis"
step check --data "$data" 230402199001010015
echo "  -> a valid ID that is not on the list"
step check --data "$data" 110105194912310021
echo "  -> a wrong check digit is rejected with the reason (exit status 1)"
step measures --data "$data" --scenario hotel 91350503MA2XK7R352
echo "  -> a hotel asks about a listed company"
step measures --json --data "$data" --scenario bank_credit \
  --officer legal_representative=230402197203140038 912304216987123405
echo "  -> a bank asks about a borrower whose legal representative leads a listed company (measure 52)"
echo
echo "More: build/bin/shixin help; generate a national-size list with"
echo "  build/bin/shixin gen --subjects 10000000 --out /tmp/list-10m"
exit 0
