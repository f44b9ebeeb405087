#!/usr/bin/env bash
# Builds concur and runs its tests: `bash tools/test.sh [preset...]` (default: release).
# Presets: release, debug, asan (AddressSanitizer + UBSan), tsan (ThreadSanitizer).
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
concur_install_deps
presets=("$@")
[ ${#presets[@]} -eq 0 ] && presets=(release)
for preset in "${presets[@]}"; do
  echo "=== concur: ${preset} build and tests"
  cmake --preset "$preset" >/dev/null
  cmake --build --preset "$preset" -j "$(nproc)"
  ctest --preset "$preset"
done
