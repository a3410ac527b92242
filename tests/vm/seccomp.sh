#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# The syscall fault's seccomp route under the stock kernel, which has no
# syscall-entry route: fsync and fdatasync (no LSM hook) of a command
# target fail with EIO in the window and work outside it, another
# process is untouched, sqlite3 with synchronous=full reports "disk I/O
# error" and commits after the window; a mixed fault takes the LSM route
# for openat and the seccomp route for fsync; kill -9 of the runner leaves
# the target's calls answered by the guardian.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/syscall-lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/seccomp" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
if [ ! -x "$SYSFAIL" ] || [ ! -x "$FAULTLINE" ]; then
	notok "seccomp: $FAULTLINE and $SYSFAIL are built (make tests)"; exit 0
fi
if [ "$(fact seccomp.user_notif.available)" != true ]; then
	notok "doctor finds the seccomp route: $(fact seccomp.user_notif.why)"; exit 0
fi
ok "doctor finds the seccomp route on $(uname -r)"
if have_bpf fmod_ret:syscall || have_bpf kprobe:override; then
	skip "vm/seccomp" "this kernel has route 1, which fsync takes first"; exit 0
fi

until_in() { # FILE PATTERN: wait up to 20s
	local i
	for i in $(seq 400); do
		grep -q "$2" "$1" 2>/dev/null && return 0
		sleep 0.05
	done
	return 1
}
# --- sqlite3, synchronous=full ------------------------------------------
if ! command -v sqlite3 > /dev/null; then
	notok "sqlite3 is installed (Debian package sqlite3, tools/deps)"; exit 0
