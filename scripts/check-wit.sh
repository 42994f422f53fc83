#!/usr/bin/env bash
# Checks the WIT files and the guest ABI with wasm-tools, run through jco (npm
# @bytecodealliance/jco, which packages wasm-tools as WebAssembly for Node.js): see
# scripts/check-wit.mjs for what is checked. Not part of scripts/test.sh, whose dependencies
# are Debian packages only: this fetches jco from the npm registry into build/tools/jco the
# first time. Needs Node.js >= 20 and npm.
#   scripts/check-wit.sh [--update]   (--update rewrites tests/wasm/fixtures/wasm-tools-dummy.wasm)
set -euo pipefail
cd "$(dirname "$0")/.."

JCO_VERSION=1.35.0
TOOLS=build/tools/jco
if ! command -v node >/dev/null || ! command -v npm >/dev/null; then
  echo "check-wit: needs node (>= 20) and npm" >&2
  exit 1
fi
major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$major" -lt 20 ]; then
  echo "check-wit: needs Node.js >= 20 (have $(node --version))" >&2
  exit 1
fi
scripts/setup.sh >&2  # the guests to check
if [ ! -f "$TOOLS/node_modules/@bytecodealliance/jco/package.json" ] ||
   ! grep -q "\"version\": \"$JCO_VERSION\"" "$TOOLS/node_modules/@bytecodealliance/jco/package.json"; then
  mkdir -p "$TOOLS"
  echo "check-wit: installing @bytecodealliance/jco@$JCO_VERSION into $TOOLS" >&2
  npm install --prefix "$TOOLS" --no-audit --no-fund --silent "@bytecodealliance/jco@$JCO_VERSION" >&2
fi
cp scripts/check-wit.mjs "$TOOLS/check-wit.mjs"  # resolves jco from $TOOLS/node_modules
node "$TOOLS/check-wit.mjs" "$PWD" "$PWD/build/guests/wasm" "$@"
