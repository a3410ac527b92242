# SPDX-License-Identifier: GPL-2.0-only
# The self-chaos test (issue 8), shared by tests/host/selfchaos.sh and
# tests/vm/selfchaos.sh; source it after tests/lib.sh.
#
# Each trial starts a drill with every fault kind (and syscall route: the
# command's fsync through the seccomp route) this kernel allows, in
# namespaces, cgroups, on a device and a tmpfs the trial made (prefix
# flch-), picks a moment (during apply, while active, or during revert)
# and an action, both drawn from the seed:
#   kill9     kill -9 the runner; the guardian must revert
#   kill9both kill -9 the runner and its guardian, then faultline recover
#   sigint2   SIGINT twice; the runner must revert at once
#   deljournal rm -rf the journal folder, then faultline recover: recover
#             must fail (exit 4) and name what it finds of ours, never
#             claim success
# then waits for quiescence and compares everything with its snapshot from
# before the trial: the device's tc tree (qdiscs, classes, filters, both
# directions) and ifb devices, the link fault's device (flap0: flags,
# altnames), the target cgroup's limits, BPF attachments and freezer
# state, the disk fault's tmpfs's free space, scratch cgroups, BPF
# programs of the run, the journal.
# What is left is counted, reported and removed, so the next trial starts
# clean.
#
# The caller sets CHAOS_NAME (host or vm), CHAOS_MEM (the memory
# hierarchy), CHAOS_V2 (the v2 mount), CHAOS_MODE (v1 or v2), CHAOS_NETEM
# (1 when the netem engine can run) and calls chaos_main.

CHAOS_SEED=${FAULTLINE_CHAOS_SEED:-20261128}
CHAOS_TRIALS=${FAULTLINE_CHAOS_TRIALS:-30}
MEMHOG=$HELPERS/memhog
export FAULTLINE_RUNDIR=$T/run

ACTIONS=(kill9 kill9both sigint2 deljournal)
PHASES=(apply active revert)

chaos_pfx=flch-$$
box=$chaos_pfx-box

# rnd N: R = a number in 0..N-1 from the seeded sequence (no subshell, so
# the sequence is the same on every replay).
rnd() { R=$((RANDOM % $1)); }

# The device's tc tree and the namespace's ifb devices, without counters.
tc_tree() {
	# One namespace switch for all of it: every program started counts
	# under TCG.
	nsenter --net=/run/netns/"$1" -- sh -c '
		echo "== qdisc"; tc qdisc show dev eth0
		echo "== class"; tc class show dev eth0
		echo "== filter root"; tc filter show dev eth0
		echo "== filter 1:"; tc filter show dev eth0 parent 1:
		echo "== filter ingress"; tc filter show dev eth0 ingress
		echo "== filter egress"; tc filter show dev eth0 egress
		echo "== ifb"; ip -o link show type ifb' 2>&1 |
		sed -E 's/direct_packets_stat [0-9]+//; s/^[0-9]+: ([^:@]+).*/\1/'
}

box_limits() {
	local f
	if [ "$CHAOS_MODE" = v1 ]; then
		for f in memory.limit_in_bytes memory.memsw.limit_in_bytes \
			 memory.soft_limit_in_bytes; do
			[ -e "$CHAOS_MEM/$box/$f" ] && echo "$f $(cat "$CHAOS_MEM/$box/$f")"
		done
	else
		for f in memory.max memory.high memory.swap.max memory.low \
			 memory.min; do
			[ -e "$CHAOS_MEM/$box/$f" ] && echo "$f $(cat "$CHAOS_MEM/$box/$f")"
		done
	fi
}

# Programs attached to the target cgroup (the syscall fault's hooks).
box_bpf() {
	bpftool cgroup show "$CHAOS_V2/$box" 2>&1 | awk 'NR > 1 {print $2, $3, $NF}'
}

# The link fault's device: its flags and names (the marker altname).
link_state() {
	echo "== flap0"
	ip -n "$1" -o link show flap0 2>&1 | grep -o '<[^>]*>\|altname [^ \\]*'
}

# Everything the trial compares: the user's tree, limits, attachments.
state() {
	tc_tree "$ns_a"
	link_state "$ns_a"
	echo "== box limits"; box_limits
	echo "== box bpf"; box_bpf
	echo "== disk free"; disk_free
	echo "== box frozen"; cat "$CHAOS_V2/$box/cgroup.freeze" 2>/dev/null
}

