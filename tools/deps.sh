#!/usr/bin/env bash
# Installs the Debian packages concur's build, tests, benchmarks and lab use, if any is missing.
# Sourced by tools/test.sh and tools/lab.sh. Needs root (or sudo) only when something is missing.
CONCUR_DEBIAN_PACKAGES=(
  g++ cmake ninja-build pkg-config git
  libgtest-dev libgmock-dev libbenchmark-dev   # tests and benchmarks
  libtbb-dev libconcurrentqueue-dev libasio-dev libuv1-dev   # the C++ rivals measured beside concur
  libcereal-dev                                # ProcessPoolExecutor serialization
  libssl-dev openssl                           # the SHA-256 and openssl-pipeline experiments
  python3                                      # CPython running the seeds' code in the same run
  libcli11-dev                                 # concur-lab's command line
  libopenmpi-dev openmpi-bin python3-mpi4py    # concur::mpi
  clang libclang-rt-14-dev                     # libFuzzer for the frame decoder
)

concur_install_deps() {
  local missing=()
  for p in "${CONCUR_DEBIAN_PACKAGES[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing+=("$p")
  done
  [ ${#missing[@]} -eq 0 ] && return 0
  echo "concur: installing missing Debian packages: ${missing[*]}"
  local sudo=""
  [ "$(id -u)" -ne 0 ] && sudo="sudo"
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
}
