#!/bin/sh
# The installed tree works away from the source tree: `cmake --install` into a
# temporary prefix, the prefix moved elsewhere (so no path of the install or
# of the sources can be what the binary uses), then validate, init and demo
# run from the moved binary, from a directory outside both, with no
# MENTORFLOW_* variable set. Everything it made goes away when it ends.
#   tests/install_test.sh BUILD_DIR SOURCE_DIR
set -eu
build=$(cd "$1" && pwd)
src=$(cd "$2" && pwd)
tmp=$(mktemp -d /tmp/mf_install.XXXXXX)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
unset MENTORFLOW_DB MENTORFLOW_WORKFLOWS MENTORFLOW_TEMPLATES MENTORFLOW_SHARE MENTORFLOW_CALENDAR \
      MENTORFLOW_NOW MENTORFLOW_ACTOR MENTORFLOW_ZONE 2>/dev/null || true

cmake --install "$build" --prefix "$tmp/prefix" >/dev/null
for f in bin/mentorflow share/mentorflow/workflows/mentoring_pair.yaml share/mentorflow/templates/consent.mustache \
         share/mentorflow/calendar/ru.txt share/mentorflow/demo/school_year.yaml \
         lib/systemd/system/mentorflow.service lib/systemd/system/mentorflow-tick.service \
         lib/systemd/system/mentorflow-tick.timer share/mentorflow/examples/nginx.conf.example; do
  test -e "$tmp/prefix/$f" || { echo "not installed: $f"; exit 1; }
done
# No path of the source tree's data is compiled into the binary.
if grep -q -a -F "$src/workflows" "$tmp/prefix/bin/mentorflow"; then
  echo "the binary names $src/workflows"; exit 1
fi
mv "$tmp/prefix" "$tmp/moved"
bin="$tmp/moved/bin/mentorflow"
mkdir "$tmp/elsewhere"
cd "$tmp/elsewhere"

out=$("$bin" validate --strict)
echo "$out" | grep -q "workflow(s): valid" || { echo "validate: $out"; exit 1; }
"$bin" --help | grep -q -F "$tmp/moved/share/mentorflow/workflows" || { echo "--help does not show the moved tree"; exit 1; }
"$bin" --db "sqlite:$tmp/school.db" init --director d1 --name "Ольга Карпова" --zone Europe/Samara >"$tmp/init.txt"
grep -q "registered mentoring_pair" "$tmp/init.txt" || { echo "init:"; cat "$tmp/init.txt"; exit 1; }
"$bin" --db "sqlite:$tmp/school.db" settings zone | grep -q "Europe/Samara"
"$bin" demo --dir "$tmp/demo" >"$tmp/demo.txt"
grep -q "0 unexpected outcome(s)" "$tmp/demo.txt" || { echo "demo:"; tail -20 "$tmp/demo.txt"; exit 1; }
test -s "$tmp/demo/demo.db"

# make package: a .deb whose Depends name the runtime libraries.
cpack -G DEB -B "$tmp/pkg" --config "$build/CPackConfig.cmake" >"$tmp/cpack.txt" 2>&1 || { cat "$tmp/cpack.txt"; exit 1; }
deb=$(ls "$tmp"/pkg/mentorflow_*.deb)
depends=$(dpkg-deb -f "$deb" Depends)
for lib in libsoci-core libsoci-sqlite3 libsoci-postgresql libyaml-cpp libsodium libzip libcurl; do
  echo "$depends" | grep -q "$lib" || { echo "Depends lacks $lib: $depends"; exit 1; }
done
dpkg-deb -c "$deb" >"$tmp/contents.txt"
grep -q "./usr/bin/mentorflow" "$tmp/contents.txt" || { echo "the package has no usr/bin/mentorflow"; exit 1; }
grep -q "./usr/share/mentorflow/workflows/mentoring_pair.yaml" "$tmp/contents.txt" || { echo "no workflows in the package"; exit 1; }
echo "installed tree: validate, init and demo ran from $tmp/moved; $(basename "$deb") depends on: $depends"
