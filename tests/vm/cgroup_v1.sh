#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v1
# The v1 memory hierarchy under the stock kernel (tools/vmtest --cgroup v1,
# like a hybrid host): limits apply, and v2 has no memory controller.
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/cgroup_v1" "run it under tools/vmtest"; exit 0; }

# Run a 128 MiB hog in the cgroup folder $1; print its exit status (the
# shell's "Killed" notice goes to /dev/null).
hog() {
	{ bash -c 'echo $$ >"$1/cgroup.procs" && exec python3 -c "
b = bytearray(128 << 20)
for i in range(0, len(b), 4096): b[i] = 1
"' _ "$1" >/dev/null 2>&1; echo $?; } 2>/dev/null
}

mem=/sys/fs/cgroup/memory
check_match "cgroup-v1: the memory hierarchy at $mem" \
	"^cgroup $mem cgroup .*memory" "$(cat /proc/mounts)"
check "cgroup-v1: memory.limit_in_bytes at the root" test -f "$mem/memory.limit_in_bytes"
if grep -qw memory /sys/fs/cgroup/unified/cgroup.controllers 2>/dev/null; then
	notok "cgroup-v1: memory is not on v2 as well"
else
	ok "cgroup-v1: memory is not on v2 as well"
fi

cg=$mem/flvm-cg-$$
mkdir "$cg" && at_exit rmdir "$cg"
echo 32M >"$cg/memory.limit_in_bytes"
check_eq "cgroup-v1: memory.limit_in_bytes set in a child" 33554432 \
	"$(cat "$cg/memory.limit_in_bytes")"
rc=$(hog "$cg")
check_eq "cgroup-v1: a 128M hog in a 32M cgroup is killed (SIGKILL)" 137 "$rc"
check_match "cgroup-v1: memory.oom_control counts the OOM kill" \
	'^oom_kill [1-9]' "$(cat "$cg/memory.oom_control")"

if [ -x "$FAULTLINE" ]; then
	check_match "cgroup-v1: doctor says memory is on v1" '^v1$' \
		"$("$FAULTLINE" --json doctor 2>/dev/null | python3 -c '
import json, sys
print(json.load(sys.stdin)["cgroups"]["memory"]["mode"])' 2>&1)"
else
	skip "cgroup-v1: doctor says memory is on v1" "$FAULTLINE is not built"
fi
