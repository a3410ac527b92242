#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --kernel fault-injection
# Route 1 of the syscall fault, the syscall's own entry, on the kernel
# that has it (tests/vm/fault-injection.config: FUNCTION_ERROR_INJECTION,
# BPF_KPROBE_OVERRIDE), both ways: fmod_ret on __x64_sys_* (the route
# chosen by itself) and a kprobe with bpf_override_return (forced with
# FAULTLINE_FORCE_SYSCALL_ENTRY=kprobe).  Each way: fsync, fdatasync,
# close, openat, read, write and connect fail with their errno for a pid
# target, a child it had before the fault and one it forks under it, while
# a process outside is untouched; `when` picks the calls strace would;
# probability and errno weights hold over 4000 calls; sqlite3 with
# synchronous=full says "disk I/O error" and works again after the fault.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/syscall-lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/syscall-entry" "run it under tools/vmtest --kernel fault-injection"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
if [ ! -x "$SYSFAIL" ] || [ ! -x "$FAULTLINE" ]; then
	notok "syscall-entry: $FAULTLINE and $SYSFAIL are built (make tests)"; exit 0
fi

# This kernel is built for route 1: both ways must load here.  Not a skip:
# a kernel without them is a broken build of tests/vm/fault-injection.config.
check_eq "doctor: fmod_ret on syscalls loads on this kernel" true "$(fact 'bpf.fmod_ret:syscall.available')"
check_eq "doctor: kprobe with bpf_override_return loads on this kernel" true "$(fact 'bpf.kprobe:override.available')"

F=$T/file
printf 'some bytes\n' > "$F"
port=$((20000 + $$ % 20000))
"$SYSFAIL" serve "$port" & at_exit "kill $!"
wait_for 5 "$SYSFAIL" -e OK connect "127.0.0.1:$port" ||
	notok "fixture: a listener on 127.0.0.1:$port"

# The argument of a call, and the errno each call fails with (a different
# one each, so that a call failed by another call's fault shows).
arg_of() { case $1 in connect) echo "127.0.0.1:$port" ;; *) echo "$F" ;; esac; }
declare -A ERR=([fsync]=EIO [fdatasync]=ENOSPC [close]=EINTR [openat]=EACCES
	[read]=EBADMSG [write]=EDQUOT [connect]=ECONNREFUSED)

