#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# A hostile environment (issue 8): each case gets a clear message and a
# defined exit status, and nothing is half-applied.
#  - an experiment file that is world-writable, or owned by another user,
#    is refused like sudo refuses such a sudoers file (exit 2), unless
#    --allow-insecure-file.
#  - the run folder ($FAULTLINE_RUNDIR) read-only or full: refused before
#    any change (exit 3), or, with no room for an undo record, the change
#    is never made (exit 4) and the journal is left empty.
#  - two runs on the same pid (under different target names): the second
#    is refused (exit 3, naming the run that holds it).
#  - a target pid that exits mid-drill: "target app (pid N) exited at
#    +1.0s; its faults end": they are reverted then, those not begun are
#    skipped, a target-exited event and the report's targets_exited say
#    when; exit 0 (the exit status does not change).
#  - not root, or root with its capabilities dropped: refused before
#    anything (exit 3), saying what is missing.
#  - two runs on the same device (a partition in a namespace this test
#    makes) or the same cgroup spelled two ways: the second is refused
#    (exit 3, naming the run); a command target holds nothing, so one file
#    runs twice at once.
#  - a device that vanishes mid-drill: the revert is done and says so
#    (exit 0, journal empty).
#  - someone replaces the partition's cls_bpf filter mid-drill: revert
#    leaves theirs, names it, keeps the record (exit 4); status lists it,
#    recover refuses until theirs is gone, then finishes.
#  - a command target's scratch cgroups removed mid-drill (its processes
#    killed, then rmdir): revert says so for each, the journal is emptied,
#    exit 0.
#  - the cgroup of an oom fault removed mid-drill: the revert says so,
#    the journal is emptied, the exit status is the expectation's (1).
#  - someone changes the memory limit an oom fault holds (v1 here; v2 in
#    tests/vm/hostile.sh): the squeeze stops, revert leaves theirs and
#    names it (exit 4, record kept); recover refuses until the saved
#    limit is back, then finishes.
# The netem cases (a vanished device with its ifb, a root qdisc replaced)
# are in tests/vm/hostile.sh; docs/design.md, "Guarantees", lists them all.
source "$(dirname "$0")/../lib.sh"

if [ "$(id -u)" != 0 ]; then
	skip "hostile environment" "needs root (chown to another user)"
	exit 0
fi

# A drill whose target leaves a mark when started: a refused file must not
# start it.
mk() { # FILE
	cat > "$1" <<YAML
name: hostile
duration: 2s
targets:
  job: { command: [sh, -c, "touch $T/ran; sleep 30"] }
faults:
  - name: squeeze
    oom: { target: job, cgroup: scratch, squeeze: { below-usage: 16M } }
    at: 1s
    for: 1s
YAML
}

mk "$T/ww.yaml"
chmod 0666 "$T/ww.yaml"
for c in validate plan run; do
	out=$(env -u SUDO_UID "$FAULTLINE" "$c" "$T/ww.yaml" 2>&1); rc=$?
	check_eq "$c refuses a world-writable file (exit 2)" 2 "$rc"
	check_match "$c says why, and the way out" \
		"ww.yaml.*refusing a world-writable experiment file.*--allow-insecure-file" "$out"
done
check "a refused run started nothing" test ! -e "$T/ran"

mk "$T/other.yaml"
chown 65534 "$T/other.yaml"
for c in validate plan run; do
	out=$(env -u SUDO_UID "$FAULTLINE" "$c" "$T/other.yaml" 2>&1); rc=$?
	check_eq "$c refuses a file owned by another user (exit 2)" 2 "$rc"
	check_match "$c names the owner" \
		"other.yaml.*owned by uid 65534.*--allow-insecure-file" "$out"
done
check "a refused run started nothing" test ! -e "$T/ran"

out=$(env SUDO_UID=65534 "$FAULTLINE" validate "$T/other.yaml" 2>&1); rc=$?
check_eq "a file owned by the user who ran sudo is accepted" 0 "$rc"
out=$(env SUDO_UID=65534 "$FAULTLINE" validate "$T/ww.yaml" 2>&1); rc=$?
check_eq "sudo does not make a world-writable file safe (exit 2)" 2 "$rc"

