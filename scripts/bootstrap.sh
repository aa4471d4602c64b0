#!/usr/bin/env bash
# Idempotent set-up shared by `make run` and `make test`: system packages, services, virtualenv,
# database, migrations, translations and the demo city. Safe to run any number of times.
set -euo pipefail
cd "$(dirname "$0")/.."

VENV=${VENV:-.venv}
APT_PACKAGES="postgresql-15-postgis-3 gdal-bin chromium fonts-wqy-microhei gettext redis-tools postgresql-client"

say() { printf '\033[1;34m==> %s\033[0m\n' "$*"; }

as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

missing=""
for pkg in $APT_PACKAGES; do
  dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null | grep -q "install ok installed" || missing="$missing $pkg"
done
if [ -n "$missing" ]; then
  say "installing system packages:$missing"
  as_root apt-get update -qq
  DEBIAN_FRONTEND=noninteractive as_root apt-get install -y -qq $missing >/dev/null
fi

# The services run on the machine already; start them if they stopped.
if ! pg_isready -q -h 127.0.0.1 -p 5432; then
  say "starting PostgreSQL"
  as_root pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | head -1)" main start || true
  for _ in $(seq 20); do pg_isready -q -h 127.0.0.1 -p 5432 && break; sleep 0.5; done
fi
if ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
  say "starting Redis"
  as_root redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no --dir /tmp || true
fi

if [ ! -x "$VENV/bin/python" ]; then
  say "creating virtualenv $VENV"
  python3 -m venv "$VENV"
fi
stamp="$VENV/.requirements-$(cat requirements/*.txt | sha256sum | cut -c1-16)"
if [ ! -f "$stamp" ]; then
  say "installing Python packages"
  "$VENV/bin/pip" install -q --disable-pip-version-check -r requirements/test.txt
  rm -f "$VENV"/.requirements-*
  touch "$stamp"
fi

if [ -f package.json ]; then
  npm_stamp="node_modules/.package-lock-$(sha256sum package-lock.json 2>/dev/null | cut -c1-16)"
  if [ ! -f "$npm_stamp" ]; then
    say "installing front-end packages from the npm registry"
    npm ci --no-audit --no-fund --silent
    touch "$npm_stamp"
  fi
fi

PY="$VENV/bin/python"
DB_NAME=$("$PY" - <<'PYEOF'
import os, environ
url = os.environ.get("DATABASE_URL", "postgis://postgres@127.0.0.1:5432/command_center")
print(environ.Env.db_url_config(url)["NAME"])
PYEOF
)
if ! psql -h 127.0.0.1 -U postgres -tAc "SELECT 1 FROM pg_database WHERE datname='$DB_NAME'" | grep -q 1; then
  say "creating database $DB_NAME"
  psql -h 127.0.0.1 -U postgres -qc "CREATE DATABASE \"$DB_NAME\""
fi
psql -h 127.0.0.1 -U postgres -d "$DB_NAME" -qc "CREATE EXTENSION IF NOT EXISTS postgis" >/dev/null

say "compiling translations"
"$PY" manage.py compilemessages --ignore "$VENV" --ignore node_modules -v0
say "migrating"
"$PY" manage.py migrate --noinput -v0
"$PY" manage.py collectstatic --noinput -v0
say "loading the demo city"
"$PY" manage.py load_demo_city