for route in fmod_ret kprobe; do
	if [ $route = kprobe ]; then
		export FAULTLINE_FORCE_SYSCALL_ENTRY=kprobe
		via='kprobe with bpf_override_return'
	else
		unset FAULTLINE_FORCE_SYSCALL_ENTRY
		via='fmod_ret on the syscall entry'
	fi

	# --- each call: the target, its children, and a process outside -----
	for call in fsync fdatasync close openat read write connect; do
		e=${ERR[$call]} a=$(arg_of "$call")
		rm -f "$T/go" "$T/pre.out"
		# The target forks a child under the fault and makes the calls
		# too, after it (-d 1 -b): its status says whether all 4 calls
		# failed with $e.  A child it had before is seeded from /proc.
		# write: the child's output is a write too, so a marker file
		# (an open, not a write) says when it is done.
		pre='"$0" -w "$1/go" -n 2 '"$call"' "$2" > "$1/pre.out" &'
		[ $call = write ] && pre='{ "$0" -w "$1/go" -n 2 write "$2" > "$1/pre.out"; : > "$1/pre.done"; } &'
		rm -f "$T/pre.done" "$T/go2"
		# The callers take turns: the target waits for go2, which this
		# script makes once the child from before is done.  Run at once
		# under TCG, one call in 6 or 7 sometimes went uncounted, the
		# kernel's counter short too (likely the kernel skipping a
		# program busy on that CPU: its recursion protection), which
		# is not what this check is about.
		bash -c "$pre"'
			exec "$0" -w "$1/go2" -d 1 -b -n 2 -e '"$e $call"' "$2"' \
			"$SYSFAIL" "$T" "$a" &
		tgt=$!
		at_exit "kill -9 $tgt"
		sleep 0.2
		sc_yaml "  app: { pid: $tgt }" "target: app, calls: [$call], errno: $e" > "$T/$call.yaml"
		if [ $call = fsync ]; then
			check_match "$route: plan: fsync through $via" "via $via \\(fsync\\)" \
				"$("$FAULTLINE" plan "$T/$call.yaml" 2>&1)"
		fi
		sc_start "$route-$call" "$T/$call.yaml" || { kill -9 "$tgt"; wait "$tgt" 2>/dev/null; continue; }
		check "$route: $call: a process outside the target is untouched" \
			"$SYSFAIL" -n 3 -e OK "$call" "$a"
		touch "$T/go"
		# Under TCG on a loaded machine the child can take seconds.
		if [ $call = write ]; then
			check "$route: $call: the child from before the fault has exited" \
				wait_for 60 test -e "$T/pre.done"
		else
			wait_for 60 test -s "$T/pre.out"
		fi
		touch "$T/go2"
		wait "$tgt"; rc=$?
		check_eq "$route: $call fails with $e in the target and the child it forks" 0 "$rc"
		# write: the child from before the fault cannot print (its output
		# is a write too); the count of events below says it.
		if [ $call != write ]; then
			check_match "$route: $call fails with $e in the child from before the fault" \
				"^$e 2\$" "$(cat "$T/pre.out")"
		fi
		sc_stop
		n=$(sc_observed "$T/$route-$call.report" injections)
		want=6; [ $call = write ] && want=7
		# On a miss, where the count went: the kernel's, the events
		# read, those lost, and each failed call's event.
		[ "$n" = "$want" ] || echo "# $route $call: kernel_count $(sc_observed "$T/$route-$call.report" kernel_count)," \
			"events_lost $(sc_observed "$T/$route-$call.report" events_lost), calls $(sc_observed "$T/$route-$call.report" calls)," \
			"first_events $(python3 -c 'import json,sys; o=json.load(open(sys.argv[1]))["faults"][0]["observed"]; print([(e.get("pid"), e.get("tid"), e.get("time")) for e in o.get("first_events", [])])' "$T/$route-$call.report")"
		if [ $call = write ]; then
			# The child from before the fault: its 2 writes, and its
			# output (one write at exit, failed too).
			check_eq "$route: write: one event per failed call (2+2+2, and the child's output)" 7 "$n"
		else
			check_eq "$route: $call: one event per failed call (2+2+2)" 6 "$n"
		fi
		check "$route: $call works again once the fault is reverted" \
			"$SYSFAIL" -n 2 -e OK "$call" "$a"
	done

	# --- when, against strace's when= -------------------------------------
	rm -f "$T/go"
	"$SYSFAIL" -w "$T/go" -s -n 14 fsync "$F" > "$T/when.out" &
	tgt=$!
	sc_yaml "  app: { pid: $tgt }" "target: app, calls: [fsync], errno: EIO, when: { after: 2, every: 3, times: 3 }" > "$T/when.yaml"
	if sc_start "$route-when" "$T/when.yaml"; then
		touch "$T/go"; wait "$tgt"; sc_stop
		fl=$(sed -n 's/^seq //p' "$T/when.out")
		check_eq "$route: when {after 2, every 3, times 3}: fsync calls 3, 6 and 9 fail" '..x..x..x.....' "$fl"
		st=$(strace -qq -o /dev/null -e trace=fsync -e inject=fsync:error=EIO:when=3..9+3 \
			"$SYSFAIL" -s -n 14 fsync "$F" | sed -n 's/^seq //p')
		check_eq "$route: strace's when=3..9+3 fails the same calls" "$st" "$fl"
	else
		kill -9 "$tgt"; wait "$tgt" 2>/dev/null
	fi

	# --- probability and errno weights, over 4000 calls -------------------
	rm -f "$T/go"
	"$SYSFAIL" -w "$T/go" -n 4000 fdatasync "$F" > "$T/prob.out" &
	tgt=$!
	sc_yaml "  app: { pid: $tgt }" "target: app, calls: [fdatasync], probability: 50%, errno: { EIO: 50%, ENOSPC: 50% }" > "$T/prob.yaml"
	if sc_start "$route-prob" "$T/prob.yaml"; then
		touch "$T/go"; wait "$tgt"; sc_stop
		cnt() { awk -v k="$1" '$1 == k {print $2}' "$T/prob.out"; }
		okn=$(cnt OK) eio=$(cnt EIO) enospc=$(cnt ENOSPC)
		# 4000 calls: OK ~ Binomial(4000, 1/2), mean 2000, sd 32; EIO and
		# ENOSPC ~ Binomial(4000, 1/4), mean 1000, sd 27; +-5 sd.
		check "$route: probability 50%: $okn of 4000 pass, inside 1840..2160" \
			test "${okn:-0}" -ge 1840 -a "${okn:-0}" -le 2160
		check "$route: weights 50/50: EIO $eio, inside 860..1140" \
			test "${eio:-0}" -ge 860 -a "${eio:-0}" -le 1140
		check "$route: weights 50/50: ENOSPC $enospc, inside 860..1140" \
			test "${enospc:-0}" -ge 860 -a "${enospc:-0}" -le 1140
		check_eq "$route: one event per failed call" "$((${eio:-0} + ${enospc:-0}))" \
			"$(sc_observed "$T/$route-prob.report" injections)"
	else
		kill -9 "$tgt"; wait "$tgt" 2>/dev/null
	fi

	# --- sqlite3, synchronous=full ----------------------------------------
	# The target is a shell that runs the lines written to a FIFO (the
	# shell makes no fsync or fdatasync itself); its sqlite3 children are
	# followed.  SQLite syncs with fdatasync on Linux: the fault names both.
	if ! command -v sqlite3 >/dev/null; then
		skip "$route: sqlite3" "sqlite3 is not installed (tools/deps installs it)"
		continue
	fi
	db=$T/$route.db
	sq() { sqlite3 "$db" "pragma synchronous=full; $1"; }
	fixture "a table with one row" sq "create table t(x); insert into t values(1);"
	mkfifo "$T/sq.in"
	bash -c 'exec 3<>"$0"; while read -r line <&3; do eval "$line"; done' "$T/sq.in" &
	sh=$!
	at_exit "kill -9 $sh"
	in_target() { # N SQL: sqlite3 in the target; its output in $T/sqN.out
		rm -f "$T/sq$1.rc"
		printf 'sqlite3 %q %q > %q 2>&1; echo $? > %q\n' "$db" \
			"pragma synchronous=full; $2" "$T/sq$1.out" "$T/sq$1.rc" > "$T/sq.in"
		wait_for 60 test -s "$T/sq$1.rc"
	}
	sc_yaml "  db: { pid: $sh }" "target: db, calls: [fsync, fdatasync], errno: EIO" > "$T/sq.yaml"
	if sc_start "$route-sqlite" "$T/sq.yaml"; then
		in_target 1 "insert into t values(2);"
		check_match "$route: sqlite3 in the target says disk I/O error" 'disk I/O error' "$(cat "$T/sq1.out")"
		check "$route: and exits non-zero ($(cat "$T/sq1.rc"))" test "$(cat "$T/sq1.rc")" != 0
		check "$route: sqlite3 outside the target commits meanwhile" \
			sq "insert into t values(3);"
		sc_stop
		check_eq "$route: the fault counted the failed sync" true \
			"$([ "$(sc_observed "$T/$route-sqlite.report" injections)" -ge 1 ] && echo true)"
		in_target 2 "insert into t values(4);"
		check_eq "$route: after the fault, sqlite3 in the target commits" 0 "$(cat "$T/sq2.rc")"
		check_eq "$route: the rows: the failed insert rolled back" "1 3 4" \
			"$(sqlite3 "$db" 'select x from t order by x;' | tr '\n' ' ' | sed 's/ $//')"
		check_eq "$route: the database is sound" ok "$(sqlite3 "$db" 'pragma integrity_check;')"
	fi
	kill -9 "$sh"; wait "$sh" 2>/dev/null
	rm -f "$T/sq.in"
done
unset FAULTLINE_FORCE_SYSCALL_ENTRY
check_eq "nothing is left in the journal" "" "$(ls -A "$FAULTLINE_RUNDIR" 2>/dev/null)"
