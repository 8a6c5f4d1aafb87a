#!/bin/sh
# tools/apt-install-missing.sh PACKAGE...: installs those of the Debian packages named that are not
# installed yet (nothing, and no apt-get update, when all are). Uses sudo when not root.
# The setup scripts (tools/setup-debian.sh, tools/setup-fuzz.sh) name their packages through it.
set -eu
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
missing=""
for p in "$@"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi
