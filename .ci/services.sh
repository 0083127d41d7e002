#!/usr/bin/env bash
# Make sure the services the tests talk to answer on loopback; start (or install) them if not.
# Usage: .ci/services.sh [redis] [postgres]
set -euo pipefail
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo

apt_install() {
  $SUDO apt-get update -qq && DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$@"
}

ensure_redis() {
  redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return
  command -v redis-server >/dev/null || apt_install redis-server
  mkdir -p /tmp/mediahub-redis
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no \
    --dir /tmp/mediahub-redis --logfile /tmp/mediahub-redis/redis.log
  for _ in $(seq 50); do redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1 && return; sleep 0.2; done
  echo "Redis did not start on 127.0.0.1:6379" >&2; exit 1
}

ensure_postgres() {
  pg_isready -h 127.0.0.1 -p 5432 -q 2>/dev/null && return
  command -v pg_ctlcluster >/dev/null || apt_install postgresql
  version=$(ls /etc/postgresql | sort -V | tail -n 1)
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$version" main start || true
  for _ in $(seq 50); do pg_isready -h 127.0.0.1 -p 5432 -q && return; sleep 0.2; done
  echo "PostgreSQL did not start on 127.0.0.1:5432" >&2; exit 1
}

for service in "$@"; do "ensure_$service"; done
