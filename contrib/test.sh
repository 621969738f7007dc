#!/usr/bin/env bash
# Builds everything and runs all tests: unit tests, fuzz-corpus replays and
# integration tests with real peers (swaks, smtplib, Postfix's smtp-sink and
# a private Postfix, unbound as a loopback DNS server).
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MXGATE_SKIP_DEPS:-0}" != 1 ]; then bash contrib/install-deps.sh; fi
# clang-16: GCC 12 miscompiles C++20 coroutines (docs/design.md).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 >/dev/null
cmake --build build
cd build
ctest --output-on-failure -j2 --timeout 900 "$@"
