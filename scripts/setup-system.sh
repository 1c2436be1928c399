#!/usr/bin/env bash
# Install the host packages the hotline needs (Debian), once. Idempotent and quiet when done.
set -euo pipefail
need=(debootstrap redis-server redis-sentinel postgresql sip-tester kamailio kamailio-websocket-modules ffmpeg sox espeak-ng chromium fonts-noto-cjk)
missing=()
for p in "${need[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
echo "setup: installing host packages: ${missing[*]}"
SUDO=""
[ "$(id -u)" -eq 0 ] || SUDO="sudo"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
# The Debian postgresql package starts a cluster on 5432; the hotline runs its own clusters.
if command -v systemctl >/dev/null 2>&1; then $SUDO systemctl disable --now postgresql >/dev/null 2>&1 || true; fi
echo "setup: host packages ready"
