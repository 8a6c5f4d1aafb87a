#!/bin/sh
# Installs what the fuzz targets need on Debian 12 (clang and libFuzzer's runtime), on top of
# tools/setup-debian.sh. Only `.ci/run` and tools/fuzz.sh need these; building plume does not.
set -eu
packages="clang-14 libclang-rt-14-dev"
exec "$(dirname "$0")/apt-install-missing.sh" $packages
