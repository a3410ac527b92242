#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# cgroup v2 under the stock kernel: the memory controller is there and a
# memory.max squeeze OOM-kills what runs inside.
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/cgroup" "run it under tools/vmtest"; exit 0; }

# Run a 128 MiB hog in the cgroup folder $1; print its exit status (the
# shell's "Killed" notice goes to /dev/null).
hog() {
	{ bash -c 'echo $$ >"$1/cgroup.procs" && exec python3 -c "
b = bytearray(128 << 20)
for i in range(0, len(b), 4096): b[i] = 1
"' _ "$1" >/dev/null 2>&1; echo $?; } 2>/dev/null
}

root=/sys/fs/cgroup
check_match "cgroup: cgroup2 at $root" '^cgroup2 /sys/fs/cgroup cgroup2' \
	"$(cat /proc/mounts)"
check_match "cgroup: v2 has the memory controller" '(^| )memory( |$)' \
	"$(cat $root/cgroup.controllers 2>&1)"

cg=$root/flvm-cg-$$
echo +memory >$root/cgroup.subtree_control
mkdir "$cg" && at_exit rmdir "$cg"
echo 32M >"$cg/memory.max"
check_eq "cgroup: memory.max set in a child" 33554432 "$(cat "$cg/memory.max")"
[ -f "$cg/memory.swap.max" ] && echo 0 >"$cg/memory.swap.max"

# 128 MiB in a 32 MiB cgroup: the kernel OOM-kills it.
rc=$(hog "$cg")
check_eq "cgroup: a 128M hog in a 32M cgroup is killed (SIGKILL)" 137 "$rc"
check_match "cgroup: memory.events counts the OOM kill" '^oom_kill [1-9]' \
	"$(cat "$cg/memory.events")"