# state_like BEFORE: the state, once it is BEFORE again or after 5 s.  A
# link set up again is RUNNING only once the kernel's linkwatch has run,
# up to a second later (more under TCG): that settling is not a leftover.
state_like() {
	local now k=0
	now=$(state)
	while [ "$now" != "$1" ] && [ $((k++)) -lt 25 ]; do
		sleep 0.2
		now=$(state)
	done
	printf '%s\n' "$now"
}

# The disk fault's own small tmpfs: its free space, which every end of a
# run must give back.
chaos_fs=$T/chaos-fs
disk_up() {
	mkdir -p "$chaos_fs" && mount -t tmpfs -o size=8M flch-disk "$chaos_fs"
}
disk_free() { stat -f -c '%a %f' "$chaos_fs" 2>&1; }

# The scratch cgroups of the run whose runner is pid.
scratch_of() {
	local d
	for d in "$CHAOS_MEM"/faultline-*-"$1"-*; do
		[ -d "$d" ] && echo "$d"
	done
	[ "$CHAOS_V2" = "$CHAOS_MEM" ] && return 0
	for d in "$CHAOS_V2"/faultline-*-"$1"-*; do
		[ -d "$d" ] && echo "$d"
	done
	return 0
}

# Things of the trial's run that must all be gone: scratch cgroups (named
# faultline-<run>-<target>, the run id holding the runner's pid), BPF
# programs held by the runner or its guardian, the journal, processes.
ours() {
	local pid=$1 d p
	for d in $(scratch_of "$pid"); do
		[ -d "$d" ] && echo "scratch cgroup $d"
	done
	bpftool prog show 2>/dev/null |
		awk -v pids="faultline\\\\($pid\\\\)|fl-guardian\\\\(" '
			/^[0-9]+:/ { id = $1; name = $4 }
			/pids / && $0 ~ pids && name ~ /^(part_|sf_)/ { print "bpf program " id " " name }'
	[ -d "$FAULTLINE_RUNDIR" ] &&
		find "$FAULTLINE_RUNDIR" -mindepth 1 -maxdepth 2 | sed 's/^/journal /'
	for p in "$pid" $guardians; do
		kill -0 "$p" 2>/dev/null && echo "process $p $(cat /proc/$p/comm 2>/dev/null)"
	done
	return 0
}

# Remove whatever a trial left, so the next one starts clean.
force_clean() {
	local pid=$1 d p t
	for p in "$pid" $guardians; do kill -9 "$p" 2>/dev/null; done
	for d in $(scratch_of "$pid"); do
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	done
	sleep 0.2
	for d in $(scratch_of "$pid"); do
		[ -d "$d" ] && rmdir "$d"
	done
	bpftool cgroup show "$CHAOS_V2/$box" 2>/dev/null |
		awk 'NR > 1 {print $1, $2}' | while read -r id t; do
			bpftool cgroup detach "$CHAOS_V2/$box" "$t" id "$id"
		done
	box_set_limits
	echo 0 >"$CHAOS_V2/$box/cgroup.freeze" 2>/dev/null
	rm -rf "$FAULTLINE_RUNDIR"
	netns_down
}

box_set_limits() {
	if [ "$CHAOS_MODE" = v1 ]; then
		echo 943718400 >"$CHAOS_MEM/$box/memory.limit_in_bytes" 2>/dev/null
		echo 1073741824 >"$CHAOS_MEM/$box/memory.memsw.limit_in_bytes" 2>/dev/null
		echo 943718400 >"$CHAOS_MEM/$box/memory.limit_in_bytes" 2>/dev/null
		echo 536870912 >"$CHAOS_MEM/$box/memory.soft_limit_in_bytes" 2>/dev/null
	else
		echo 943718400 >"$CHAOS_MEM/$box/memory.max"
		echo 536870912 >"$CHAOS_MEM/$box/memory.swap.max" 2>/dev/null
		echo 900000768 >"$CHAOS_MEM/$box/memory.high"
	fi
}

box_up() {
	mkdir -p "$CHAOS_MEM/$box" "$CHAOS_V2/$box" || return 1
	box_set_limits
	# A sleeper inside, so the cgroup target has a process.
	bash -c 'echo $$ >"$1/cgroup.procs"; [ "$1" = "$2" ] || echo $$ >"$2/cgroup.procs"; exec sleep 100000' \
		_ "$CHAOS_MEM/$box" "$CHAOS_V2/$box" &
	boxpid=$!
}

