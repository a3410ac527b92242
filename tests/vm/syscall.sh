#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Syscall faults under the stock kernel, through the LSM route (BPF LSM,
# and fmod_ret on security_* for read/write with a path): the exact errno
# for the target, nothing for other processes, every thread, fork
# following, path and peer filters, `when` against strace's own when=,
# probability within a 5-sigma bound over 10000 calls, events one to one (and
# live), fsync refused (no LSM hook, no error-injectable syscalls here),
# and the syscall-entry programs up to this kernel's refusal.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/syscall-lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/syscall" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
if [ ! -x "$SYSFAIL" ] || [ ! -x "$FAULTLINE" ]; then
	notok "syscall: $FAULTLINE and $SYSFAIL are built (make tests)"; exit 0
fi
v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)

echo hello > "$T/file"
mkdir -p "$T/in" && echo x > "$T/in/f"

# --- pid targets: openat through lsm/file_open ----------------------------
# The target execs into a 4-thread sysfail; a child and a child that
# forks twice run beside it.  All start (and open their output files)
# before the fault, and make their calls once $T/go exists.
for ff in true false; do
	rm -f "$T/go" "$T/child.out" "$T/grandchild.out" "$T/self.out"
	bash -c '"$0" -w "$1/go" -n 2 openat "$1/file" > "$1/child.out" &
		"$0" -w "$1/go" -d 2 -n 2 openat "$1/file" > "$1/grandchild.out" &
		exec "$0" -w "$1/go" -t 4 -n 3 openat "$1/file" > "$1/self.out"' \
		"$SYSFAIL" "$T" &
	tgt=$!
	at_exit "kill -9 $tgt"
	sleep 0.3
	sc_yaml "  app: { pid: $tgt }" "target: app, calls: [openat], errno: EIO, follow-forks: $ff" > "$T/pid.yaml"
	if [ $ff = true ]; then
		check_match "plan: openat through BPF LSM" 'via BPF LSM \(openat\)' \
			"$("$FAULTLINE" plan "$T/pid.yaml" 2>&1)"
	fi
	sc_start pid-$ff "$T/pid.yaml" || continue
	check "a process that is not the target opens the file (follow-forks: $ff)" \
		"$SYSFAIL" -n 3 -e OK openat "$T/file"
	touch "$T/go"; wait "$tgt"
	# The run stops once the child and the grandchild have made their
	# calls: a call made after stop read the counts, and before revert
	# switched the fault off, fails uncounted.  Under TCG on a busy host
	# the grandchild's two forks took longer than the 5 s this allowed.
	fixture "the child and the grandchild made their calls" \
		wait_for 60 sh -c "[ -s '$T/child.out' ] && [ -s '$T/grandchild.out' ]"
	sc_stop
	if [ $ff = true ]; then
		check_match "follow-forks: a child started before the fault fails with EIO" '^EIO 2$' "$(cat "$T/child.out")"
		check_match "follow-forks: a grandchild fails with EIO" '^EIO 2$' "$(cat "$T/grandchild.out")"
		inj=$(sc_observed "$T/pid-$ff.report" injections)
		check_eq "events match the injections one to one (2+2+12)" 16 "$inj"
		if [ "$inj" != 16 ]; then
			# Whose calls went uncounted: the events' pids, the outputs.
			sc_observed "$T/pid-$ff.report" first_events | sed 's/^/#   events: /'
			sed 's/^/#   self: /' "$T/self.out"
			sed 's/^/#   child: /' "$T/child.out"
			sed 's/^/#   grandchild: /' "$T/grandchild.out"
		fi
		check_eq "and the kernel's count" 16 "$(sc_observed "$T/pid-$ff.report" kernel_count)"
		check_eq "the last live progress event says the same 16" 16 \
			"$(python3 -c 'import json,sys
