#!/usr/bin/env bash
# `npm run release:check`: builds what would be published, from a clean clone
# of HEAD (committed work only), and runs both smoke tests on those very
# artifacts: the npm tarball (npm publish --dry-run, npx, a global install)
# and the single binary (an empty folder, no node on PATH, serve + curl +
# SIGTERM). They are left in dist/release/ of this checkout.
set -euo pipefail
repo=$(cd "$(dirname "$0")/.." && pwd)
work=$(mktemp -d "${TMPDIR:-/tmp}/cortex-local-release-XXXXXX")
trap 'rm -rf "$work"' EXIT

git clone --quiet --no-local "$repo" "$work/clone"
cd "$work/clone"
echo "release-check: clean clone of $(git rev-parse --short HEAD) in $work/clone"
npm ci --no-audit --no-fund
npm run build
tarball="$work/$(npm pack --silent --pack-destination "$work")"
npm run build:binary -- --out "$work/cortex-local-linux-x64"
# The smoke tests serve examples/hello, which needs no package: a bare
# virtualenv stands in for the suite's .venv-test (TensorFlow and all).
python3 -m venv .venv-test
CORTEX_LOCAL_TEST_TARBALL="$tarball" CORTEX_LOCAL_TEST_BINARY="$work/cortex-local-linux-x64" \
  node --test --test-concurrency=1 test/package/package.test.ts test/single-binary/binary.test.ts

mkdir -p "$repo/dist/release"
cp "$tarball" "$work/cortex-local-linux-x64" "$repo/dist/release/"
echo "release-check: passed; artifacts in dist/release/: $(basename "$tarball"), cortex-local-linux-x64"
