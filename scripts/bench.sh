#!/usr/bin/env bash
# `npm run bench [-- --quick | --write | --profile | --only=ack,...]`: starts Redis and the private Docker
# engine when absent, then measures (bench/run.ts says what each option does).
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
source scripts/services.sh
ensure_services
npx tsx bench/run.ts "$@"