p=[e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
print(p[-1]["injections"] if p else "none")' "$T/pid-$ff.out" 2>&1)"
	else
		check_match "follow-forks false: a child opens the file" '^OK 2$' "$(cat "$T/child.out")"
		check_match "follow-forks false: a grandchild opens the file" '^OK 2$' "$(cat "$T/grandchild.out")"
	fi
	check_match "every one of the target's 4 threads fails with EIO (follow-forks: $ff)" '^EIO 12$' "$(cat "$T/self.out")"
done

# --- a cgroup target, by cgroup ancestry ----------------------------------
if [ -n "$v2" ]; then
	cg=$v2/fl-vm-syscall-$$
	mkdir "$cg" && at_exit "rmdir $cg"
	in_cg() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }
	sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [openat], errno: { ENOSPC: 50%, EROFS: 50% }, path: $T/in" > "$T/cg.yaml"
	if sc_start cg "$T/cg.yaml"; then
		out=$(in_cg "$SYSFAIL" -d 1 -n 400 openat "$T/in/f")
		check_match "cgroup target: openat under the path fails (ENOSPC or EROFS)" '^ENOSPC [0-9]+$' "$out"
		check_match "with both errnos of the weights" '^EROFS [0-9]+$' "$out"
		check_match "and never succeeds" '^calls 400$' "$out"
		check "cgroup target: openat outside the path works" \
			in_cg "$SYSFAIL" -e OK openat "$T/file"
		check "a process outside the cgroup opens under the path" \
			"$SYSFAIL" -e OK openat "$T/in/f"
		sc_stop
	fi
fi

# --- revert from the record alone, the runner stopped ----------------------
# recover --force replays the record in another process while the runner
# still holds its links: LSM links cannot be detached by id, so the
# programs' off switch (the sf_ctl map, by id) is what stops the fault.
if [ -n "$v2" ]; then
	sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [openat], errno: EIO, path: $T/in" > "$T/stp.yaml"
	if sc_start stp "$T/stp.yaml"; then
		check "while applied, openat under the path fails with EIO" \
			in_cg "$SYSFAIL" -e EIO openat "$T/in/f"
		kill -STOP "$runner"
		"$FAULTLINE" recover --force > "$T/stp.recover" 2>&1
		check_eq "recover --force reverts the stopped runner's record" 0 "$?"
		check "then openat works, the runner still stopped" \
			in_cg "$SYSFAIL" -e OK openat "$T/in/f"
		kill -CONT "$runner"; sc_stop
	fi
fi

# --- read with a path: fmod_ret on security_file_permission ---------------
rm -f "$T/go"
"$SYSFAIL" -w "$T/go" -n 3 read "$T/in/f" > "$T/r1.out" &
r1=$!
sc_yaml "  app: { pid: $r1 }" "target: app, calls: [read], errno: EBADMSG, path: $T/in" > "$T/read.yaml"
check_match "plan: read with a path goes through fmod_ret on security_file_permission" \
	'fmod_ret on security_\* hooks \(read\)' "$("$FAULTLINE" plan "$T/read.yaml" 2>&1)"
if sc_start read "$T/read.yaml"; then
	touch "$T/go"; wait "$r1"
	check_match "read() under the path fails with EBADMSG" '^EBADMSG 3$' "$(cat "$T/r1.out")"
	sc_stop
fi

# --- peer filter: socket_connect ------------------------------------------
port=$((20000 + $$ % 20000))
"$SYSFAIL" serve "$port" & at_exit "kill $!"
"$SYSFAIL" serve $((port + 1)) & at_exit "kill $!"
rm -f "$T/go"
bash -c '"$0" -w "$1/go" -n 2 connect 127.0.0.1:"$2" > "$1/c1.out"
	exec "$0" -n 2 connect 127.0.0.1:$(($2 + 1)) > "$1/c2.out"' "$SYSFAIL" "$T" "$port" &
tgt=$!
sc_yaml "  app: { pid: $tgt }" "target: app, calls: [connect], errno: ECONNRESET, peer: { ports: [$port], to: 127.0.0.0/8 }" > "$T/peer.yaml"
if sc_start peer "$T/peer.yaml"; then
	touch "$T/go"; wait "$tgt"
	check_match "peer: connect() to the port fails with ECONNRESET" '^ECONNRESET 2$' "$(cat "$T/c1.out")"
	check_match "peer: connect() to another port works" '^OK 2$' "$(cat "$T/c2.out")"
	sc_stop
fi

# --- when, against strace ---------------------------------------------------
# A new thread counts from zero under both (strace counts per tracee), so
# compare the sequences of a second thread's openat calls.
rm -f "$T/go"
"$SYSFAIL" -w "$T/go" -t 1 -s -n 14 openat "$T/file" > "$T/w.out" &
wt=$!
sc_yaml "  app: { pid: $wt }" "target: app, calls: [openat], errno: EIO, when: { after: 2, every: 3, times: 3 }" > "$T/when.yaml"
if sc_start when "$T/when.yaml"; then
	touch "$T/go"; wait "$wt"; sc_stop
	fl=$(sed -n 's/^seq //p' "$T/w.out")
	check_eq "when {after 2, every 3, times 3}: calls 3, 6 and 9 fail" '..x..x..x.....' "$fl"
	if command -v strace >/dev/null; then
		st=$(strace -f -qq -o /dev/null -e trace=openat \
			-e inject=openat:error=EIO:when=3..9+3 \
			"$SYSFAIL" -t 2 -s -n 14 openat "$T/file" | sed -n 's/^seq //p')
		check_eq "strace's when=3..9+3 fails the same calls" "$st" "$fl"
	else
		skip "when against strace" "strace is not installed"
	fi
