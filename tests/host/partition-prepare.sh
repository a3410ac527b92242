#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The partition fault is prepared before the timeline (issue 17): its
# program is loaded, its trie filled, its undo record written and
# fsynced, and the clsact qdisc it needs (with faultline's mark) and its
# filters attached, switched off (every packet passes), before t=0, so
# that at the instant the switch is one store and no system call; without
# the kernel's BTF (the program reads only UAPI structures).  The record
# of prepare holds when apply checks it (not written again), even when
# someone removed that clsact in between (apply attaches it all again);
# kill -9 of the runner between prepare
# and the instant leaves the device as it was (the guardian's replay
# removes the clsact, or, when someone put a filter of theirs on it,
# leaves it to them without the mark); the run's qdisc probe tries
# clsact alone.  Two throwaway
# network namespaces joined by a veth pair; nothing else is touched.
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "partition prepare" "root"; exit 0; }
if ! have_qdisc clsact || ! have_bpf sched_cls; then
	skip "partition prepare" "clsact and BPF sched_cls programs ($(fact bpf.sched_cls.why))"; exit 0
fi
export FAULTLINE_RUNDIR=$T/run
A=fl-pp-a-$$ B=fl-pp-b-$$
at_exit "ip netns del $A 2>/dev/null; ip netns del $B 2>/dev/null"
fixture "two namespaces joined by a veth pair" sh -c "
	ip netns add $A && ip netns add $B &&
	ip -n $A link add ppa0 type veth peer name ppb0 netns $B &&
	ip -n $A addr add 10.77.8.1/24 dev ppa0 && ip -n $A link set ppa0 up &&
	ip -n $B addr add 10.77.8.2/24 dev ppb0 && ip -n $B link set ppb0 up" || exit 0

cat > "$T/p.yaml" <<YAML
name: prepared
duration: 600ms
faults:
  - name: cut
    partition: { groups: [[10.77.8.1], [10.77.8.2]] }
    at: 300ms
    for: 100ms
YAML
# LeakSanitizer (SANITIZE=1) cannot run under ptrace: no leak check here.
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
ip netns exec $A strace -f -qq -s 40 -e trace=openat,bpf,write,rename,renameat,renameat2,unshare,sendmsg,sendto -o "$T/trace" -- \
	"$FAULTLINE" run --json --report "$T/r.json" "$T/p.yaml" > "$T/out" 2>&1
check_eq "run: exit 0" 0 "$?"
check_eq "the program was prepared before the timeline" True \
	"$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["faults"][0]["observed"].get("prepared"))' "$T/r.json")"
check "the kernel's BTF is never read" \
	sh -c "! grep -q '/sys/kernel/btf/vmlinux' '$T/trace'"
# Which qdiscs exist is probed in a throwaway namespace, and only what the
# run needs: clsact, one qdisc add on its lo.
probe=$(awk '/unshare\(CLONE_NEWNET/ { print $1; exit }' "$T/trace")
check_eq "the qdisc probe adds one qdisc, clsact (child $probe)" 1 \
	"$(grep "^${probe:-none} .*sendmsg" "$T/trace" | grep -cE 'nlmsg_type=(RTM_NEWQDISC|0x24)')"