box_down() {
	kill -9 "$boxpid" 2>/dev/null
	wait "$boxpid" 2>/dev/null
	rmdir "$CHAOS_MEM/$box" 2>/dev/null
	[ "$CHAOS_V2" = "$CHAOS_MEM" ] || rmdir "$CHAOS_V2/$box" 2>/dev/null
}

netns_up() {
	ns_a=$chaos_pfx-a ns_b=$chaos_pfx-b
	ip netns add "$ns_a" && ip netns add "$ns_b" || return 1
	ip -n "$ns_a" link add eth0 type veth peer name eth0 netns "$ns_b" || return 1
	ip -n "$ns_a" addr add 10.79.0.1/24 dev eth0
	ip -n "$ns_b" addr add 10.79.0.2/24 dev eth0
	ip -n "$ns_a" link set eth0 up
	ip -n "$ns_b" link set eth0 up
	# The link fault's device, a second veth pair.
	ip -n "$ns_a" link add flap0 type veth peer name flap0 netns "$ns_b" || return 1
	ip -n "$ns_a" link set flap0 up
	ip -n "$ns_b" link set flap0 up
	# The user's own tree: htb with classes and a u32 filter, and a
	# clsact with a filter of its own at ingress.
	ip netns exec "$ns_a" sh -e -c '
		tc qdisc add dev eth0 root handle 1: htb default 20
		tc class add dev eth0 parent 1: classid 1:1 htb rate 50mbit quantum 60000
		tc class add dev eth0 parent 1:1 classid 1:20 htb rate 5mbit ceil 50mbit
		tc filter add dev eth0 parent 1: protocol ip prio 3 u32 match ip src 10.3.0.0/16 flowid 1:20
		tc qdisc add dev eth0 clsact
		tc filter add dev eth0 ingress protocol ip prio 1 u32 match ip src 10.7.0.0/16 classid 1:7' 2>/dev/null
}

netns_down() {
	ip netns del "$chaos_pfx-a" 2>/dev/null
	ip netns del "$chaos_pfx-b" 2>/dev/null
	return 0
}

# The drill: every fault kind this kernel allows, short windows.
drill() {
	cat <<Y
name: selfchaos
duration: 1500ms
targets:
  hog:
    command: [$MEMHOG, --size, 64M, --step, 4M, --every, 30]
  box:
    cgroup: $box
  victim:
    command: [sleep, "100000"]
    restart: true
faults:
  - name: cut
    partition:
      groups: [[10.79.0.1], [10.79.0.2]]
    at: 0s
    for: 1s
  - name: squeeze-hog
    oom:
      target: hog
      cgroup: scratch
      squeeze: { below-usage: 8M }
    at: 0s
    for: 1s
  - name: squeeze-box
    oom:
      target: box
      squeeze: { to: 200M }
    at: 50ms
    for: 1s
  - name: flap
    link:
      device: flap0
    at: 0s
    for: 1s
  - name: freeze-box
    pause: { target: box }
    at: 100ms
    for: 1s
  - name: kill-victim
    kill: { target: victim }
    at: 150ms
    for: 1s
  - name: refuse
    syscall:
      target: box
      calls: [connect]
      errno: ECONNREFUSED
    at: 0s
    for: 1s
Y
	# The command's fsync through the seccomp route (route 1 where the
	# kernel has it): its listener goes to the guardian.
	if [ "$(fact seccomp.user_notif.available)" = true ]; then
		cat <<Y
  - name: nosync
    syscall:
      target: hog
      calls: [fsync, fdatasync]
      errno: EIO
    at: 0s
    for: 1s
Y
	fi
	if [ "$CHAOS_NETEM" = 1 ]; then
		cat <<Y
  - name: slow
    netem:
      device: eth0
      direction: both
      match: { to: 10.79.0.2 }
      delay: 5ms
      loss: 1%
    # Within cut's window: its ingress side shares eth0's clsact with
    # the partition, which faults may do only nested (core/collide.c).
    at: 100ms
    for: 800ms
Y
	fi
	cat <<Y
  - name: fill
    disk: { path: $chaos_fs, free: 0 }
    at: 0s
    for: 1s
Y
}

