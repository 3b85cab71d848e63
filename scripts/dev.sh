#!/usr/bin/env bash
# Quick start: runs the bot and one worker on this machine.
#  - Redis: $REDIS_URL when you set it, else a private one this script starts (scripts/services.sh).
#  - Docker: $DOCKER_HOST when you set it, else a private engine with the offline demo image. The
#    host's own engine is used only when you ask: DOCKER_HOST=unix:///var/run/docker.sock npm run dev
#  Neither is ever flushed or stopped here; `npm run services:stop` stops the private ones.
#  - Config: $DS01_CONFIG, else a demo config with one user (alice) and a project "demo".
#  - Slack: with SLACK_BOT_TOKEN + SLACK_SIGNING_SECRET (or SLACK_APP_TOKEN) the bot connects to
#    Slack; without them it runs a local console: type "launch demo" and watch what it would say.
set -euo pipefail
cd "$(dirname "$0")/.."
[ -d node_modules ] || npm ci --no-audit --no-fund
source scripts/services.sh
_apt_install
if [ -n "${REDIS_URL:-}" ]; then
  redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 || { echo "[dev] REDIS_URL=$REDIS_URL does not answer" >&2; exit 1; }
else ensure_redis; fi
if [ -n "${DOCKER_HOST:-}" ]; then
  docker -H "$DOCKER_HOST" version >/dev/null 2>&1 || { echo "[dev] DOCKER_HOST=$DOCKER_HOST does not answer" >&2; exit 1; }
else ensure_docker; fi
ensure_base_image

if [ -z "${DS01_CONFIG:-}" ]; then
  demo="$DS01_RUN_DIR/demo"
  mkdir -p "$demo/home/alice/workspace/demo"
  cat > "$demo/config.yaml" <<YAML
notify_channel: C0DS01NOTE
workspaces: $demo/home/{user}/workspace
limits_file: $PWD/config/resource-limits.yaml
admin_contact: "#ds01-help"
users:
  - { slack_id: ${DS01_DEMO_SLACK_ID:-U0ALICE}, user: alice, uid: 1001, group: student }
YAML
  [ -f "$demo/home/alice/workspace/demo/Dockerfile" ] || cat > "$demo/home/alice/workspace/demo/Dockerfile" <<DOCKERFILE
FROM $DS01_TEST_BASE_IMAGE
ARG DS01_USER_ID
ARG DS01_USERNAME

# Custom additional packages
RUN pip install --no-cache-dir numpy==1.26.4

WORKDIR /workspace
DOCKERFILE
  # The worker checks that a project folder belongs to its user, as on a real host.
  if [ "$(id -u)" = 0 ]; then chown -R 1001:1001 "$demo/home/alice"; fi
  export DS01_CONFIG="$demo/config.yaml"
  echo "[dev] demo config: $DS01_CONFIG (user alice, project demo)" >&2
fi
if [ -z "${DS01_GPUS:-}" ]; then
  if command -v nvidia-smi >/dev/null && nvidia-smi -L >/dev/null 2>&1; then export DS01_GPUS=nvidia; else export DS01_GPUS=fake:4; fi
fi
export DS01_HOST_ID=${DS01_HOST_ID:-$(hostname | tr -c 'A-Za-z0-9_.\n-' '-')}
echo "[dev] worker: host $DS01_HOST_ID, GPUs $DS01_GPUS, Docker $DOCKER_HOST; Redis $REDIS_URL" >&2

# The local console only when no Slack variable is set at all: the bot refuses a partial Slack setup.
if [ -z "${SLACK_BOT_TOKEN:-}${SLACK_APP_TOKEN:-}${SLACK_SIGNING_SECRET:-}" ]; then export DS01_LOCAL_CONSOLE=1; fi

mkdir -p "$DS01_RUN_DIR"
# Bot and worker sign their jobs and events with a shared secret; a local one is made once.
if [ -z "${DS01_JOB_SECRET:-}" ] && [ -z "${DS01_JOB_SECRET_FILE:-}" ]; then
  [ -s "$DS01_RUN_DIR/job-secret" ] || (umask 077; od -An -tx1 -N32 /dev/urandom | tr -d ' \n' > "$DS01_RUN_DIR/job-secret")
  export DS01_JOB_SECRET_FILE="$DS01_RUN_DIR/job-secret"
fi
# The worker in a session of its own (its pid is its process group), so stopping it reaches tsx's
# node child too, and the terminal's Ctrl-C does not: it gets SIGTERM and finishes running jobs.
setsid node_modules/.bin/tsx workers/main.ts >"$DS01_RUN_DIR/worker.log" 2>&1 &
worker=$!
# Ctrl-C / Ctrl-D stop the bot and this worker; Redis and the engine (and users' containers) stay.
trap 'kill -TERM -- -$worker 2>/dev/null || true; wait $worker 2>/dev/null || true; services_hint' EXIT
echo "[dev] worker log: $DS01_RUN_DIR/worker.log" >&2
export DS01_LOG_FILE=${DS01_LOG_FILE:-$DS01_RUN_DIR/bot.log}
node_modules/.bin/tsx src/main.ts