# The program is loaded (BPF_PROG_LOAD) before the runner writes the
# "run" event (the timeline's start), not at the fault's instant.
ppid=$(python3 -c 'import json, sys
for l in open(sys.argv[1]):
    e = json.loads(l)
    if e.get("event") == "run": print(e["pid"])' "$T/out")
first_load=$(grep -n "^$ppid .*bpf(BPF_PROG_LOAD.*prog_name=\"part_" "$T/trace" | head -1 | cut -d: -f1)
started=$(grep -n "^$ppid .*write(1, \"{\\\\\"event\\\\\":\\\\\"run\\\\\"" "$T/trace" | head -1 | cut -d: -f1)
check "the program is loaded before the timeline starts (the run event; lines $first_load < $started)" \
	test "${first_load:-999999}" -lt "${started:-0}"
# The record is renamed into place (after its fsync) before the run
# event, and not written again at the instant: from the run event to
# the applied event the runner renames no record.
rec=$(grep -n "^$ppid .*rename.*\"0001-cut\.json\"" "$T/trace" | head -1 | cut -d: -f1)
applied=$(grep -n "^$ppid .*write(1, \"{\\\\\"event\\\\\":\\\\\"applied\\\\\"" "$T/trace" | head -1 | cut -d: -f1)
check "the applied event is in the trace" test -n "$applied"
check "the undo record is written before the timeline starts (lines $rec < $started)" \
	test "${rec:-999999}" -lt "${started:-0}"
check_eq "at the instant no record is written (renames between the run event, line $started, and the applied event, line $applied)" "" \
	"$(sed -n "${started:-1},${applied:-1}p" "$T/trace" | grep "^$ppid .*rename.*[0-9]\{4\}-[^\"]*\.json\"")"
# The clsact, its mark and the two filters before the timeline; at the
# instant no netlink request, and no BPF call: the switch is a store.
qadd=$(grep -n "^$ppid .*nlmsg_type=RTM_NEWQDISC" "$T/trace" | head -1 | cut -d: -f1)
fadd=$(grep -n "^$ppid .*nlmsg_type=RTM_NEWTFILTER" "$T/trace" | sed -n 3p | cut -d: -f1)
check "the clsact is added before the timeline starts (lines $qadd < $started)" \
	test "${qadd:-999999}" -lt "${started:-0}"
check "the mark and both filters are attached before the timeline starts (third filter add, line $fadd < $started)" \
	test "${fadd:-999999}" -lt "${started:-0}"
check_eq "at the instant no netlink change and no BPF map update" "" \
	"$(sed -n "${started:-1},${applied:-1}p" "$T/trace" | grep "^$ppid " |
	   grep -E 'nlmsg_type=RTM_(NEW|DEL)|BPF_MAP_UPDATE_ELEM')"
check_eq "the journal is empty afterwards" 0 "$(runs_left)"
check_eq "no clsact is left" "" "$(tc -n $A qdisc show dev ppa0 | grep clsact)"

# Two faults in turn on one device: the first one's prepare adds the
# clsact, which the second one's record names as another fault's
# ("faultline"); the first one's revert removes it, and the second one
# adds it again at its instant without writing its record again.
cat > "$T/two.yaml" <<YAML
name: two
duration: 700ms
faults:
  - name: cut1
    partition: { groups: [[10.77.8.1], [10.77.8.2]] }
    at: 100ms
    for: 100ms
  - name: cut2
    partition: { groups: [[10.77.8.1], [10.77.8.2]] }
    at: 400ms
    for: 100ms
YAML
ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
ip netns exec $A strace -f -qq -s 40 -e trace=rename,renameat,renameat2 -o "$T/two.trace" -- \
	"$FAULTLINE" run --json "$T/two.yaml" > "$T/two.out" 2>&1
check_eq "two faults in turn: exit 0" 0 "$?"
check_eq "two faults in turn: each record is written once, at prepare" "1 1" \
	"$(grep -c '"0001-cut1\.json"' "$T/two.trace") $(grep -c '"0002-cut2\.json"' "$T/two.trace")"
check_eq "two faults in turn: no clsact is left" "" "$(tc -n $A qdisc show dev ppa0 | grep clsact)"

# reach: does a TCP SYN from A to the peer get an answer (its RST, as
# nothing listens on port 9) within a second?
reach() {
	ip netns exec $A python3 -c 'import socket, sys
s = socket.socket(); s.settimeout(1)
try:
    s.connect(("10.77.8.2", 9))
except ConnectionRefusedError:
    sys.exit(0)
except OSError:
    sys.exit(1)'
}
cut_off() { ! reach; }

# start_wait FILE OUT: run FILE in A in the background; sets pid, and
# waits for its record of prepare (before the fault's instant).
start_wait() {
	ip netns exec $A "$FAULTLINE" run --json "$1" > "$2" 2> "$2.err" &
	pid=$!; at_exit "kill -9 $pid"
	wait_for 10 sh -c "ls $FAULTLINE_RUNDIR/*/0001-cut.json" >/dev/null 2>&1
	guardian=$(guardian_of)
	[ -n "$guardian" ] && [ "$guardian" != 0 ] && at_exit "kill -9 $guardian"
}
late() { sed "s/at: 300ms/at: $1/; s/for: 100ms/for: 2s/; s/duration: 600ms/duration: $2/" "$T/p.yaml" > "$T/late.yaml"; }

