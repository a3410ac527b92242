#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The invalid-experiment corpus through the real CLI (issue 8): for every
# tests/invalid/NAME.yaml, `faultline run` and `faultline plan` exit 2,
# print exactly NAME.err (file:line:col: message lines, what the unit test
# test_validate checks against the loader alone), and apply nothing:
#  - under strace, the process makes no change at all: no socket, bpf,
#    mkdir, rmdir, unlink, rename, mount, setns, unshare, clone or fork,
#    no file opened for writing, and its only write is to stderr;
#  - inside a network namespace this test makes, with the devices the
#    files name (eth0, eth1), the qdiscs and links are the same after;
#  - no scratch cgroup of that faultline process exists (its run id holds
#    its pid) and the run folder ($FAULTLINE_RUNDIR) stays empty.
# Then the corpus must cover every fault kind's fields: each key of each
# engine's parse (and of the loader's top level, targets and probes) has
# at least one invalid case, found by the message it gives.
source "$(dirname "$0")/../lib.sh"

cd "$SRC" || exit 1
files=(tests/invalid/*.yaml)
check "the corpus has at least 60 files" test "${#files[@]}" -ge 60

# --- Coverage: every key of every parse function. -------------------------
# "where key|ERE": some line of the .err files matches the ERE.  For an
# engine's key the line must come from a file named after the engine
# (tests/invalid/*netem*.yaml for netem), since messages name only the key.
# The keys are those of top_keys, target_kinds, fault_keys, probe_keys and
# report_keys (core/experiment.c), expect_keys (core/steady.c), repeat_keys (core/repeat.c), netem_keys, match_keys and the loss,
# reorder and slot keys (netem/netem.c), partition_keys
# (netem/partition.c), oom_keys, squeeze_keys and ramp_keys
# (cgroup/oom.c), syscall_keys, when_keys and peer_keys (bpf/syscall.c),
# kill_keys (cgroup/kill_parse.c).
coverage() {
	cat <<'EOF'
top name|: name: must not be empty|the experiment: missing 'name'
top duration|: duration: 
top targets|: targets: 
top faults|: faults: 
top probes|: probes: 
top report|: report: 
top unknown|unknown key '[^']*' in the experiment
top seed|^tests/invalid/seed-[^:]*:[0-9]+:[0-9]+: seed: 
repeat map|: repeat: expected a map
repeat every|repeat: missing 'every'|repeat: every \(
repeat for|repeat: needs for:|for: is given twice
repeat times|: times: |repeat: occurrence [0-9]+ of
repeat jitter|: jitter: bad|repeat: jitter \(
repeat until-end|repeat: the first occurrence|occurrences until the drill ends
repeat unknown|unknown key '[^']*' in repeat
target pid|: pid: 
target cgroup|: cgroup: 
target command|: command: 
target command-string|: command: '[^']*' is one string.*\[sh, -c, 
target kind|target '[^']*': (needs one of|has both)
target container|: container: 
target runtime|: runtime: 
fault name|fault 1: missing 'name'|fault-[^:]*:[0-9:]+ name: '
fault at|: at: 
fault for|: for: 
fault optional|: optional: 
fault engine|needs one of netem|has two engines
probe name|probe-[^:]*:[0-9:]+ name: '
probe exec|: exec: 
probe exec-string|: exec: '[^']*' is one string.*\[sh, -c, 
probe every|: every: 
probe timeout|: timeout: 
probe expect|: exit: |unknown key '[^']*' in expect
probe expect.during|: during: unknown fault|: during: expected a map of fault names
probe expect.phases|: (before|after|always): unknown value
report json|: json: 
netem device|: device: |netem: missing 'device'
netem direction|: direction: 
netem match|unknown key '[^']*' in match
netem match.to|: to: bad address
netem match.from|: from: bad address
netem match.ports|: ports: 
netem match.protocol|: protocol: 
netem delay|: delay: 
netem jitter|: jitter: 
netem correlation|: correlation: 
netem distribution|: distribution: 
netem loss|: loss: 
netem loss.model|: loss.model: 
netem loss.gemodel|model gemodel
netem loss.state|: loss.p(13|31|32|23|14): 
netem duplicate|: duplicate: 
netem corrupt|: corrupt: 
netem reorder|: reorder: 
netem reorder.gap|: reorder.gap: 
netem rate|: rate: 
netem slot|: slot: 
netem ecn|: ecn: 
netem seed|: seed: 
netem limit|: limit: 
netem unknown|unknown key '[^']*' in netem
netem target|: target: 
partition groups|: groups: |partition: missing 'groups'
partition target|: target: 
partition one-way|: one-way: 
partition keep|: keep: 
partition unknown|unknown key '[^']*' in partition
oom target|: target: unknown target
oom cgroup|: cgroup: scratch moves
oom squeeze|: squeeze: 
oom squeeze.below-usage|: below-usage: 
oom squeeze.to|: to: bad size|: to: must be above 0
oom ramp|: ramp: 
oom ramp.from|: ramp.from: 
oom ramp.step|: ramp.step: |ramp: missing 'step'
oom ramp.every|: ramp.every: 
oom swap|: swap: 
oom expect|: expect: 
syscall target|: target: unknown target
syscall follow-forks|: follow-forks: 
syscall calls|: calls: |syscall: missing 'calls'
syscall errno|: errno: |syscall: missing 'errno'
syscall probability|: probability: 
syscall when|unknown key '[^']*' in when
syscall when.after|: when.after: 
syscall when.every|: when.every: 
syscall when.times|: when.times: 
syscall path|: path: 
syscall peer|: peer: 
syscall peer.ports|: peer.ports: 
syscall peer.to|: peer.to: 
kill target|: target: unknown target|kill: missing 'target'
kill signal|: signal: 
kill pick|: pick: 
kill follow-forks|: follow-forks: 
kill unknown|unknown key '[^']*' in kill
target restart|: restart: 
syntax yaml|syntax error: 
syntax tab|: a tab in the indentation: YAML does not allow tabs
syntax list item|: bad indentation: expected another item
syntax map key|: bad indentation: expected a key
syntax alias|aliases are not supported
syntax documents|only one YAML document
syntax empty|: the file is empty
EOF
}
errs=$(cat tests/invalid/*.err)
missing=()
while IFS='|' read -r what re; do
	set -- $what
	case $1 in
	netem | partition | oom | syscall | kill)
		lines=$(printf '%s\n' "$errs" |
			grep -E "^tests/invalid/[^:/]*$1[^:/]*\.yaml:") ;;
	*)	lines=$errs ;;
	esac
	printf '%s\n' "$lines" | grep -Eq -- "$re" || missing+=("$what")
done < <(coverage)
check_eq "every key of every parse has an invalid case" "" "${missing[*]}"

# --- Nothing applied. -------------------------------------------------------
if [ "$(id -u)" != 0 ]; then
	skip "invalid files apply nothing" "needs root (a network namespace)"
	exit 0
fi
if ! command -v strace >/dev/null; then
	skip "invalid files apply nothing" "no strace"
	exit 0
fi
export FAULTLINE_RUNDIR=$T/run
ns=fl-inv-$$
ip netns add "$ns" || { notok "cannot make network namespace $ns"; exit 1; }
at_exit "ip netns del $ns"
ip -n "$ns" link add eth0 type veth peer name eth1
ip -n "$ns" link set lo up
ip -n "$ns" link set eth0 up
ip -n "$ns" link set eth1 up
snap() {
	ip -n "$ns" -o link show | sed 's/ state .*//'
	tc -n "$ns" qdisc show
	for d in eth0 eth1 lo; do tc -n "$ns" filter show dev "$d" ingress; done
}
before=$(snap)

