#!/usr/bin/env bash
# Starts what the tests and the local quick start need, when it is absent:
#   - a private Redis on 127.0.0.1:${DS01_TEST_REDIS_PORT:-6399}
#   - a private Docker engine (its own --data-root, --exec-root and unix socket under .run/)
#   - the offline test base image ds01-test/base:<hash of the stand-ins> (busybox + pip/apt-get stand-ins)
# Nothing here touches the host's own Docker engine or Redis. Source it, then call ensure_services.
# Installs Debian's redis-server, docker.io and busybox-static with apt when they are missing.

DS01_RUN_DIR=${DS01_RUN_DIR:-"$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/.run"}
DS01_TEST_REDIS_PORT=${DS01_TEST_REDIS_PORT:-6399}
# The tag follows the stand-ins' content, so a changed stand-in gets a fresh image.
DS01_TEST_BASE_IMAGE=${DS01_TEST_BASE_IMAGE:-ds01-test/base:$(cat "$(dirname "${BASH_SOURCE[0]}")"/test-image/* | md5sum | cut -c1-12)}
# Unix socket paths are limited to ~107 bytes; keep the engine's socket short and per-checkout.
DS01_DOCKER_SOCK=${DS01_DOCKER_SOCK:-"/tmp/ds01-docker-$(echo "$DS01_RUN_DIR" | md5sum | cut -c1-8).sock"}

_log() { echo "[services] $*" >&2; }

_apt_install() {
  local missing=()
  command -v redis-server >/dev/null || missing+=(redis-server)
  command -v dockerd >/dev/null || missing+=(docker.io)
  [ -x /bin/busybox ] || missing+=(busybox-static)
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

ensure_redis() {
  export REDIS_URL=${DS01_TEST_REDIS_URL:-"redis://127.0.0.1:${DS01_TEST_REDIS_PORT}"}
  if redis-cli -u "$REDIS_URL" ping >/dev/null 2>&1; then return 0; fi
  mkdir -p "$DS01_RUN_DIR/redis"
  _log "starting redis-server on port $DS01_TEST_REDIS_PORT"
  redis-server --port "$DS01_TEST_REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no \
    --dir "$DS01_RUN_DIR/redis" --daemonize yes --logfile "$DS01_RUN_DIR/redis/redis.log" >/dev/null
  _wait_for 20 redis-cli -u "$REDIS_URL" ping || { _log "redis did not start"; return 1; }
}

ensure_docker() {
  export DOCKER_HOST=${DS01_TEST_DOCKER_HOST:-"unix://$DS01_DOCKER_SOCK"}
  if docker -H "$DOCKER_HOST" version >/dev/null 2>&1; then return 0; fi
  local root="$DS01_RUN_DIR/docker"
  mkdir -p "$root/data" "$root/exec"
  _log "starting a private dockerd at $DOCKER_HOST"
  # No bridge and no iptables: test containers need no network, and the host's firewall is not ours.
  nohup dockerd --data-root "$root/data" --exec-root "$root/exec" --host "$DOCKER_HOST" \
    --pidfile "$root/dockerd.pid" --iptables=false --ip6tables=false --bridge=none \
    >"$root/dockerd.log" 2>&1 &
  _wait_for 60 docker -H "$DOCKER_HOST" version || { _log "dockerd did not start; see $root/dockerd.log"; tail -20 "$root/dockerd.log" >&2; return 1; }
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
