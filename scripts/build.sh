#!/usr/bin/env bash
# Configures and builds Rivet into ${BUILD_DIR:-build}. Warnings are errors under CI=true.
# Extra arguments go to `cmake --build`, e.g. `--target rivet` for the binary alone.
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR=${BUILD_DIR:-build}
WERROR=OFF
[ "${CI:-}" = "true" ] && WERROR=ON
cmake -S . -B "$BUILD_DIR" -DCMAKE_BUILD_TYPE=RelWithDebInfo -DRIVET_WERROR="$WERROR" >/dev/null
cmake --build "$BUILD_DIR" -j"$(nproc)" "$@"
