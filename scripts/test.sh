#!/usr/bin/env bash
# Runs every test: installs what the tests need, builds, then runs the suite.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup-system.sh
[ -d node_modules ] || npm ci
npm run build
exec node --test --test-reporter=spec dist/test/
