#!/usr/bin/env sh
# Writes docker/.env with new random passwords for PostgreSQL and Redis (mode 0600), unless it exists.
# Compose reads it beside the compose files; it is never committed (docker/.gitignore) nor built into an image.
set -eu
env_file="$(dirname "$0")/.env"
if [ -e "$env_file" ]; then
  echo "$env_file exists; keeping it"
  exit 0
fi
umask 077
new() { od -An -N24 -tx1 /dev/urandom | tr -d ' \n'; }
printf 'HOTLINE_DB_PASSWORD=%s\nHOTLINE_REDIS_PASSWORD=%s\n' "$(new)" "$(new)" > "$env_file"
echo "wrote $env_file"