# Wait until the runner's output has the "run" event (the timeline's
# start), at most 5 s; 1 when the runner ended first.
wait_run_event() {
	local i
	for ((i = 0; i < 250; i++)); do
		grep -q '"event":"run"' "$out" 2>/dev/null && return 0
		kill -0 "$runner" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# The runner's children that are faultline (the guardian, before or after
# it renamed itself), not its command targets.
guardians_of() {
	local p c
	for p in $(pgrep -P "$1"); do
		c=$(cat /proc/$p/comm 2>/dev/null)
		[ "$c" = fl-guardian ] || [ "$c" = faultline ] && echo "$p"
	done
}

# Wait (at most 10 s) until the runner and its guardians are gone.
quiesce() {
	local i p alive
	for ((i = 0; i < 200; i++)); do
		alive=0
		for p in "$runner" $guardians; do
			kill -0 "$p" 2>/dev/null && alive=1
		done
		[ $alive = 0 ] && break
		sleep 0.05
	done
	{ wait "$runner"; } 2>/dev/null
	return 0
}

# The objects of ours faultline's scan should name: scratch cgroups, ifb
# devices, faultline's qdisc handles and BPF filters on the device.
scan_names() {
	local d
	for d in $(scratch_of "$runner"); do
		[ -d "$d" ] && echo "$d"
	done
	[ "$(cat "$CHAOS_V2/$box/cgroup.freeze" 2>/dev/null)" = 1 ] &&
		echo "$CHAOS_V2/$box frozen by faultline"
	ip -n "$ns_a" -o link show type ifb 2>/dev/null | awk '{print $2}' | sed 's/@.*//; s/:$//'
	ip netns exec "$ns_a" tc qdisc show dev eth0 2>/dev/null |
		awk '$3 ~ /^fa1[78]:$/ {print "qdisc " $2 " " $3}'
	ip -n "$ns_a" -o link show flap0 2>/dev/null | grep -o 'fl-link-[0-9]*'
	# As filters, not bare program names: a program is also listed as a
	# "BPF program", so the name alone would not prove the tc scan.
	ip netns exec "$ns_a" tc filter show dev eth0 egress 2>/dev/null |
		grep -o 'part_[a-z0-9_]*' | sort -u | sed 's/^/filter bpf /'
	ip netns exec "$ns_a" tc filter show dev eth0 ingress 2>/dev/null |
		grep -o 'part_[a-z0-9_]*' | sort -u | sed 's/^/filter bpf /'
	return 0
}

# One trial: sets trial_left (the number of leftovers).
trial() {
	local i=$1 action=$2 phase=$3 delay=$4 gap=$5
	local before after left rc t0 msg recout recrc names n
	trial_left=0
	guardians=
	if ! netns_up; then
		notok "trial $i: set up the namespaces"; trial_left=1; netns_down; return
	fi
	before=$(state)
	out=$T/run.$i.out
	nsenter --net=/run/netns/"$ns_a" -- "$FAULTLINE" run --json "$T/drill.yaml" >"$out" 2>"$T/run.$i.err" &
	runner=$!
	t0=$(now_ms)
	case $phase in
	apply) msleep "$delay" ;;
	*) wait_run_event; msleep "$delay" ;;
	esac
	msg="trial $i: $action at $phase+${delay}ms"
	case $action in
	kill9|kill9both)
		kill -STOP "$runner" 2>/dev/null
		guardians=$(guardians_of "$runner")
		if [ $action = kill9both ]; then
			kill -9 "$runner" $guardians 2>/dev/null
		else
			kill -9 "$runner" 2>/dev/null
		fi
		;;
	sigint2)
		guardians=$(guardians_of "$runner")
		kill -INT "$runner" 2>/dev/null
		msleep "$gap"
		kill -INT "$runner" 2>/dev/null
		;;
	deljournal)
		guardians=$(guardians_of "$runner")
		names=$(scan_names)
		# Until it is gone: a record the runner writes while rm -rf
		# empties its folder keeps that folder (rmdir: not empty).
		for ((n = 0; n < 50; n++)); do
			rm -rf "$FAULTLINE_RUNDIR" 2>/dev/null
			[ -e "$FAULTLINE_RUNDIR" ] || break
		done
		recout=$("$FAULTLINE" recover 2>&1); recrc=$?
		n=$(scan_names)
		# What was there before and is still there after recover ran
		# must be named; recover must fail when it found anything.
		names=$(comm -12 <(sort <<<"$names") <(sort <<<"$n"))
		if [ -n "$names" ] && [ $recrc -ne 4 ]; then
			notok "$msg: recover without a journal exits 4 (got $recrc)"
			printf '%s\n' "$recout" | sed 's/^/#   | /' | head -20
			trial_left=$((trial_left + 1))
		fi
		if grep -Eq 'recovered$|^nothing to recover' <<<"$recout" && [ -n "$names" ]; then
			notok "$msg: recover claims success while objects are left"
			trial_left=$((trial_left + 1))
		fi
		while IFS= read -r n; do
			[ -n "$n" ] || continue
			if ! grep -qF -- "${n#qdisc * }" <<<"$recout"; then
				notok "$msg: recover names $n"
				printf '%s\n' "$recout" | sed 's/^/#   | /' | head -20
				trial_left=$((trial_left + 1))
			fi
		done <<<"$names"
		;;
	esac
	trial_end "$msg" "$action" "$before" "$T/run.$i.err"
}

