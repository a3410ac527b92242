#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The cookbook's missing-config drill (examples/missing-config.yaml) under
# the stock kernel, where the syscall engine has its LSM route: the
# reader's openat of /etc/hostname fails with ENOENT while the fault
# holds and succeeds before and after; other processes still read it.
source "$(dirname "$0")/../lib.sh"
# Only in the throwaway guest: the drill loads BPF programs.
[ "${VMTEST:-}" = 1 ] || { skip "vm/missing-config" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
[ -x "$FAULTLINE" ] || { notok "missing-config: $FAULTLINE is built"; exit 0; }
ex=$SRC/examples/missing-config.yaml

check_status "missing-config: the example validates" 0 "$FAULTLINE" validate "$ex"
out=$("$FAULTLINE" plan "$ex" 2>&1); rc=$?
if [ $rc = 3 ]; then
	skip "missing-config: run" "no route for openat with a path on this kernel: $(grep -m1 'refused' <<<"$out")"
	exit 0
fi
check_eq "missing-config: the example plans" 0 "$rc"
"$FAULTLINE" run --no-live --report "$T/r.json" "$ex" >"$T/out" 2>&1 &
runner=$!
at_exit "kill -9 $runner"
# While the fault holds, others still read the file.
wait_for 6 grep -q 'fault no-config: applied' "$T/out"
check "missing-config: other processes still read the file" quiet head -n 1 /etc/hostname
wait "$runner"
check_eq "missing-config: run exits 0" 0 "$?"
out=$(cat "$T/out")
# The reader's lines, in order: read, then ENOENT, then read again.
seq=$(grep -E 'config read|No such file' "$T/out" |
	sed -E 's/.*config read.*/R/; s/.*No such file.*/E/' | uniq | tr -d '\n')
check_match "missing-config: the reader reads, misses its config, then reads again (got $seq)" '^R+E+R+$' "$seq"
check_match "missing-config: head reports ENOENT" "/etc/hostname.*No such file or directory" "$out"
injected=$(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["faults"][0].get("observed",{}); print(o.get("injections", 0))' "$T/r.json" 2>/dev/null)
check "missing-config: the report counts the injections ($injected)" [ "${injected:-0}" -gt 0 ]
