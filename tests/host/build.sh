#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The build system: quiet lines, V=1, O=dir, header dependencies, rebuild on
# flag changes, install, clean, help, and the missing-library message.
source "$(dirname "$0")/../lib.sh"
o=$T/o
# Build from a copy of the tracked files alone, with no in-tree build
# products (skeletons, vmlinux.h) that could hide a missing -I.
if git -C "$SRC" rev-parse --git-dir >/dev/null 2>&1; then
	mkdir -p "$T/src"
	git -C "$SRC" ls-files -z | (cd "$SRC" && xargs -0 cp --parents -t "$T/src")
	cd "$T/src"
else
	cd "$SRC"
fi

out=$(make -j2 O="$o" 2>&1); rc=$?
check_eq "make O=dir builds" 0 "$rc"
check "the binary lands in the build folder" test -x "$o/faultline"
check_match "quiet CC lines" '^  CC      core/yaml\.o$' "$out"
check_match "quiet CLANG line for BPF" '^  CLANG   bpf/probe\.bpf\.o$' "$out"
check_match "quiet GEN line for the skeleton" '^  GEN     bpf/probe\.skel\.h$' "$out"
check_match "quiet LD line" '^  LD      faultline$' "$out"
check "no full command lines without V=1" bash -c "! grep -q -- '-MMD' <<<'$out'"
check "vmlinux.h generated into the build folder" test -s "$o/vmlinux.h"
check "skeleton generated into the build folder" test -s "$o/bpf/probe.skel.h"
check "nothing generated into the source tree" \
	bash -c "[ -z \"\$(find . -name '*.skel.h' -o -name '*.o' -o -name vmlinux.h)\" ]"

out=$(make -j2 O="$o" 2>&1)
check "a second make rebuilds nothing" bash -c "! grep -qE '^  (CC|LD|CLANG|GEN) ' <<<'$out'"

touch cgroup/memcg.h
out=$(make -j2 O="$o" 2>&1)
check_match "a header change rebuilds what includes it" '^  CC      cgroup/oom\.o$' "$out"
check "and not what does not" bash -c "! grep -q '^  CC      core/yaml.o' <<<'$out'"

out=$(make -j2 O="$o" CFLAGS='-g -O1' 2>&1)
check_match "changed CFLAGS rebuild everything" '^  CC      core/yaml\.o$' "$out"
check_match "changed CFLAGS relink" '^  LD      faultline$' "$out"

rm -f "$o/core/units.o"
out=$(make O="$o" CFLAGS='-g -O1' V=1 2>&1)
check_match "V=1 shows the full command" "^gcc .*-c -o $o/core/units\.o" "$out"

out=$(make O="$o" CFLAGS='-g -O1' DESTDIR="$T/dest" PREFIX=/usr install 2>&1); rc=$?
check_eq "install succeeds" 0 "$rc"
check "install puts the binary in sbin" test -x "$T/dest/usr/sbin/faultline"
check "install puts faultline.8 in man8" test -s "$T/dest/usr/share/man/man8/faultline.8"
check "install puts faultline.yaml.5 in man5" test -s "$T/dest/usr/share/man/man5/faultline.yaml.5"

out=$(make O="$o" clean 2>&1)
check "clean removes objects" bash -c "[ -z \"\$(find '$o' -name '*.o')\" ]"
check "clean removes the binary" test ! -e "$o/faultline"

out=$(make help 2>&1); rc=$?
check_eq "make help exits 0" 0 "$rc"
for t in all check check-host bench demo install clean deps; do
	check_match "make help lists $t" "^  $t " "$out"
done

out=$(make O="$T/o2" PKG_CONFIG=false 2>&1); rc=$?
check "a missing library stops the build" [ "$rc" -ne 0 ]
check_match "naming the Debian package to install" "missing library yaml-0.1: install the Debian package libyaml-dev" "$out"
check "in one line" [ "$(grep -c 'missing library' <<<"$out")" -eq 1 ]

out=$(make deps 2>&1); rc=$?
check_eq "make deps succeeds when everything is there" 0 "$rc"
check_match "and installs nothing" "all installed" "$out"