# Before the instant the filters are there, switched off: the peer
# answers.  Someone removes the clsact (and the filters with it) in
# between: the record of prepare (clsact "ours") still holds, apply
# attaches it all again, and nothing is left after the drill.
late 1500ms 4s
start_wait "$T/late.yaml" "$T/out2"
check_match "the record is in the journal before the instant" '"clsact":"ours"' \
	"$(tr -d ' \n' < "$(ls $FAULTLINE_RUNDIR/*/0001-cut.json)")"
check_eq "before the instant: the mark and both filters are attached" 3 \
	"$( (tc -n $A filter show dev ppa0 ingress; tc -n $A filter show dev ppa0 egress) |
	   grep -c "bpf .*handle .*part_")"
check "before the instant: switched off, the peer answers" reach
tc -n $A qdisc del dev ppa0 clsact
wait_for 5 grep -q '"event":"applied"' "$T/out2"
check_match "the clsact removed in between: the record still says ours" '"clsact":"ours"' \
	"$(tr -d ' \n' < "$(ls $FAULTLINE_RUNDIR/*/0001-cut.json)")"
check_eq "the clsact removed in between: apply adds it again, with both filters" 2 \
	"$( (tc -n $A filter show dev ppa0 ingress; tc -n $A filter show dev ppa0 egress) |
	   grep -c "pref $((0xfa17)) bpf .*handle .*part_")"
check "the clsact removed in between: switched on, the peer is cut" cut_off
wait $pid; rc=$?
check_eq "the clsact removed in between: exit 0" 0 "$rc"
check_eq "the clsact removed in between: no clsact is left" "" \
	"$(tc -n $A qdisc show dev ppa0 | grep clsact)"

# This host moves to the other group between prepare and the instant:
# what prepare attached for the first group is detached before apply
# starts over for the second, and nothing is left after the drill.
late 1500ms 4s
start_wait "$T/late.yaml" "$T/out5"
ip -n $A addr del 10.77.8.1/24 dev ppa0
ip -n $A addr add 10.77.8.2/24 dev ppa0
wait $pid; rc=$?
check_eq "moved to the other group before the instant: exit 0" 0 "$rc"
check_match "moved to the other group before the instant: applied for the second group" \
	'"event":"applied"' "$(cat "$T/out5")"
check_eq "moved to the other group before the instant: no clsact, no filter left" "" \
	"$(tc -n $A qdisc show dev ppa0 | grep clsact; tc -n $A filter show dev ppa0 ingress)"
check_eq "moved to the other group before the instant: the journal is empty" 0 "$(runs_left)"
ip -n $A addr del 10.77.8.2/24 dev ppa0
ip -n $A addr add 10.77.8.1/24 dev ppa0

# kill -9 between prepare and the instant: the guardian replays the
# record of prepare, which changes nothing, quietly.
late 20s 22s
start_wait "$T/late.yaml" "$T/out3"
check "kill -9 before the instant: switched off, the peer answers" reach
kill -9 $pid; wait $pid 2>/dev/null
wait_for 5 no_runs
check_match "kill -9 before the instant: the guardian replays the record" \
	'the runner died; reverted 1 fault' "$(cat "$T/out3.err")"
check_eq "kill -9 before the instant: the journal is emptied" 0 "$(runs_left)"
check_eq "kill -9 before the instant: no clsact, no filter" "" \
	"$(tc -n $A qdisc show dev ppa0 | grep clsact)"
check_eq "kill -9 before the instant: the replay says nothing else" "" \
	"$(grep -v 'the runner died; reverted 1 fault' "$T/out3.err")"

# The same with a filter of someone's put on that clsact between prepare
# and the kill: the clsact is theirs now; the replay leaves it, and
# takes faultline's mark away.
start_wait "$T/late.yaml" "$T/out4"
tc -n $A filter add dev ppa0 ingress prio 7 protocol ip u32 match u32 0 0 classid 1:1
kill -9 $pid; wait $pid 2>/dev/null
wait_for 5 no_runs
check_eq "kill -9 before the instant, a filter of someone's meanwhile: the journal is emptied" 0 "$(runs_left)"
check_match "kill -9 before the instant, a filter of someone's meanwhile: their clsact and filter stay" \
	"pref 7 u32" "$(tc -n $A filter show dev ppa0 ingress)"
check_eq "kill -9 before the instant, a filter of someone's meanwhile: faultline's mark is gone" "" \
	"$(tc -n $A filter show dev ppa0 ingress | grep "pref $((0xfa16))")"
tc -n $A qdisc del dev ppa0 clsact
