#!/usr/bin/env bash
# The whole test suite: starts Redis and a private Docker engine when absent, then typechecks
# and runs every test. `npm test` runs this; `.ci/run` runs `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
source scripts/services.sh
ensure_services
trap services_hint EXIT
npx tsc --noEmit
npx vitest run "$@"
