#!/usr/bin/env bash
# Builds mxgate and runs it on the development config: loopback ports
# (mx on 127.0.0.1:2525, metrics on 127.0.0.1:9325), spool in ./dev-spool,
# a self-signed certificate generated on first start. No root needed to run;
# installing the Debian packages uses sudo when not root.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ "${MXGATE_SKIP_DEPS:-0}" != 1 ]; then bash contrib/install-deps.sh; fi
# clang-16: GCC 12 miscompiles C++20 coroutines (docs/design.md).
cmake -S . -B build -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo \
      -DCMAKE_C_COMPILER=clang-16 -DCMAKE_CXX_COMPILER=clang++-16 >/dev/null
cmake --build build --target mxgate
exec ./build/mxgate serve -c contrib/mxgate.dev.yaml "$@"
