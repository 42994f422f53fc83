#!/usr/bin/env bash
# Installs every Debian package troupe needs (build, tests, benchmarks) and builds into build/.
# Idempotent and quick when nothing changed: apt runs only when a package is missing, and the
# build step is an incremental ninja run.
#   scripts/setup.sh [--build-dir DIR] [--sanitize thread|address] [--no-build]
set -euo pipefail
cd "$(dirname "$0")/.."

BUILD_DIR=build
SANITIZE=""
DO_BUILD=1
while [ $# -gt 0 ]; do
  case "$1" in
    --build-dir) BUILD_DIR="$2"; shift 2 ;;
    --sanitize) SANITIZE="$2"; shift 2 ;;
    --sanitize=*) SANITIZE="${1#*=}"; shift ;;
    --no-build) DO_BUILD=0; shift ;;
    *) echo "setup.sh: unknown argument '$1'" >&2; exit 1 ;;
  esac
done

PACKAGES=(
  g++ cmake ninja-build ccache pkg-config git
  libspdlog-dev libfmt-dev libtomlplusplus-dev libcli11-dev nlohmann-json3-dev libboost-dev
  libgtest-dev libgmock-dev
  wabt libboost-context-dev libsodium-dev libzip-dev libsqlite3-dev
  clang-16 lld-16 llvm-16 wasi-libc libc++-16-dev-wasm32 libc++abi-16-dev-wasm32 libclang-rt-16-dev-wasm32
  libcaf-dev
  iproute2 stress-ng  # tests/cli/mesh_partition_test.cc: network namespaces, CPU stress
)

missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  echo "setup: installing ${missing[*]}"
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null
fi

[ "$DO_BUILD" = 1 ] || exit 0

if [ ! -f "$BUILD_DIR/build.ninja" ]; then
  args=(-S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo)
  if [ -n "$SANITIZE" ]; then args+=("-DTROUPE_SANITIZE=$SANITIZE"); fi
  cmake "${args[@]}" >/dev/null
fi
# Quiet progress lines, keep compiler messages; a failed build fails the script.
set +e
ninja -C "$BUILD_DIR" -j2 2>&1 | grep -vE '^\[[0-9]+/[0-9]+\] '
status=${PIPESTATUS[0]}
set -e
if [ "$status" -ne 0 ]; then
  echo "setup: build failed (ninja exit $status)" >&2
  exit "$status"
fi
