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

# Skeletons are prerequisites of the objects that include them only:
# core/ builds without clang and bpftool, an engine's loader does not.
o3=$T/o3
out=$(make O="$o3" CLANG=/nonexistent/clang BPFTOOL=/nonexistent/bpftool \
	"$o3/core/yaml.o" "$o3/core/experiment.o" 2>&1); rc=$?
check_eq "core objects build without clang and bpftool" 0 "$rc"
check "and make no skeleton" bash -c "[ -z \"\$(find '$o3' -name '*.skel.h' -o -name '*.bpf.o')\" ]"
out=$(make O="$o3" CLANG=/nonexistent/clang "$o3/bpf/probe.o" 2>&1); rc=$?
check "an object that includes a skeleton needs clang" [ "$rc" -ne 0 ]
out=$(make O="$o3" CLANG=/nonexistent/clang 2>&1); rc=$?
check_match "make names the missing tool" "missing tool /nonexistent/clang: install the Debian package clang" "$out"
# The dependency comes from the source's #include line: a new object that
# includes a skeleton waits for it, with -j and no .d file yet.
skel=$(grep -l '^#include ".*\.skel\.h"' */*.c | head -1)
if [ -n "$skel" ]; then
	out=$(make -j8 O="$o3" "$o3/${skel%.c}.o" 2>&1); rc=$?
	check_eq "an object that includes a skeleton builds it first ($skel)" 0 "$rc"
else
	notok "no source includes a skeleton"
fi

# Plain make needs no cmocka; the test programs do.
printf '#!/bin/sh\n[ "$1 $2" = "--exists cmocka" ] && exit 1\nexec pkg-config "$@"\n' > "$T/nocmocka"
chmod +x "$T/nocmocka"
out=$(make -j2 O="$o" PKG_CONFIG="$T/nocmocka" 2>&1); rc=$?
check_eq "plain make builds without cmocka" 0 "$rc"
out=$(make -j2 O="$o" PKG_CONFIG="$T/nocmocka" tests 2>&1); rc=$?
check "make tests needs cmocka" [ "$rc" -ne 0 ]
check_match "and names its Debian package" "missing library cmocka: install the Debian package libcmocka-dev" "$out"

# The unit tests link the core library, and only the libraries they use.
out=$(make -j2 O="$o" tests 2>&1); rc=$?
check_eq "make tests builds" 0 "$rc"
check "the core library is built" test -s "$o/libfaultline-core.a"
check "the core library holds core/ objects only" \
	bash -c "! ar t '$o/libfaultline-core.a' | grep -qv '\.o\$' && ar t '$o/libfaultline-core.a' | grep -qx yaml.o && ! ar t '$o/libfaultline-core.a' | grep -qx cmd_run.o"
for u in test_yaml test_units; do
	rm -f "$o/tests/unit/$u"
	out=$(make O="$o" V=1 "$o/tests/unit/$u" 2>&1)
	ld=$(grep -- "-o $o/tests/unit/$u " <<<"$out")
	check_match "unit/$u links its object and the core library" \
		"-o $o/tests/unit/$u $o/tests/unit/$u\.o $o/libfaultline-core\.a " "$ld"
	check "unit/$u links no libbpf, libnl, libmnl or libcgroup" \
		bash -c "[ -n \"\$1\" ] && ! grep -qE -- '-l(bpf|nl-|mnl|cgroup)' <<<\"\$1\"" _ "$ld"
done
for h in memhog sysfail udpprobe; do
	check "make tests builds the helper tests/helpers/$h" test -x "$o/tests/helpers/$h"
	check "and not tools/$h" test ! -e "$o/tools/$h"
done

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

# README.md says how to install and where things go: every path it names
# under /usr/local is where make install (default PREFIX) puts it, and it
# keeps the two set-up commands.
readme=$(cat "$SRC/README.md")
for w in "sudo make install" "sudo make demo" "sudo make check" PREFIX DESTDIR; do
	check_match "README.md names '$w'" "$w" "$readme"
done
paths=$(grep -oE '/usr/local/[a-z0-9/._]+' <<<"$readme" | sed 's/[.]$//' | sort -u)
check "README.md names where the binary and man pages go" \
	test "$(wc -l <<<"$paths")" -ge 3
make O="$o" CFLAGS='-g -O1' DESTDIR="$T/dest2" install >/dev/null 2>&1
for p in $paths; do
	check "README.md's $p is where make install puts it" test -e "$T/dest2$p"
done

out=$(make O="$o" clean 2>&1)
check "clean removes objects" bash -c "[ -z \"\$(find '$o' -name '*.o')\" ]"
check "clean removes the binary" test ! -e "$o/faultline"

out=$(make help 2>&1); rc=$?
check_eq "make help exits 0" 0 "$rc"
for t in all check check-host tests bench demo install clean deps; do
	check_match "make help lists $t" "^  $t " "$out"
done

out=$(make O="$T/o2" PKG_CONFIG=false 2>&1); rc=$?
check "a missing library stops the build" [ "$rc" -ne 0 ]
check_match "naming the Debian package to install" "missing library yaml-0.1: install the Debian package libyaml-dev" "$out"
check "in one line" [ "$(grep -c 'missing library' <<<"$out")" -eq 1 ]

out=$(make deps 2>&1); rc=$?
check_eq "make deps succeeds when everything is there" 0 "$rc"
check_match "and installs nothing" "all installed" "$out"