# After the action: wait for quiescence (recover after kill9both), then
# count what differs from before and what of the run is left into
# trial_left, print it, clean up, and say ok or not ok for msg.  The
# caller's out, runner, guardians and t0 are the run's.
trial_end() {
	local msg=$1 action=$2 before=$3 err=$4 after left recout recrc
	quiesce
	if [ $action = kill9both ]; then
		recout=$("$FAULTLINE" recover 2>&1); recrc=$?
		if [ $recrc -ne 0 ]; then
			notok "$msg: recover exits 0 (got $recrc)"
			printf '%s\n' "$recout" | sed 's/^/#   | /' | head -20
			trial_left=$((trial_left + 1))
		fi
	fi
	after=$(state_like "$before")
	if [ "$before" != "$after" ]; then
		left=$(diff <(echo "$before") <(echo "$after") | grep -c '^[<>]')
		trial_left=$((trial_left + left))
		echo "# $msg: changed state:"
		diff <(echo "$before") <(echo "$after") | sed 's/^/#   /'
	fi
	left=$(ours "$runner")
	if [ -n "$left" ]; then
		trial_left=$((trial_left + $(wc -l <<<"$left")))
		echo "# $msg: left:"
		printf '%s\n' "$left" | sed 's/^/#   /'
	fi
	if [ $trial_left -ne 0 ]; then
		echo "#   runner output (tail):"
		tail -5 "$out" | cut -c1-300 | sed 's/^/#   | /'
		sed 's/^/#   ! /' "$err" | tail -8
	fi
	force_clean "$runner"
	if [ $trial_left -eq 0 ]; then
		ok "$msg: nothing left ($(grep -c '"event":"applied"' "$out") applied, $(($(now_ms) - t0)) ms)"
	else
		notok "$msg: $trial_left leftover(s)"
	fi
}

chaos_main() {
	local i j tmp n=$CHAOS_TRIALS total=0 left=0 delay gap phase applied=0
	local -a plan

	echo "# seed $CHAOS_SEED, $n trials (replay: FAULTLINE_CHAOS_SEED=$CHAOS_SEED FAULTLINE_CHAOS_TRIALS=$n)"
	RANDOM=$CHAOS_SEED
	box_up || { notok "selfchaos: make the target cgroup $box"; return 1; }
	at_exit box_down
	disk_up || { notok "selfchaos: mount the disk fault's tmpfs"; return 1; }
	at_exit "umount -l $chaos_fs"
	at_exit netns_down
	drill >"$T/drill.yaml"
	nfaults=$(grep -c '^  - name:' "$T/drill.yaml")
	# A clean run first: every fault applies and is reverted, so the
	# trials test a drill that works.
	netns_up || { notok "selfchaos: set up the namespaces"; return 1; }
	local before rc
	before=$(state)
	nsenter --net=/run/netns/"$ns_a" -- "$FAULTLINE" run --json "$T/drill.yaml" >"$T/clean.out" 2>&1
	rc=$?
	check_eq "selfchaos: a clean run applies all $nfaults faults" "$nfaults" \
		"$(grep -c '"event":"applied"' "$T/clean.out")"
	check_eq "selfchaos: and reverts them" "$nfaults" \
		"$(grep -c '"event":"reverted"' "$T/clean.out")"
	check_eq "selfchaos: the clean run puts everything back" "$before" "$(state_like "$before")"
	[ $rc -le 1 ] || { notok "selfchaos: the clean run exits 0 or 1 (got $rc)"; sed 's/^/#   /' "$T/clean.out" | tail -5; }
	netns_down
	# The actions: each a quarter of the trials, in a seeded order.
	for ((i = 0; i < n; i++)); do plan[i]=${ACTIONS[i % 4]}; done
	for ((i = n - 1; i > 0; i--)); do
		rnd $((i + 1)); j=$R
		tmp=${plan[i]}; plan[i]=${plan[j]}; plan[j]=$tmp
	done
	for ((i = 0; i < n; i++)); do
		rnd 3; phase=${PHASES[R]}
		case $phase in
		apply) rnd 200; delay=$R ;;		# from the start
		active) rnd 600; delay=$((300 + R)) ;;	# after the timeline's start
		revert) rnd 250; delay=$((950 + R)) ;;	# around the windows' end
		esac
		rnd 150; gap=$R
		trial "$((i + 1))" "${plan[i]}" "$phase" "$delay" "$gap" 2>>"$T/trials.err"
		total=$((total + 1))
		left=$((left + trial_left))
		grep -q '"event":"applied"' "$out" && applied=$((applied + 1))
	done
	# The moments must reach the faults, not only the start-up.
	check "selfchaos: faults were active in most trials ($applied of $total)" \
		test $((applied * 2)) -ge "$total"
	echo "trials: $total, leftovers: $left"
	check_eq "selfchaos ($CHAOS_NAME, seed $CHAOS_SEED): $total trials, no leftovers" 0 "$left"
}

