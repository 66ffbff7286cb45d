#!/usr/bin/env bash
# Debian packages the tests need beyond Python: Chromium for the browser tests; PostgreSQL,
# Redis and nginx for the scale-out, question-log and session-store tests (tests/support/
# services.py; PostgreSQL 15 is on the machine image); openssl (a TLS certificate for the
# nginx configuration test) and ss (the listening-address check). Each is installed only when
# missing; nothing is started here — the tests start what they need on loopback, in temporary
# folders.
set -euo pipefail
want=()
command -v chromium >/dev/null || want+=(chromium fonts-noto-color-emoji)
command -v redis-server >/dev/null || want+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || want+=(nginx)
command -v initdb >/dev/null || compgen -G "/usr/lib/postgresql/*/bin/initdb" >/dev/null \
  || want+=(postgresql)
command -v psql >/dev/null && command -v pg_isready >/dev/null || want+=(postgresql-client)
command -v openssl >/dev/null || want+=(openssl)
command -v ss >/dev/null || want+=(iproute2)
[ ${#want[@]} -eq 0 ] && exit 0
echo "[system] installing Debian packages: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${want[@]}" >/dev/null
