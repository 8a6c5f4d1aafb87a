#!/bin/sh
# `cmake --install` into a temporary prefix gives headers, libplume, the modules and plume.pc,
# such that a plugin builds with `cc $(pkg-config --cflags plume)` and the installed `plume`
# finds both its built-in modules and the plugin.
# usage: test_install.sh BUILD_DIR TEST_SOURCE_DIR CC
set -eu
build=$1 tests=$2 cc=$3
prefix=$(mktemp -d /tmp/plume-install-XXXXXX)
trap 'rm -rf "$prefix"' EXIT
cmake --install "$build" --prefix "$prefix" >/dev/null
pc=$(find "$prefix" -name plume.pc | head -n 1)
test -n "$pc" || { echo "no plume.pc installed"; exit 1; }
# plume.pc was configured for the build's prefix; point pkg-config at the temporary one.
export PKG_CONFIG_PATH="$(dirname "$pc")"
cflags=$(pkg-config --define-variable=prefix="$prefix" --cflags plume)
test -f "$prefix/include/plume/plume.h" || { echo "plume.h not installed"; exit 1; }
test -f "$prefix/include/plume/stage.h" || { echo "stage.h not installed"; exit 1; }
mkdir "$prefix/plugin"
$cc -shared -fPIC -Wall -Werror $cflags "$tests/plugins/shout.c" -o "$prefix/plugin/shout.so"
cat > "$prefix/plugin/g.yaml" <<'YAML'
plume: 1
stages:
  cut:  { use: text.truncate, in: { text: context }, out: { text: short }, with: { max_chars: 5 } }
  loud: { use: ./shout.so:example.shout, in: { text: short }, out: { text: out } }
output: [out]
YAML
# The installed binary, with no PLUME_MODULE_PATH: built-ins come from <libdir>/plume/modules.
unset PLUME_MODULE_PATH
got=$("$prefix/bin/plume" run "$prefix/plugin/g.yaml" --context "hello world" --id i1)
want='{"id":"i1","out":"HELLO!"}'
if [ "$got" != "$want" ]; then
  echo "got:      $got"; echo "expected: $want"; exit 1
fi
"$prefix/bin/plume" modules | grep -q "^text.join  (module text 1.0, $prefix/" || {
  echo "installed plume does not list its built-in modules from $prefix"; "$prefix/bin/plume" modules; exit 1; }
echo "test_install: ok ($prefix)"