# --- Repeats (issue 14): kill -9 between occurrences and inside one. ----
# The drill's faults (the hog's squeeze aside: its first occurrence kills
# the hog; and netem's slow, which may share eth0's clsact with cut only
# nested) each repeat three times, 300 ms every 700 ms.  The runner (with
# kill9both its guardian too) is killed -9 inside the second occurrence,
# or between the first and the second, when nothing is applied and the
# journal holds no record but the next occurrence's of the faults that
# prepare theirs in the gap (cut; refuse, and nosync on a BPF route:
# their replay changes nothing);
# the guardian, or recover, must leave the machine as it was.  chaos_repeat runs after chaos_main (which made the
# target cgroup, the tmpfs and the drill).
# The occurrences' pace: CHAOS_REP_EVERY and CHAOS_REP_FOR (ms); slower
# under TCG (tests/vm/selfchaos.sh) and under the sanitizers, where the
# faults' applies take long enough to skew their windows apart.
if [ "${SANITIZE:-}" = 1 ]; then
	CHAOS_REP_EVERY=${CHAOS_REP_EVERY:-1500}
	CHAOS_REP_FOR=${CHAOS_REP_FOR:-600}
fi
CHAOS_REP_EVERY=${CHAOS_REP_EVERY:-700}
CHAOS_REP_FOR=${CHAOS_REP_FOR:-300}
repeat_drill() {
	awk -v every="$CHAOS_REP_EVERY" -v for_="$CHAOS_REP_FOR" '
		/^  - name: (squeeze-hog|slow)$/ { skip = 1; next }
		/^  - name: / { skip = 0 }
		skip { next }
		/^duration: / { print "duration: " 3 * every "ms"; next }
		/^    at: / { next }
		/^    for: 1s$/ {
			print "    at: 0s"
			print "    repeat: { every: " every "ms, for: " for_ "ms, times: 3 }"
			next
		}
		{ print }' "$T/drill.yaml"
}

# wait_cut EVENT N: until the runner's output has EVENT for cut's
# occurrence N (20 s).
wait_cut() {
	local k
	for ((k = 0; k < 1000; k++)); do
		grep -q "^{\"event\":\"$1\",\"fault\":\"cut\",\"occurrence\":$2," \
			"$out" 2>/dev/null && return 0
		kill -0 "$runner" 2>/dev/null || return 1
		sleep 0.02
	done
	return 1
}

# The faults of the repeating drill that are between their occurrences
# now (as many reverted as applied), by the runner's output.
between_faults() {
	local name a r
	for name in $rep_faults; do
		a=$(grep -c "^{\"event\":\"applied\",\"fault\":\"$name\"," "$out")
		r=$(grep -c "^{\"event\":\"reverted\",\"fault\":\"$name\"," "$out")
		[ "$a" = "$r" ] && echo "$name"
	done
}

