#!/usr/bin/env bash
# Build (once) a Debian testing root with Asterisk 22 in a machine-wide cache, and reuse it.
# Prints the root's path on its last line. Rebuilds only when missing or when its recipe changed.
# Falls back from forky (testing) to sid. See ../shared/ASTERISK.md.
set -euo pipefail
CACHE="${HOTLINE_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/hotline}"
INCLUDE="asterisk,asterisk-modules,asterisk-core-sounds-en-wav,asterisk-moh-opsound-wav,espeak-ng,sox,procps"
RECIPE_VERSION=2
mkdir -p "$CACHE"
exec 9>"$CACHE/asterisk-root.lock"
flock 9

mirror() {
  local uri
  uri=$(grep -h -E '^URIs:' /etc/apt/sources.list.d/*.sources 2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
  if [ -z "$uri" ]; then
    uri=$(grep -h -E '^deb ' /etc/apt/sources.list 2>/dev/null | grep -v security | head -n1 | awk '{print $2}' || true)
  fi
  [ -n "$uri" ] || { echo "build-asterisk-root: cannot find the host's Debian mirror in apt sources" >&2; exit 1; }
  echo "$uri"
}

for suite in forky sid; do
  root="$CACHE/asterisk-root-$suite"
  stamp="recipe=$RECIPE_VERSION suite=$suite include=$INCLUDE"
  if [ -x "$root/usr/sbin/asterisk" ] && [ "$(cat "$root/.hotline-stamp" 2>/dev/null)" = "$stamp" ]; then
    echo "$root"
    exit 0
  fi
done

M=$(mirror)
for suite in forky sid; do
  root="$CACHE/asterisk-root-$suite"
  stamp="recipe=$RECIPE_VERSION suite=$suite include=$INCLUDE"
  tmp="$root.building"
  rm -rf "$tmp"
  echo "build-asterisk-root: building a Debian $suite root with Asterisk in $root (about a minute, once)" >&2
  if debootstrap --variant=minbase --include="$INCLUDE" "$suite" "$tmp" "$M" /usr/share/debootstrap/scripts/sid >"$CACHE/debootstrap-$suite.log" 2>&1 \
     && chroot "$tmp" /usr/sbin/asterisk -V >/dev/null 2>&1; then
    chroot "$tmp" /usr/sbin/asterisk -V >&2
    rm -rf "$tmp/var/cache/apt/archives/"*.deb
    echo "$stamp" >"$tmp/.hotline-stamp"
    rm -rf "$root"
    mv "$tmp" "$root"
    echo "$root"
    exit 0
  fi
  echo "build-asterisk-root: $suite failed (log: $CACHE/debootstrap-$suite.log); trying the next suite" >&2
  tail -n 20 "$CACHE/debootstrap-$suite.log" >&2 || true
  rm -rf "$tmp"
done
echo "build-asterisk-root: no suite worked" >&2
exit 1
