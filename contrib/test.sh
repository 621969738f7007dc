#!/usr/bin/env bash
# Builds everything and runs all tests: unit tests, fuzz-corpus replays and
# integration tests with real peers (swaks, smtplib, Postfix's smtp-sink and
# a private Postfix, unbound as a loopback DNS server).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MXGATE_SKIP_DEPS:-0}" != 1 ]; then bash contrib/install-deps.sh; fi
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo >/dev/null
cmake --build build
cd build
ctest --output-on-failure -j2 --timeout 900 "$@"