repeat_trial() {
	local i=$1 action=$2 moment=$3 try=${4:-3} before t0 msg per want name
	trial_left=0
	guardians=
	msg="repeat trial $i: $action $moment occurrences"
	if ! netns_up; then
		notok "$msg: set up the namespaces"; netns_down; return
	fi
	before=$(state)
	out=$T/rep.$i.out
	: >"$out"
	nsenter --net=/run/netns/"$ns_a" -- "$FAULTLINE" run --json "$T/repeat.yaml" >"$out" 2>"$T/rep.$i.err" &
	runner=$!
	t0=$(now_ms)
	# The moment is cut's: the faults apply one after another at each
	# instant, and under TCG that spread is longer than FOR, so there is
	# no moment when all are inside (or all between) at once.
	if [ "$moment" = inside ]; then
		wait_cut applied 2; msleep $((CHAOS_REP_FOR / 3))
	else
		wait_cut reverted 1
		msleep $(((CHAOS_REP_EVERY - CHAOS_REP_FOR) / 3))
	fi
	kill -STOP "$runner" 2>/dev/null
	guardians=$(guardians_of "$runner")
	# The moment is the one meant: cut's occurrences applied and
	# reverted ("1 1", or "2 1" inside).
	per="$(grep -c '^{"event":"applied","fault":"cut",' "$out") $(grep -c '^{"event":"reverted","fault":"cut",' "$out")"
	want="1 1"
	[ "$moment" = inside ] && want="2 1"
	# A slow machine (TCG) can miss the moment: the trial still runs to
	# its end and its leftovers count, then it is tried again (3 tries).
	trial_missed=0
	[ "$per" = "$want" ] || grep -E '^\{"event":"(applied|reverted)","fault":' "$out" |
		sed -E 's/^\{"event":"([a-z]*)","fault":"([^"]*)","occurrence":([0-9]*),.*"t":([0-9.]*).*/# \4 \1 \2 \3/'
	if [ "$per" != "$want" ] && [ "$try" -lt 3 ]; then
		echo "# $msg: the kill came with $per applied and reverted, not $want (try $try of 3)"
		# (Why, when a fault failed: the run stopped early.)
		grep -E '^\{"event":"(apply|revert)-failed"' "$out" | cut -c1-400 | sed 's/^/# runner: /'
		trial_missed=1
	elif [ "$moment" = inside ]; then
		check_eq "$msg: killed inside occurrence 2 (applied, reverted)" "2 1" "$per"
	else
		check_eq "$msg: killed between occurrences 1 and 2 (applied, reverted)" "1 1" "$per"
		# The run's own records (its scratch cgroups) stay, those of the
		# faults still in their first occurrence, and the prepared ones
		# of cut, refuse, nosync and squeeze-box; no other fault's.
		check_eq "$msg: the journal holds no record between occurrences but prepared ones" "" \
			"$(find "$FAULTLINE_RUNDIR" -mindepth 2 -name '[0-9][0-9][0-9][0-9]-*.json' \
			   -printf '%f\n' 2>/dev/null | sed 's/^[0-9]*-//; s/\.json$//' |
			   grep -xF -f <(between_faults | grep -vx -e cut -e refuse -e nosync -e squeeze-box))"
		# squeeze-box's, between its occurrences, is prepare's: its
		# switch is not there yet.
		between_faults | grep -qx squeeze-box &&
			check_eq "$msg: squeeze-box's switch is not there between occurrences" "" \
				"$(find "$FAULTLINE_RUNDIR" -mindepth 2 -name 'oom-*-squeeze-box.armed' 2>/dev/null)"
	fi
	if [ "$action" = kill9both ]; then
		kill -9 "$runner" $guardians 2>/dev/null
	else
		kill -9 "$runner" 2>/dev/null
	fi
	trial_end "$msg" "$action" "$before" "$T/rep.$i.err"
}

chaos_repeat() {
	local i=0 action moment left=0 try
	repeat_drill >"$T/repeat.yaml"
	rep_faults=$(sed -n 's/^  - name: //p' "$T/repeat.yaml")
	check_status "selfchaos: the repeating drill validates" 0 "$FAULTLINE" validate "$T/repeat.yaml"
	for moment in between inside; do
		for action in kill9 kill9both; do
			i=$((i + 1))
			for try in 1 2 3; do
				repeat_trial "$i" "$action" "$moment" "$try" 2>>"$T/trials.err"
				left=$((left + trial_left))
				[ "$trial_missed" = 1 ] || break
			done
		done
	done
	check_eq "selfchaos ($CHAOS_NAME): kill -9 in a repeating drill, no leftovers" 0 "$left"
}
