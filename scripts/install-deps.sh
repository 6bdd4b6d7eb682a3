#!/usr/bin/env bash
# Installs the Debian packages shixin needs to build and test, only those that are missing.
# Safe to run repeatedly; does nothing when everything is present.
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libabsl-dev libsimdjson-dev libxxhash-dev libgtest-dev libgmock-dev libbenchmark-dev
  libboost-dev libjemalloc-dev liburcu-dev libtomlplusplus-dev libsystemd-dev liburing-dev nlohmann-json3-dev libssl-dev
  clang clang-format clang-tidy libclang-rt-14-dev lld
  # Tests render the HTML reports and notices in a real browser, with Chinese fonts.
  chromium fonts-noto-cjk
  # Metrics (Prometheus exposition), replicas behind a load balancer, the Debian package, the
  # OpenAPI document's validation, and curl for the demo.
  prometheus-cpp-dev haproxy lintian dpkg-dev python3-jsonschema python3-yaml
  openapi-specification curl
  # The HTTP API's load benchmark (scripts/bench-http.sh).
  wrk
)

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

echo "install-deps: installing ${missing[*]}" >&2
sudo_cmd=()
if [ "$(id -u)" -ne 0 ]; then
  sudo_cmd=(sudo)
fi
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