for f in ww other; do
	for c in validate plan; do
		out=$(env -u SUDO_UID "$FAULTLINE" "$c" --allow-insecure-file \
			"$T/$f.yaml" 2>&1); rc=$?
		check_eq "$c --allow-insecure-file takes the $f file" 0 "$rc"
	done
done

mk "$T/mine.yaml"
chmod 0644 "$T/mine.yaml"
check_status "a root-owned 0644 file is fine" 0 \
	env -u SUDO_UID "$FAULTLINE" validate "$T/mine.yaml"

# --- The run folder (/run/faultline) read-only or full. -------------------
# The test engine writes a file; FAULTLINE_RUNDIR points at tmpfs mounts
# this test makes and removes.
if [ -x "$FAULTLINE_TEST" ]; then
	test_drill "$T/short.yaml" short 1s a "$T/a" A 0s
	# rundir_case NAME SIZE_KB FILL_KB MODE: a tmpfs at $T/NAME.
	rundir_case() {
		mkdir -p "$T/$1"
		mount -t tmpfs -o "size=${2}k,mode=0755" faultline-test "$T/$1" || return 1
		at_exit "umount -l $T/$1"
		[ "$3" -gt 0 ] && dd if=/dev/zero of="$T/$1/fill" bs=1k count="$3" 2>/dev/null
		[ "$4" = ro ] && mount -o remount,ro "$T/$1"
		echo prior > "$T/a"
		out=$(cd "$T" && FAULTLINE_RUNDIR=$T/$1/faultline "$FAULTLINE_TEST" run short.yaml 2>&1)
		rc=$?
	}
	left() { find "$T/$1" -mindepth 2 2>/dev/null | wc -l; }

	if rundir_case ro 64 0 ro; then
		check_eq "read-only run folder: refused (exit 3)" 3 "$rc"
		check_match "read-only run folder: says so" \
			"cannot create .*/ro/faultline: Read-only file system" "$out"
		check_eq "read-only run folder: nothing applied" prior "$(cat "$T/a")"
	else
		skip "read-only run folder" "cannot mount tmpfs"
	fi
	if rundir_case full 4 4 rw; then
		check_eq "full run folder: refused (exit 3)" 3 "$rc"
		check_match "full run folder: says so" \
			"cannot write .*run.json: No space left on device" "$out"
		check_eq "full run folder: nothing applied" prior "$(cat "$T/a")"
		check_eq "full run folder: no run folder left behind" 0 "$(left full)"
	fi
	# Room for run.json (one page) but not for the undo record: the
	# record is written before the change, so the change never happens.
	if rundir_case full1 8 4 rw; then
		check_eq "no room for the undo record: apply fails (exit 4)" 4 "$rc"
		check_match "no room for the undo record: says so" \
			"cannot write the undo record .*: No space left on device" "$out"
		check_eq "no room for the undo record: nothing applied" prior "$(cat "$T/a")"
		check_eq "no room for the undo record: journal empty" 0 "$(left full1)"
	fi
else
	skip "run folder read-only or full" "no $FAULTLINE_TEST (make tests)"
fi

# --- Targets: a second run on the same pid; a pid that exits mid-drill. ---
# Syscall faults on a pid target (cgroup connect hooks), own journal.
pid_fault() { # NAME TARGET PID DURATION
	cat > "$T/$1.yaml" <<YAML
name: $1
duration: $4
targets:
  $2: { pid: $3 }
faults:
  - name: f
    syscall: { target: $2, calls: [connect], errno: ENETUNREACH, follow-forks: false }
    at: 0s
YAML
}
export FAULTLINE_RUNDIR=$T/run
sleep 60 & victim=$!
at_exit "kill $victim"
pid_fault first app "$victim" 4s
# connect on a pid target: route 3, a cgroup sock_addr program.
if ! have_bpf cgroup_sock_addr; then
	skip "targets in a hostile environment" "missing BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"
