#!/bin/sh
# Installs what the fuzz targets need on Debian 12 (clang and libFuzzer's runtime), on top of
# tools/setup-debian.sh. Only `.ci/run` and tools/fuzz.sh need these; building plume does not.
set -eu
packages="clang-14 libclang-rt-14-dev"
if [ "$(id -u)" -eq 0 ]; then sudo=""; else sudo="sudo"; fi
missing=""
for p in $packages; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
  $sudo apt-get update -q
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -q --no-install-recommends $missing
fi
