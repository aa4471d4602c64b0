#!/usr/bin/env bash
# Refresh every zh_Hans catalog from the code: each app with its own locale/ collects its own strings,
# the project catalog (locale/) collects the rest (org, templates, the project package).
set -euo pipefail
cd "$(dirname "$0")/.."
ADMIN="${VENV:-.venv}/bin/django-admin"
apps=()
for po in */locale/zh_Hans/LC_MESSAGES/django.po command_center/*/locale/zh_Hans/LC_MESSAGES/django.po; do
  [ -f "$po" ] || continue
  app=${po%%/locale/*}
  apps+=("$app")
  (cd "$app" && DJANGO_SETTINGS_MODULE= "$OLDPWD/$ADMIN" makemessages -l zh_Hans -v0)
done
ignores=(--ignore ".venv/*" --ignore "node_modules/*" --ignore "var/*" --ignore "bench/*" --ignore "tests/*")
for app in "${apps[@]}"; do ignores+=(--ignore "$app/*"); done
DJANGO_SETTINGS_MODULE= "$ADMIN" makemessages -l zh_Hans -v0 "${ignores[@]}"