elif fixture "plan of a connect fault on a pid" quiet "$FAULTLINE" plan "$T/first.yaml"; then
	# The same pid under another target name, from another file.
	pid_fault second other "$victim" 4s
	"$FAULTLINE" run -q "$T/first.yaml" > "$T/first.out" 2>&1 &
	first=$!
	at_exit "kill $first"
	wait_for 2 runs_are 1
	out=$("$FAULTLINE" run "$T/second.yaml" 2>&1); rc=$?
	check_eq "two runs on the same pid: the second is refused (exit 3)" 3 "$rc"
	check_match "two runs on the same pid: says which run holds it" \
		"busy: pid:$victim is held by run .*first\.yaml" "$out"
	wait "$first"; rc=$?
	check_eq "two runs on the same pid: the first one is untouched (exit 0)" 0 "$rc"
	check_eq "two runs on the same pid: journal empty after" 0 "$(runs_left)"

	# A pid that exits two seconds into a four-second drill (a second
	# was too short for the checks under ASan).
	sleep 2 & short=$!
	pid_fault gone app "$short" 4s
	out=$("$FAULTLINE" run "$T/gone.yaml" 2>&1); rc=$?
	check_eq "a target pid that exits mid-drill: the drill ends (exit 0)" 0 "$rc"
	check_match "a target pid that exits mid-drill: the fault is reverted" \
		"fault f: reverted" "$out"
	check_match "a target pid that exits mid-drill: says so, and when" \
		"target app \(pid $short\) exited at \+[0-9.]+s; its faults end: f; nothing is left to revert in it" "$out"
	check_match "a target pid that exits mid-drill: its fault ends then, not at the drill's end" \
		"\[\+[012]\.[0-9]+s\] fault f: reverted" "$out"
	# A fault on it that had not begun is skipped, not failed; --json has
	# the event and the report the time.
	sleep 2 & short=$!
	pid_fault gone2 app "$short" 4s
	printf '%s\n' "  - name: later" "    syscall: { target: app, calls: [connect], errno: ENETUNREACH }" "    at: 3s" >> "$T/gone2.yaml"
	out=$("$FAULTLINE" run --json --report "$T/gone2.json" "$T/gone2.yaml" 2>&1); rc=$?
	check_eq "a target pid that exits before a fault begins: exit 0" 0 "$rc"
	check_match "a target pid that exits mid-drill: a target-exited event" \
		'"event":"target-exited","target":"app","pid":'"$short"',"ended":\["f"\],"skipped":\["later"\]' "$out"
	check_eq "a target pid that exits mid-drill: the report has it" "app $short" \
		"$(jq -r '.targets_exited[] | "\(.name) \(.pid)"' "$T/gone2.json" 2>&1)"
	check_eq "a fault on a target that is gone is skipped" "skipped" \
		"$(jq -r '.faults[] | select(.name == "later") | .state' "$T/gone2.json" 2>&1)"
	check_eq "a target pid that exits mid-drill: journal empty" 0 "$(runs_left)"
fi

# --- Not root, or root without the capabilities. ----------------------------
if command -v setpriv >/dev/null && [ -x "$FAULTLINE_TEST" ]; then
	echo prior > "$T/a"
	for c in run recover; do
		out=$(cd / && setpriv --reuid=65534 --regid=65534 --clear-groups \
			"$FAULTLINE_TEST" $c $([ $c = run ] && echo "$T/short.yaml") 2>&1)
		rc=$?
		check_eq "not root: $c is refused (exit 3)" 3 "$rc"
		check_match "not root: $c says it needs root" \
			"$c needs root \(or CAP_NET_ADMIN and CAP_SYS_ADMIN\).*sudo faultline $c" "$out"
	done
	out=$(setpriv --inh-caps=-all --bounding-set=-all \
		"$FAULTLINE_TEST" run "$T/short.yaml" 2>&1); rc=$?
	check_eq "root without capabilities: run is refused (exit 3)" 3 "$rc"
	check_match "root without capabilities: says which it lacks" \
		"run needs CAP_NET_ADMIN and CAP_SYS_ADMIN, which this root process lacks" "$out"
	check_eq "not root, no capabilities: nothing applied" prior "$(cat "$T/a")"
