#!/usr/bin/env bash
# Starts what the tests and the local quick start need, when it is absent:
#   - a private Redis on 127.0.0.1 (a free port, or $DS01_TEST_REDIS_PORT)
#   - a private Docker engine (its own --data-root, --exec-root and unix socket under the run dir)
#   - the offline test base image ds01-test/base:<hash of the stand-ins> (busybox + pip/apt-get stand-ins)
# Source it, then call ensure_services. `bash scripts/services.sh stop` (npm run services:stop)
# stops what it started, and nothing else.
#
# Never someone else's: what this script starts is recorded under $DS01_RUN_DIR (pid files, the
# Redis port), and only a Redis or engine recorded there is reused, flushed by tests or stopped.
# A Redis that answers on the chosen port but was not started from this run dir is refused.
# Installs Debian's redis-server, docker.io, busybox-static and docker-compose with apt when missing.

DS01_RUN_DIR=${DS01_RUN_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run"}
# The tag follows the stand-ins' content, so a changed stand-in gets a fresh image.
DS01_TEST_BASE_IMAGE=${DS01_TEST_BASE_IMAGE:-ds01-test/base:$(cat "$(dirname "${BASH_SOURCE[0]}")"/test-image/* | md5sum | cut -c1-12)}
# Unix socket paths are limited to ~107 bytes; keep the engine's socket short and per-checkout.
DS01_DOCKER_SOCK=${DS01_DOCKER_SOCK:-"/tmp/ds01-docker-$(echo "$DS01_RUN_DIR" | md5sum | cut -c1-8).sock"}
_DS01_REDIS_DIR="$DS01_RUN_DIR/redis"
_DS01_DOCKER_DIR="$DS01_RUN_DIR/docker"

_log() { echo "[services] $*" >&2; }

_have_compose() { docker compose version >/dev/null 2>&1 || command -v docker-compose >/dev/null; }

_apt_install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
  _have_compose || missing+=(docker-compose)
  ((${#missing[@]})) || return 0
  if [ "$(id -u)" != 0 ]; then _log "missing ${missing[*]} and not root: install them first"; return 1; fi
  _log "installing ${missing[*]} with apt"
  apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    "${missing[@]}" iptables tini >/dev/null
}

_wait_for() { # _wait_for <seconds> <command...>
  local deadline=$((SECONDS + $1)); shift
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < deadline)) || return 1
    sleep 0.2
  done
}

_free_port() {
  node -e "const s=require('node:net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})"
}

_pid_alive() { [ -n "${1:-}" ] && kill -0 "$1" 2>/dev/null; }

# True when the Redis answering on port $1 is the one this run dir started (same process id).
_redis_is_ours() {
  local port=$1 pid
  pid=$(cat "$_DS01_REDIS_DIR/redis.pid" 2>/dev/null) || return 1
  _pid_alive "$pid" || return 1
  [ "$(redis-cli -p "$port" info server 2>/dev/null | tr -d '\r' | sed -n 's/^process_id://p')" = "$pid" ]
}

ensure_redis() {
  if [ -n "${DS01_TEST_REDIS_URL:-}" ]; then
    # An explicit URL is the caller's own choice (e.g. CI's service container): used as given.
    export REDIS_URL=$DS01_TEST_REDIS_URL
    redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1 || { _log "DS01_TEST_REDIS_URL=$REDIS_URL does not answer"; return 1; }
    return 0
  fi
  mkdir -p "$_DS01_REDIS_DIR"
  local port=${DS01_TEST_REDIS_PORT:-$(cat "$_DS01_REDIS_DIR/port" 2>/dev/null)}
  if [ -n "$port" ] && redis-cli -p "$port" ping >/dev/null 2>&1; then
    if _redis_is_ours "$port"; then
      export DS01_TEST_REDIS_PORT=$port REDIS_URL="redis://127.0.0.1:$port"
      return 0
    fi
    if [ -n "${DS01_TEST_REDIS_PORT:-}" ]; then
      _log "a Redis this checkout did not start answers on port $port: refusing to use (and flush) it."
      _log "Set DS01_TEST_REDIS_PORT to a free port, or unset it and a free one is chosen."
      return 1
    fi
    port="" # our recorded port now belongs to someone else: pick another
  fi
  [ -n "$port" ] || port=$(_free_port)
  _log "starting redis-server on 127.0.0.1:$port (data in $_DS01_REDIS_DIR)"
  redis-server --port "$port" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$_DS01_REDIS_DIR" --daemonize yes --pidfile "$_DS01_REDIS_DIR/redis.pid" \
    --logfile "$_DS01_REDIS_DIR/redis.log" >/dev/null
  echo "$port" > "$_DS01_REDIS_DIR/port"
  _wait_for 20 _redis_is_ours "$port" || { _log "redis did not start on port $port; see $_DS01_REDIS_DIR/redis.log"; return 1; }
  export DS01_TEST_REDIS_PORT=$port REDIS_URL="redis://127.0.0.1:$port"
}

_docker_is_ours() {
  local pid
  pid=$(cat "$_DS01_DOCKER_DIR/dockerd.pid" 2>/dev/null) || return 1
  _pid_alive "$pid" && docker -H "unix://$DS01_DOCKER_SOCK" version >/dev/null 2>&1
}

ensure_docker() {
  if [ -n "${DS01_TEST_DOCKER_HOST:-}" ]; then
    # An explicit engine is the caller's own choice: used as given.
    export DOCKER_HOST=$DS01_TEST_DOCKER_HOST
    docker -H "$DOCKER_HOST" version >/dev/null 2>&1 || { _log "DS01_TEST_DOCKER_HOST=$DOCKER_HOST does not answer"; return 1; }
    return 0
  fi
  export DOCKER_HOST="unix://$DS01_DOCKER_SOCK"
  if _docker_is_ours; then return 0; fi
  if docker -H "$DOCKER_HOST" version >/dev/null 2>&1; then
    _log "an engine this checkout did not start answers at $DOCKER_HOST: refusing to use it. Set DS01_DOCKER_SOCK to another path."
    return 1
  fi
  mkdir -p "$_DS01_DOCKER_DIR/data" "$_DS01_DOCKER_DIR/exec"
  _log "starting a private dockerd at $DOCKER_HOST"
  # No bridge and no iptables: test containers need no network, and the host's firewall is not ours.
  nohup dockerd --data-root "$_DS01_DOCKER_DIR/data" --exec-root "$_DS01_DOCKER_DIR/exec" --host "$DOCKER_HOST" \
    --pidfile "$_DS01_DOCKER_DIR/dockerd.pid" --iptables=false --ip6tables=false --bridge=none \
    >"$_DS01_DOCKER_DIR/dockerd.log" 2>&1 &
  _wait_for 60 _docker_is_ours || {
    _log "dockerd did not start; see $_DS01_DOCKER_DIR/dockerd.log"
    tail -20 "$_DS01_DOCKER_DIR/dockerd.log" >&2
    return 1
  }
}

ensure_base_image() {
  export DS01_TEST_BASE_IMAGE
  if docker -H "$DOCKER_HOST" image inspect "$DS01_TEST_BASE_IMAGE" >/dev/null 2>&1; then return 0; fi
  _log "building the offline test base image $DS01_TEST_BASE_IMAGE"
  local here rootfs
  here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
  rootfs=$(mktemp -d)
  mkdir -p "$rootfs/bin" "$rootfs/usr/local/bin" "$rootfs/usr/local/lib" "$rootfs/tmp" "$rootfs/etc" \
    "$rootfs/var/lib" "$rootfs/workspace" "$rootfs/root"
  chmod 1777 "$rootfs/tmp"
  cp /bin/busybox "$rootfs/bin/busybox"
  for a in $(/bin/busybox --list); do [ -e "$rootfs/bin/$a" ] || ln -s busybox "$rootfs/bin/$a"; done
  cp "$here/test-image/pip" "$here/test-image/apt-get" "$rootfs/usr/local/bin/"
  ln -s pip "$rootfs/usr/local/bin/pip3"
  echo 'root:x:0:0:root:/root:/bin/sh' > "$rootfs/etc/passwd"
  echo 'root:x:0:' > "$rootfs/etc/group"
  tar -C "$rootfs" -c . | docker -H "$DOCKER_HOST" import \
    -c 'ENV PATH=/usr/local/bin:/bin' -c 'CMD ["/bin/sh"]' - "$DS01_TEST_BASE_IMAGE" >/dev/null
  rm -rf "$rootfs"
}

ensure_services() {
  _apt_install && ensure_redis && ensure_docker && ensure_base_image
}

# Stops the Redis and the engine this run dir started; anything else is left alone.
stop_services() {
  local port pid
  port=$(cat "$_DS01_REDIS_DIR/port" 2>/dev/null || true)
  if [ -n "$port" ] && _redis_is_ours "$port"; then
    redis-cli -p "$port" shutdown nosave >/dev/null 2>&1 || true
    _log "stopped redis on port $port"
  else
    _log "no Redis started from $DS01_RUN_DIR is running"
  fi
  rm -f "$_DS01_REDIS_DIR/port"
  if _docker_is_ours; then
    pid=$(cat "$_DS01_DOCKER_DIR/dockerd.pid")
    kill "$pid"
    _wait_for 30 bash -c "! kill -0 $pid" || _log "dockerd (pid $pid) is still stopping"
    _log "stopped the private dockerd at unix://$DS01_DOCKER_SOCK"
  else
    _log "no engine started from $DS01_RUN_DIR is running"
  fi
}

services_hint() {
  _log "Redis (127.0.0.1:${DS01_TEST_REDIS_PORT:-?}) and the private engine keep running for the next run; stop them with: npm run services:stop"
}

if [ "${BASH_SOURCE[0]}" = "$0" ]; then
  case "${1:-}" in
    stop) stop_services ;;
    start) ensure_services && services_hint ;;
    *) echo "usage: $0 start|stop (or source it and call ensure_services)" >&2; exit 2 ;;
  esac
fi
