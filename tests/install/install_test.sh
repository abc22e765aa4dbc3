#!/usr/bin/env bash
# `cmake --install` into a scratch DESTDIR, then the installed files used as a user would:
# both programs run, both man pages format without warnings, both completions load.
#   install_test.sh BUILD_DIR
# Exit 77 (skipped) when qemu-img is missing (the image for -m info is made with it).
set -euo pipefail
build=$1
command -v qemu-img >/dev/null || { echo "install_test: no qemu-img"; exit 77; }
work=$(mktemp -d "${TMPDIR:-/tmp}/qcow2fs-install.XXXXXX")
trap 'rm -rf "$work"' EXIT
fail() { echo "install_test: $*" >&2; exit 1; }

prefix=/usr
DESTDIR="$work/root" cmake --install "$build" --prefix "$prefix" >"$work/install.log"
root="$work/root$prefix"
for f in bin/qcow2-dump bin/qcow2fs share/man/man1/qcow2-dump.1 share/man/man1/qcow2fs.1 \
         share/bash-completion/completions/qcow2-dump share/bash-completion/completions/qcow2fs; do
  [ -f "$root/$f" ] || fail "not installed: $prefix/$f"
done
[ -x "$root/bin/qcow2-dump" ] && [ -x "$root/bin/qcow2fs" ] || fail "the programs are not executable"
# Only what a user gets: no test or fuzz program, nothing outside the prefix.
extra=$(cd "$work/root" && find . -type f | sort | grep -v -E '^\./usr/(bin/(qcow2-dump|qcow2fs)|share/man/man1/(qcow2-dump|qcow2fs)\.1|share/bash-completion/completions/(qcow2-dump|qcow2fs))$' || true)
[ -z "$extra" ] || fail "installed more than the programs, pages and completions: $extra"

# The programs, from where they were installed.
"$root/bin/qcow2-dump" -v | grep -q '^qcow2-dump (qcow2fs) ' || fail "qcow2-dump -v"
qemu-img create -q -f qcow2 "$work/disk.qcow2" 16M
"$root/bin/qcow2-dump" -m info "$work/disk.qcow2" >"$work/info.txt" || fail "qcow2-dump -m info failed"
grep -q '^cluster_size: *65536' "$work/info.txt" || fail "qcow2-dump -m info: no cluster_size line"
"$root/bin/qcow2fs" --help | grep -q 'Usage:' || fail "qcow2fs --help"

# The man pages: man itself finds nothing to warn about at a common width.
for page in qcow2-dump qcow2fs; do
  MANWIDTH=80 man --warnings -l "$root/share/man/man1/$page.1" >"$work/$page.txt" 2>"$work/$page.warn" ||
    fail "man -l $page.1 failed"
  [ ! -s "$work/$page.warn" ] || fail "man warns about $page.1: $(head -n 5 "$work/$page.warn")"
  grep -q 'SYNOPSIS' "$work/$page.txt" || fail "man -l $page.1: no SYNOPSIS"
done

# The completions register their functions and complete an option's values.
out=$(bash --norc --noprofile -c '
  source "$1/share/bash-completion/completions/qcow2-dump"
  source "$1/share/bash-completion/completions/qcow2fs"
  complete -p qcow2-dump; complete -p qcow2fs
  COMP_WORDS=(qcow2-dump -m d); COMP_CWORD=2; _qcow2_dump; echo "mode: ${COMPREPLY[*]}"
  COMP_WORDS=(qcow2-dump -R l); COMP_CWORD=2; _qcow2_dump; echo "repair: ${COMPREPLY[*]}"
' _ "$root" 2>&1) || fail "sourcing the completions failed: $out"
grep -q '^complete -F _qcow2_dump qcow2-dump$' <<<"$out" || fail "no completion for qcow2-dump: $out"
grep -q '^complete -F _qcow2fs qcow2fs$' <<<"$out" || fail "no completion for qcow2fs: $out"
grep -q '^mode: dump$' <<<"$out" || fail "-m d did not complete to dump: $out"
grep -q '^repair: leak$' <<<"$out" || fail "-R l did not complete to leak: $out"
echo "install_test: passed"