# Syscalls that change something; none may appear.
bad='^[0-9]+ +(socket|bpf|mkdir|mkdirat|rmdir|unlink|unlinkat|rename|renameat2?|mount|umount2|setns|unshare|clone|clone3|fork|vfork|kill|perf_event_open|ioctl|symlink|chmod|chown|fchown|truncate|ftruncate)\('
show() { [ $# -gt 0 ] && printf '#   %s\n' "$@"; return 0; }
exit_ok=0 text_ok=0 quiet_ok=0 cg_ok=0 n=0
exit_bad=() text_bad=() quiet_bad=() cg_bad=()
for y in "${files[@]}"; do
	name=${y%.yaml}
	for c in run plan; do
		n=$((n + 1))
		# LeakSanitizer (SANITIZE=1 builds) stops the world with a
		# clone and cannot run under ptrace; test_validate checks the
		# loader's error paths for leaks instead.
		ASAN_OPTIONS="${ASAN_OPTIONS:+$ASAN_OPTIONS:}detect_leaks=0" \
		ip netns exec "$ns" strace -f -qq -o "$T/st" \
			"$FAULTLINE" "$c" "$y" > "$T/out" 2> "$T/err"
		rc=$?
		pid=$(awk 'NR == 1 { print $1 }' "$T/st")
		if [ $rc = 2 ]; then exit_ok=$((exit_ok + 1))
		else exit_bad+=("$c $name: exit $rc"); fi
		# The exact lines of the .err, and nothing on stdout.
		if cmp -s "$T/err" "$name.err" && [ ! -s "$T/out" ] &&
		   grep -Eq '^tests/invalid/[^:]+\.yaml:[0-9]+:[0-9]+: ' "$T/err"
		then text_ok=$((text_ok + 1))
		else text_bad+=("$c $name"); fi
		if ! grep -Eq "$bad" "$T/st" &&
		   ! grep -E '^[0-9]+ +openat\(' "$T/st" |
			grep -Eq 'O_WRONLY|O_RDWR|O_CREAT' &&
		   ! grep -E '^[0-9]+ +(write|writev|pwrite64)\(' "$T/st" |
			grep -Evq '^[0-9]+ +[a-z0-9]+\(2,' &&
		   [ "$(grep -Ec '^[0-9]+ +execve\(' "$T/st")" = 1 ]
		then quiet_ok=$((quiet_ok + 1))
		else quiet_bad+=("$c $name: $(grep -E "$bad|O_WRONLY|O_RDWR|O_CREAT" "$T/st" | head -1)"); fi
		if compgen -G "/sys/fs/cgroup/*/faultline-*-$pid-*" >/dev/null ||
		   compgen -G "/sys/fs/cgroup/faultline-*-$pid-*" >/dev/null
		then cg_bad+=("$c $name")
		else cg_ok=$((cg_ok + 1)); fi
	done
done
check_eq "run and plan exit 2 on every invalid file ($n runs)" "$n" "$exit_ok"
show "${exit_bad[@]:0:5}"
check_eq "run and plan print exactly NAME.err (file:line:col:)" "$n" "$text_ok"
show "${text_bad[@]:0:5}"
check_eq "no change made: no socket, bpf, cgroup, fork or write but stderr" \
	"$n" "$quiet_ok"
show "${quiet_bad[@]:0:5}"
check_eq "no scratch cgroup of the refused runs" "$n" "$cg_ok"
check_eq "the test's network namespace is unchanged (qdiscs, links)" \
	"$before" "$(snap)"
check_eq "the run folder stays empty" 0 \
	"$(find "$T/run" -mindepth 1 2>/dev/null | wc -l)"