fi

# --- probability, over 10000 calls ----------------------------------------
rm -f "$T/go"
"$SYSFAIL" -w "$T/go" -n 10000 openat "$T/file" > "$T/p.out" &
pt=$!
sc_yaml "  app: { pid: $pt }" "target: app, calls: [openat], errno: EIO, probability: 10%" > "$T/prob.yaml"
if sc_start prob "$T/prob.yaml"; then
	touch "$T/go"; wait "$pt"; sc_stop
	n=$(awk '$1 == "EIO" {print $2}' "$T/p.out")
	# Binomial(10000, 0.1): mean 1000, sd 30.  +-5 sd = +-150: a correct
	# engine fails this once in about 1.7 million runs (a 99% bound failed
	# one CI run in a hundred), while 5% or 15% is still far outside.
	check "probability 10%: $n of 10000 failed, inside 850..1150" \
		test "${n:-0}" -ge 850 -a "${n:-0}" -le 1150
	check_eq "events match the injections one to one" "${n:-0}" "$(sc_observed "$T/prob.report" injections)"
	check_eq "no event was lost" 0 "$(sc_observed "$T/prob.report" events_lost)"
fi

# --- fsync: refused on this kernel -------------------------------------------
sc_yaml "  app: { pid: $$ }" "target: app, calls: [fsync], errno: EIO" > "$T/fsync.yaml"
out=$("$FAULTLINE" run "$T/fsync.yaml" 2>&1); rc=$?
check_eq "fsync is refused here (exit 3)" 3 "$rc"
check_match "naming CONFIG_FUNCTION_ERROR_INJECTION and CONFIG_BPF_KPROBE_OVERRIDE" \
	'fsync.*CONFIG_FUNCTION_ERROR_INJECTION.*CONFIG_BPF_KPROBE_OVERRIDE' "$out"
check_match "and that fsync passes through no LSM hook" 'fsync passes through no LSM hook' "$out"
# Why route 1 (the syscall entry) is not taken here, and its programs up
# to the kernel's refusal (FAULTLINE_FORCE_SYSCALL_ENTRY, tests only).
out=$("$FAULTLINE" plan "$T/fsync.yaml" 2>&1)
check_match "plan: fmod_ret on syscalls is refused, __x64_sys_* is not modifiable" \
	'syscall entry: fmod_ret: load: Invalid argument; verifier: __x64_sys_getpgid\(\) is not modifiable; kprobe override: load: Invalid argument: bpf_override_return is missing \(needs CONFIG_BPF_KPROBE_OVERRIDE\)$' "$out"
sleep 60 & sl=$!
at_exit "kill $sl"
sc_yaml "  app: { pid: $sl }" "target: app, calls: [fsync], errno: EIO, follow-forks: false" > "$T/entry.yaml"
out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=fmod_ret "$FAULTLINE" run "$T/entry.yaml" 2>&1); rc=$?
check_eq "forced fmod_ret on __x64_sys_fsync: run fails to apply (exit 4)" 4 "$rc"
check_match "the verifier: __x64_sys_fsync() is not modifiable" \
	"fault f: apply FAILED: cannot load the BPF programs \(fmod_ret/__x64_sys_fsync\): Invalid argument: libbpf: prog 'sf_fmod_sys0': BPF program load failed: Invalid argument; verifier: __x64_sys_fsync\(\) is not modifiable$" "$out"
out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=kprobe "$FAULTLINE" run "$T/entry.yaml" 2>&1); rc=$?
check_eq "forced kprobe on __x64_sys_fsync: run fails to apply (exit 4)" 4 "$rc"
check_match "the verifier: no bpf_override_return" \
	"fault f: apply FAILED: cannot load the BPF programs \(kprobe/__x64_sys_fsync\): Invalid argument: libbpf: prog 'sf_kprobe_sys0': BPF program load failed: Invalid argument; verifier: unknown func bpf_override_return#58$" "$out"
check_eq "nothing is left in the journal" "" "$(ls -A "$FAULTLINE_RUNDIR" 2>/dev/null)"
