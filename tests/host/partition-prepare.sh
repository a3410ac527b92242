#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The partition fault is prepared before the timeline (issue 17): its
# program is loaded and its trie filled before t=0, so that at the
# instant only the filter adds remain; without the kernel's BTF (the
# program reads only UAPI structures).  Two throwaway network namespaces
# joined by a veth pair; nothing else is touched.
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
ip netns exec $A strace -f -qq -s 40 -e trace=openat,bpf,write -o "$T/trace" -- \
	"$FAULTLINE" run --json --report "$T/r.json" "$T/p.yaml" > "$T/out" 2>&1
check_eq "run: exit 0" 0 "$?"
check_eq "the program was prepared before the timeline" True \
	"$(python3 -c 'import json, sys
print(json.load(open(sys.argv[1]))["faults"][0]["observed"].get("prepared"))' "$T/r.json")"
check "the kernel's BTF is never read" \
	sh -c "! grep -q '/sys/kernel/btf/vmlinux' '$T/trace'"
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
check_eq "the journal is empty afterwards" 0 "$(runs_left)"
