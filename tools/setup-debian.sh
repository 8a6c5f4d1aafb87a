#!/bin/sh
# Installs the Debian 12 packages plume builds, runs and tests with.
# Run as root, or as a user with sudo. Safe to run again.
set -eu
packages="build-essential cmake pkg-config binutils
  libyaml-dev libjansson-dev libvulkan-dev glslang-tools
  mesa-vulkan-drivers vulkan-validationlayers vulkan-tools
  libxml2-dev libgmime-3.0-dev libstemmer-dev libutf8proc-dev wordnet wordnet-base graphviz
  libopenmpi-dev openmpi-bin
  python3 python3-regex"
exec "$(dirname "$0")/apt-install-missing.sh" $packages