fi
sqlite3 "$T/db" 'create table t (x integer); insert into t values (0);'
cat > "$T/sq.yaml" <<YAML
name: vm-seccomp-sqlite
duration: 60s
targets:
  db:
    command: [sh, -c, 'while [ ! -e "\$0/go1" ]; do sleep 0.05; done;
      sqlite3 "\$0/db" "pragma synchronous=full; insert into t values (1);" > "\$0/sq1.out" 2>&1; echo "exit \$?" >> "\$0/sq1.out";
      "\$1" -n 3 fdatasync "\$0/f" > "\$0/child.out";
      while [ ! -e "\$0/go2" ]; do sleep 0.05; done;
      sqlite3 "\$0/db" "pragma synchronous=full; insert into t values (2);" > "\$0/sq2.out" 2>&1; echo "exit \$?" >> "\$0/sq2.out";
      exec sleep 60', "$T", "$SYSFAIL"]
faults:
  - name: f
    for: 6s
    syscall: { target: db, calls: [fsync, fdatasync], errno: EIO }
YAML
out=$("$FAULTLINE" plan "$T/sq.yaml" 2>&1)
check_match "plan takes fsync and fdatasync through the seccomp route" \
	'syscall via seccomp user notification \(fsync fdatasync\)' "$out"
if sc_start sq "$T/sq.yaml"; then
	touch "$T/go1"
	until_in "$T/child.out" '^[A-Z]'
	check_match "in the window sqlite3 reports a disk I/O error" 'disk I/O error' "$(content "$T/sq1.out")"
	check_match "and exits non-zero" '^exit [1-9]' "$(content "$T/sq1.out")"
	check_match "another child of the command fails fdatasync with EIO" '^EIO 3$' "$(content "$T/child.out")"
	check "a process faultline did not start is untouched" "$SYSFAIL" -n 3 -e OK fsync "$T/other"
	until_in "$T/sq.out" '"event":"reverted"'
	touch "$T/go2"
	until_in "$T/sq2.out" '^exit'
	check_eq "after the window sqlite3 commits" "exit 0" "$(content "$T/sq2.out")"
	sc_stop
	check_eq "the database holds the rows committed outside the window" "0 2" \
		"$(sqlite3 "$T/db" 'select x from t order by x' | tr '\n' ' ' | sed 's/ $//')"
	check_eq "and is intact" ok "$(sqlite3 "$T/db" 'pragma integrity_check')"
	check_match "the report counts the failed syncs" '^[1-9]' "$(sc_observed "$T/sq.report" injections)"
fi

# --- one fault, two routes: openat through the LSM, fsync through seccomp --
# Both under a path: the LSM program reads the opened file's path, the
# seccomp route the descriptor's (/proc/PID/fd); the file fsync'd is
# opened before the window (-o, at once; the window opens at 2s), the
# shell's own files are elsewhere.
if have_bpf lsm; then
	mkdir -p "$T/m"; : > "$T/m/g"
	cat > "$T/mix.yaml" <<YAML
name: vm-seccomp-mixed
duration: 60s
targets:
  job: { command: [sh, -c, '"\$0" -o -w "\$1/go" -n 2 fsync "\$1/m/f" > "\$1/s.out"; "\$0" -n 2 fsync "\$1/f" > "\$1/s2.out"; "\$0" -n 2 openat "\$1/m/g" > "\$1/o.out"; exec sleep 60', "$SYSFAIL", "$T"] }
faults:
  - name: f
    at: 2s
    syscall: { target: job, calls: [openat, fsync], errno: EIO, path: "$T/m" }
YAML
	out=$("$FAULTLINE" plan "$T/mix.yaml" 2>&1)
	check_match "plan: openat through the BPF LSM, fsync through seccomp" \
		'BPF LSM \(openat\); seccomp user notification \(fsync\)' "$out"
	if sc_start mix "$T/mix.yaml"; then
		touch "$T/go"
		until_in "$T/o.out" '^[A-Z]'
		check_match "fsync under the path fails through the seccomp route" '^EIO 2$' "$(content "$T/s.out")"
		check_match "fsync elsewhere works" '^OK 2$' "$(content "$T/s2.out")"
		check_match "openat under the path fails through the LSM route" '^EIO 2$' "$(content "$T/o.out")"
		sc_stop
		check_eq "the report counts both routes' injections" '{"fsync": 2, "openat": 2}' "$(sc_observed "$T/mix.report" calls)"
	fi
else
	skip "mixed routes" "no BPF LSM: $(fact bpf.lsm.why)"
fi

# --- kill -9 of the runner in the window ---------------------------------
cat > "$T/k9.yaml" <<YAML
name: vm-seccomp-crash
duration: 60s
targets:
  job: { command: ["$SYSFAIL", -l, -i, 200, -n, 100000, fsync, "$T/k9f"] }
faults:
  - name: f
    syscall: { target: job, calls: [fsync], errno: EIO }
YAML
if sc_start k9 "$T/k9.yaml"; then
	until_in "$T/k9.out" '^EIO$'
	# Stop it just after it answered (the target printed the outcome),
	# so that the target's next call waits for the dead runner.  (A call
	# the runner took but had not answered, the guardian answers by the
	# id the runner published: docs/design.md, "Starting a command
	# target".)
	n=$(grep -c '^E[A-Z]*$\|^OK$' "$T/k9.out")
	for _ in $(seq 500); do [ "$(grep -c '^E[A-Z]*$\|^OK$' "$T/k9.out")" != "$n" ] && break; sleep 0.005; done
	kill -STOP "$runner"
	sleep 0.5
	kill -9 "$runner"; wait "$runner" 2>/dev/null
	for _ in $(seq 200); do [ -z "$(ls -A "$FAULTLINE_RUNDIR")" ] && break; sleep 0.1; done
	for _ in $(seq 200); do grep -q 'answered' "$T/k9.out" && break; sleep 0.1; done
	check_eq "the guardian replayed the journal" "" "$(ls -A "$FAULTLINE_RUNDIR")"
	check_match "and answered the waiting calls with continue" 'guardian.*answered [1-9][0-9]* call' "$(content "$T/k9.out")"
	check_eq "the target never saw ENOSYS" 0 "$(grep -c '^ENOSYS$' "$T/k9.out")"
	"$FAULTLINE" recover > "$T/k9.recover" 2>&1
	check_eq "faultline recover finishes (exit 0)" 0 "$?"
fi
