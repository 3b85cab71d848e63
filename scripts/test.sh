#!/usr/bin/env bash
# The whole test suite: starts Redis and a private Docker engine when absent, then checks lint and format (Biome:
# the import direction and a few correctness rules), typechecks
# and runs every test, then the benchmark in quick mode. `npm test` runs this; `.ci/run` runs `npm test`.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
source scripts/services.sh
ensure_services
trap services_hint EXIT
npx biome check
npx tsc --noEmit
npx vitest run "$@"
if [ "$#" -eq 0 ]; then
  # The whole suite also checks that `npm run bench -- --quick` still runs end to end (a few
  # samples of each figure, about 15 s). Its numbers are not checked: timings are no test.
  npx tsx bench/run.ts --quick
fi
