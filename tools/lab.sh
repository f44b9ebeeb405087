#!/usr/bin/env bash
# Builds concur-lab (release) and runs the seeds' experiments: `bash tools/lab.sh [concur-lab args...]`.
set -euo pipefail
cd "$(dirname "$0")/.."
source tools/deps.sh
concur_install_deps
cmake --preset release >/dev/null
cmake --build --preset release -j "$(nproc)" --target concur-lab
exec build/release/tools/concur-lab/concur-lab "$@"