else
	skip "not root" "no setpriv or no $FAULTLINE_TEST"
fi

# --- Devices and qdiscs under a partition, in namespaces this test makes. --
# 10.79.0.0/24 between fl-<pid>-ha (veth0) and fl-<pid>-hb, nothing else.
ha=fl-$$-ha hb=fl-$$-hb
net_up() { netns_pair $ha $hb 10.79.0.1/24 10.79.0.2/24 veth0; }
net_down() { netns_del $ha $hb; }
export FAULTLINE_RUNDIR=$T/prun
cat > "$T/split.yaml" <<'YAML'
name: split
duration: 3s
faults:
  - name: split
    partition: { groups: [[10.79.0.1], [10.79.0.2]] }
YAML
# part_start OUT: the drill in the background, until its fault is applied.
part_start() {
	ip netns exec $ha "$FAULTLINE" run --json "$T/split.yaml" > "$1" 2>&1 &
	part=$!
	for _ in $(seq 100); do
		grep -q '"event":"applied"' "$1" && return 0
		kill -0 $part 2>/dev/null || return 1
		sleep 0.05
	done
	return 1
}
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "devices and qdiscs changed under a drill" "missing clsact or BPF sched_cls: $(fact qdiscs.clsact.why); $(fact bpf.sched_cls.why)"
elif ! fixture "two network namespaces joined by a veth pair" net_up; then
	:
