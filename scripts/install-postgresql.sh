#!/usr/bin/env sh
# Debian's PostgreSQL server for the drawing-store tests (tests/harness/postgres.py starts a throw-away
# one per test session, as the unprivileged "postgres" user the package creates).
set -e
ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 && id postgres >/dev/null 2>&1 && exit 0
SUDO=""
[ "$(id -u)" -ne 0 ] && SUDO="sudo"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
