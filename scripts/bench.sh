#!/usr/bin/env bash
# `npm run bench`: starts Redis and the private Docker engine when absent, then measures.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
source scripts/services.sh
ensure_services
npx tsx bench/run.ts
