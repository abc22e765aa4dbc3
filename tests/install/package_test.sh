#!/usr/bin/env bash
# The .deb from a scratch build of the source (tests off, as a packager builds it):
# `cpack -G DEB`, then dpkg-deb shows its Depends and its files.
#   package_test.sh SOURCE_DIR
# Exit 77 (skipped) without dpkg-deb.
set -euo pipefail
src=$1
command -v dpkg-deb >/dev/null || { echo "package_test: no dpkg-deb"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/qcow2fs-package.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "package_test: $*" >&2; exit 1; }

cmake -S "$src" -B "$work/build" -DBUILD_TESTING=OFF -DCMAKE_BUILD_TYPE=RelWithDebInfo >"$work/configure.log" ||
  { cat "$work/configure.log"; fail "configure failed"; }
cmake --build "$work/build" -j"$(nproc)" --target qcow2-dump qcow2fs >"$work/build.log" 2>&1 ||
  { tail -n 30 "$work/build.log"; fail "build failed"; }
(cd "$work/build" && cpack -G DEB >"$work/cpack.log" 2>&1) || { cat "$work/cpack.log"; fail "cpack failed"; }
debs=("$work"/build/qcow2fs_*.deb)
[ ${#debs[@]} -eq 1 ] && [ -f "${debs[0]}" ] || fail "expected one qcow2fs_*.deb, got: ${debs[*]}"
deb=${debs[0]}

info=$(dpkg-deb -I "$deb")
echo "$info"
depends=$(sed -n 's/^ Depends: //p' <<<"$info")
[ -n "$depends" ] || fail "no Depends line"
# Every Debian 12 runtime package the binaries need, named as such (names compared whole:
# "libstdc++6" is no pattern).
names=$(tr ',' '\n' <<<"$depends" | sed 's/^ *//; s/ .*//')
for pkg in fuse3 libfuse3-3 libfmt9 zlib1g libzstd1 libc6 libstdc++6; do
  grep -qxF -- "$pkg" <<<"$names" || fail "Depends lacks $pkg: $depends"
done
grep -q '^ Package: qcow2fs$' <<<"$info" || fail "the package is not named qcow2fs"

files=$(dpkg-deb -c "$deb" | awk '{print $NF}')
echo "$files"
for f in ./usr/bin/qcow2-dump ./usr/bin/qcow2fs ./usr/share/man/man1/qcow2-dump.1 ./usr/share/man/man1/qcow2fs.1 \
         ./usr/share/bash-completion/completions/qcow2-dump ./usr/share/bash-completion/completions/qcow2fs; do
  grep -qx -- "$f" <<<"$files" || fail "the package lacks $f"
done
# No test or fuzz program, nothing outside /usr.
stray=$(grep -v -E '^\./$|^\./usr/' <<<"$files" || true)
[ -z "$stray" ] || fail "files outside /usr: $stray"
grep -q -E 'poke|fuzz|_tests$' <<<"$files" && fail "a test program is packaged"
echo "package_test: passed"