elif fixture "plan of a partition" quiet ip netns exec $ha "$FAULTLINE" plan "$T/split.yaml"; then
	# Two runs on the same device: the second is refused, naming the run.
	fixture "a partition drill applied (p1)" part_start "$T/p1.out"
	ino=$(ip netns exec $ha stat -L -c %i /proc/self/ns/net)
	out=$(ip netns exec $ha "$FAULTLINE" run "$T/split.yaml" 2>&1); rc=$?
	check_eq "two runs on the same device: the second is refused (exit 3)" 3 "$rc"
	check_match "two runs on the same device: says which run holds it" \
		"busy: dev:$ino:veth0 is held by run .*split\.yaml" "$out"
	kill -INT $part; wait $part

	# The device vanishes mid-drill: its filters went with it.
	fixture "a partition drill applied (p2)" part_start "$T/p2.out"
	ip -n $ha link del veth0
	wait $part; rc=$?
	check_eq "a device that vanishes mid-drill: the drill ends (exit 0)" 0 "$rc"
	check_match "a device that vanishes mid-drill: says so" \
		"device veth0 vanished during the drill; its qdiscs went with it" "$(cat "$T/p2.out")"
	check_eq "a device that vanishes mid-drill: journal empty" 0 "$(runs_left)"

	# Someone replaces our egress filter with theirs (same priority and
	# handle, another BPF program): refused, theirs stays, exit 4, and
	# status and recover name what is left.
	net_down; fixture "the namespaces again" net_up
	fixture "a partition drill applied (p3)" part_start "$T/p3.out"
	handle=$(tc -n $ha filter show dev veth0 egress | sed -n 's/.*pref \([0-9]*\) bpf .*handle \(0x[0-9a-f]*\).*/\1 \2/p' | head -1)
	fixture "their filter replaces ours" \
		tc -n $ha filter replace dev veth0 egress pref ${handle% *} handle ${handle#* } \
		bpf da obj "${OUTPUT}netem/partition.bpf.o" sec tc
	theirs=$(tc -n $ha filter show dev veth0 egress | sed -n 's/.* id \([0-9]*\) .*/\1/p')
	wait $part; rc=$?
	out=$(cat "$T/p3.out")
	check_eq "a filter replaced mid-drill: revert incomplete (exit 4)" 4 "$rc"
	check_match "a filter replaced mid-drill: says so, naming device and program" \
		"veth0: the egress filter at priority ${handle% *} handle $((${handle#* })) is not faultline's any more \(BPF program $theirs, not [0-9]+\): someone replaced it during the drill; leaving theirs in place" "$out"
	check_eq "a filter replaced mid-drill: theirs is still there" "$theirs" \
		"$(tc -n $ha filter show dev veth0 egress | sed -n 's/.* id \([0-9]*\) .*/\1/p')"
	check_eq "a filter replaced mid-drill: its record stays" 1 "$(runs_left)"
	out=$("$FAULTLINE" status 2>&1)
	check_match "a filter replaced mid-drill: status lists what was left" "split" "$out"
	out=$(ip netns exec $ha "$FAULTLINE" recover 2>&1); rc=$?
	check_eq "a filter replaced mid-drill: recover still refuses (exit 4)" 4 "$rc"
	check_match "a filter replaced mid-drill: recover says why" \
		"veth0: the egress filter .* someone replaced it" "$out"
	tc -n $ha filter del dev veth0 egress pref ${handle% *}
	out=$(ip netns exec $ha "$FAULTLINE" recover 2>&1); rc=$?
	check_eq "a filter replaced mid-drill: once theirs is gone, recover finishes" 0 "$rc"
	check_eq "a filter replaced mid-drill: journal empty after" 0 "$(runs_left)"
	check_eq "a filter replaced mid-drill: no clsact of ours left" "" \
		"$(tc -n $ha qdisc show dev veth0 | grep clsact)"
fi

# --- Cgroups: one cgroup under two spellings; command targets side by side;
# a cgroup removed under an oom fault. --------------------------------------
export FAULTLINE_RUNDIR=$T/crun
uni=$(unified_mount)
cg2=fl-$$-hcg
if ! have_bpf cgroup_sock_addr; then
	skip "two runs on one cgroup" "missing BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"
elif [ -z "$uni" ]; then
	skip "two runs on one cgroup" "no cgroup v2 hierarchy (cgroups.unified_mount)"
elif fixture "a cgroup $uni/$cg2" mkdir "$uni/$cg2"; then
	at_exit "rmdir $uni/$cg2"
	cg_fault() { # NAME CGROUP
		cat > "$T/$1.yaml" <<YAML
name: $1
duration: 3s
targets:
  box: { cgroup: $2 }
faults:
  - name: f
    syscall: { target: box, calls: [connect], errno: ECONNREFUSED }
YAML
	}
	cg_fault rel "$cg2"
	cg_fault abs "$uni/$cg2"
	if fixture "plan of a connect fault on a cgroup" quiet "$FAULTLINE" plan "$T/rel.yaml"; then
		"$FAULTLINE" run -q "$T/rel.yaml" > "$T/rel.out" 2>&1 &
		first=$!
		wait_for 2 runs_are 1
		out=$("$FAULTLINE" run "$T/abs.yaml" 2>&1); rc=$?
		check_eq "two runs on one cgroup, spelled two ways: the second is refused (exit 3)" 3 "$rc"
		check_match "two runs on one cgroup: names the cgroup and the run" \
			"busy: cgroup:$uni/$cg2 is held by run .*rel\.yaml" "$out"
		wait $first
		check_eq "two runs on one cgroup: journal empty after" 0 "$(runs_left)"
	fi
fi

# The same file twice at once with a command target: each run starts its
# own command in its own scratch cgroups, so nothing is shared.
cat > "$T/cmd.yaml" <<'YAML'
name: cmd
duration: 2s
targets:
  job: { command: [sleep, "30"] }
faults:
  - name: f
    syscall: { target: job, calls: [connect], errno: ECONNREFUSED }
YAML
cmd_ok=
if ! have_bpf cgroup_sock_addr; then
	skip "command targets side by side" "missing BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"
	skip "a scratch cgroup removed mid-drill" "missing BPF cgroup sock_addr programs"
elif fixture "plan of a connect fault on a command" quiet "$FAULTLINE" plan "$T/cmd.yaml"; then
	cmd_ok=y
fi
if [ -n "$cmd_ok" ]; then
	"$FAULTLINE" run -q "$T/cmd.yaml" > /dev/null 2>&1 & one=$!
	"$FAULTLINE" run -q "$T/cmd.yaml" > /dev/null 2>&1 & two=$!
	wait $one; r1=$?
	wait $two; r2=$?
	check_eq "one file with a command target, twice at once: both run (exit 0 0)" "0 0" "$r1 $r2"
	check_eq "command targets side by side: journal empty after" 0 "$(runs_left)"
fi

# A command target's scratch cgroups removed under us mid-drill (its
# processes killed first, then rmdir, by this test): revert says so for
# each, nothing crashes, the exit status is the drill's own (0: the
# command exiting does not change it), the journal is empty.
if [ -n "$cmd_ok" ]; then
	"$FAULTLINE" run "$T/cmd.yaml" > "$T/scgone.out" 2>&1 & run=$!
	at_exit "kill $run"
	sc=()
	for _ in $(seq 40); do
		sc=($(ls -d /sys/fs/cgroup/faultline-*-$run-job \
			/sys/fs/cgroup/*/faultline-*-$run-job 2>/dev/null))
		[ ${#sc[@]} -gt 0 ] && grep -q "fault f: applied" "$T/scgone.out" && break
		sleep 0.05
	done
	for d in "${sc[@]}"; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	done
	gone=0
	for d in "${sc[@]}"; do
		wait_for 2 rmdir "$d" 2>/dev/null
		[ -d "$d" ] || gone=$((gone + 1))
	done
	fixture "the test removed the scratch cgroups (${#sc[@]})" \
		test "${#sc[@]}" -gt 0 -a "$gone" = "${#sc[@]}"
	wait $run; rc=$?
	out=$(cat "$T/scgone.out")
	check_eq "a scratch cgroup removed mid-drill: the drill ends (exit 0)" 0 "$rc"
	check_match "a scratch cgroup removed mid-drill: the command's end is reported" \
		"target job: exited \(signal 9\)" "$out"
	for d in "${sc[@]}"; do
		check_match "a scratch cgroup removed mid-drill: says so for $(basename "$(dirname "$d")")" \
			"target job: its scratch cgroup $d was removed during the drill; nothing to remove there" "$out"
	done
	check_match "a scratch cgroup removed mid-drill: the fault is reverted" \
		"fault f: reverted" "$out"
	check_eq "a scratch cgroup removed mid-drill: journal empty" 0 "$(runs_left)"
fi

# An oom fault whose cgroup is removed mid-drill (its process killed
# first, by us): the revert says so; the run is not proven an OOM kill
# (exit 1, the expectation's status); the journal is empty.
mem=$(memory_mount)
cgm=$mem/fl-$$-hoom
if [ "$(memory_mode)" != v1 ] && [ "$(memory_mode)" != v2 ]; then
	skip "a cgroup removed mid-drill" "no memory controller mounted (cgroups.memory.mode)"
elif [ ! -x "$HELPERS/memhog" ]; then
	skip "a cgroup removed mid-drill" "no $HELPERS/memhog (make tests)"
elif fixture "a memory cgroup $cgm" mkdir "$cgm"; then
	at_exit "rmdir $cgm"
	(echo $BASHPID > "$cgm/cgroup.procs"; exec "$HELPERS/memhog" --size 32M > /dev/null) &
	hog=$!
	at_exit "kill -9 $hog"
	sleep 0.5
	cat > "$T/cgone.yaml" <<YAML
name: cgone
duration: 3s
targets:
  box: { cgroup: $cgm }
faults:
  - name: squeeze
    oom: { target: box, squeeze: { below-usage: 4M } }
YAML
	"$FAULTLINE" run "$T/cgone.yaml" > "$T/cgone.out" 2>&1 & run=$!
	sleep 1.2
	kill -9 $hog; wait $hog 2>/dev/null
	wait_for 2 rmdir "$cgm" 2>/dev/null
	fixture "the test removed $cgm" test ! -d "$cgm"
	wait $run; rc=$?
	check_eq "a cgroup removed mid-drill: exit 1 (no OOM kill proven)" 1 "$rc"
	check_match "a cgroup removed mid-drill: says so" \
		"oom: cgroup $cgm was removed during the drill; nothing to restore there" "$(cat "$T/cgone.out")"
	check_match "a cgroup removed mid-drill: the fault is reverted, not failed" \
		"fault squeeze: reverted" "$(cat "$T/cgone.out")"
	check_eq "a cgroup removed mid-drill: journal empty" 0 "$(runs_left)"
fi

# Someone else changes the limit an oom fault holds (here lower, to 256M,
# than faultline's 512M): the watcher stops squeezing, revert leaves
# theirs and names cgroup, file, both values (exit 4, record kept), the
# memsw limit faultline also set is put back; recover refuses the same
# way until the saved limit is back, then finishes.
cgf=$mem/fl-$$-hforeign
if [ "$(memory_mode)" != v1 ]; then
	skip "a limit changed mid-drill" "memory controller not on cgroup v1 (tests/vm/hostile.sh has v2)"
elif [ ! -x "$HELPERS/memhog" ]; then
	skip "a limit changed mid-drill" "no $HELPERS/memhog (make tests)"
elif fixture "a memory cgroup $cgf" mkdir "$cgf"; then
	at_exit "rmdir $cgf"
	(echo $BASHPID > "$cgf/cgroup.procs"; exec "$HELPERS/memhog" --size 16M > /dev/null) &
	fhog=$!
	at_exit "kill -9 $fhog"
	sleep 0.5
	orig=$(cat "$cgf/memory.limit_in_bytes")
	memsw=$cgf/memory.memsw.limit_in_bytes
	[ -e "$memsw" ] && origsw=$(cat "$memsw")
	cat > "$T/foreign.yaml" <<YAML
name: foreign
duration: 3s
targets:
  box: { cgroup: $cgf }
faults:
  - name: squeeze
    oom: { target: box, squeeze: { to: 512M } }
YAML
	"$FAULTLINE" run "$T/foreign.yaml" > "$T/foreign.out" 2>&1 & run=$!
	wait_for 2 grep -q "fault squeeze: applied" "$T/foreign.out"
	sleep 0.3
	check_eq "a limit changed mid-drill: faultline's limit was on" 536870912 \
		"$(cat "$cgf/memory.limit_in_bytes")"
	echo 268435456 > "$cgf/memory.limit_in_bytes"
	wait $run; rc=$?
	out=$(cat "$T/foreign.out")
	check_eq "a limit changed mid-drill: revert incomplete (exit 4)" 4 "$rc"
	check_match "a limit changed mid-drill: says so, naming cgroup, file and both values" \
		"oom: cgroup $cgf: memory.limit_in_bytes is now 268435456, not the 536870912 faultline wrote: someone else changed it during the drill; leaving theirs in place" "$out"
	check_eq "a limit changed mid-drill: theirs is still there (no re-assert, no restore)" \
		268435456 "$(cat "$cgf/memory.limit_in_bytes")"
	if [ -e "$memsw" ]; then
		check_eq "a limit changed mid-drill: the memsw limit faultline set is put back" \
			"$origsw" "$(cat "$memsw")"
	fi
	check_eq "a limit changed mid-drill: its record stays" 1 "$(runs_left)"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "a limit changed mid-drill: recover refuses too (exit 4)" 4 "$rc"
	check_match "a limit changed mid-drill: recover says why" \
		"memory.limit_in_bytes is now 268435456, not the 536870912 faultline wrote" "$out"
	check_eq "a limit changed mid-drill: recover leaves theirs" \
		268435456 "$(cat "$cgf/memory.limit_in_bytes")"
	echo "$orig" > "$cgf/memory.limit_in_bytes"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "a limit changed mid-drill: once the saved limit is back, recover finishes" 0 "$rc"
	check_eq "a limit changed mid-drill: journal empty after" 0 "$(runs_left)"
	kill -9 $fhog; wait $fhog 2>/dev/null
	wait_for 2 rmdir "$cgf" 2>/dev/null
fi
