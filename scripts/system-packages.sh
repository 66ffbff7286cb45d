#!/usr/bin/env bash
# Debian packages the tests need beyond Python: Chromium for the browser tests, Redis and nginx
# for the scale-out and session-store tests (PostgreSQL 15 is on the machine image). Each is
# installed only when missing; nothing is started here — the tests start what they need on
# loopback, in temporary folders.
set -euo pipefail
want=()
command -v chromium >/dev/null || want+=(chromium fonts-noto-color-emoji)
command -v redis-server >/dev/null || want+=(redis-server)
command -v nginx >/dev/null || [ -x /usr/sbin/nginx ] || want+=(nginx)
[ ${#want[@]} -eq 0 ] && exit 0
echo "[system] installing Debian packages: ${want[*]}"
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >/dev/null
apt-get install -y -qq "${want[@]}" >/dev/null
