#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# One-line drills: run --fault 'KIND: {...}' --target 'NAME: {...}' --for
# DURATION.  --print-yaml prints the file they stand for, which validates;
# a problem points into the option ("--fault 1:24: ..."), exit 2, nothing
# applied; a syscall fault on a command target, filled in with the one
# target, runs as the printed file does (the same report but for the
# counters); a partition inside a namespace pair of this script's drops
# packets, and Ctrl-C reverts it and empties the journal.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "oneline" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "oneline: $FAULTLINE is built"; exit 0; }
export FAULTLINE_RUNDIR=$T/run

# --- The file it stands for, and its problems. --------------------------
out=$("$FAULTLINE" run --target 'pid: 1' \
	--fault 'syscall: { calls: [connect], errno: ECONNREFUSED }' \
	--fault '{ at: 2s, for: 3s, syscall: { calls: [fsync], errno: EIO } }' \
	--for 10s --print-yaml 2>&1); rc=$?
check_eq "oneline: --print-yaml exits 0" 0 "$rc"
# It only prints: a user without root may ask for it (run itself refuses).
if command -v setpriv >/dev/null; then
	nr=$(setpriv --reuid=65534 --regid=65534 --clear-groups "$FAULTLINE" run \
		--fault 'netem: { device: eth0, delay: 100ms }' --for 30s --print-yaml 2>&1)
	check_eq "oneline: --print-yaml needs no root (exit 0)" 0 "$?"
	check_match "oneline: ... and prints the fault" '^    netem: \{ device: eth0, delay: 100ms \}$' "$nr"
	setpriv --reuid=65534 --regid=65534 --clear-groups "$FAULTLINE" run \
		--fault 'netem: { device: eth0, delay: 100ms }' --for 30s >/dev/null 2>&1
	check_eq "oneline: while run without it still needs root (exit 3)" 3 "$?"
fi
printf '%s\n' "$out" >"$T/printed.yaml"
check_eq "oneline: --print-yaml prints the file" "$(cat <<'Y'
# The drill a one-line 'faultline run' stands for
# (faultline run --print-yaml).
name: one-line
duration: 10s
targets:
  target:
    pid: 1
faults:
  - name: syscall
    syscall: { target: target, calls: [connect], errno: ECONNREFUSED }
  - { name: syscall-2, at: 2s, for: 3s, syscall: { target: target, calls: [fsync], errno: EIO } }
Y
)" "$out"
check_status "oneline: the printed file validates" 0 "$FAULTLINE" validate "$T/printed.yaml"
check_eq "oneline: --print-yaml applies nothing" 0 "$(runs_left)"
out=$("$FAULTLINE" plan --target 'pid: 1' --fault 'syscall: { calls: [connect], errno: ECONNREFUSED }' --for 10s 2>&1); rc=$?
check_match "oneline: plan takes the same options" "^Plan for 'one-line' \\(the command line\\)" "$out"
check_match "oneline: ... and plans the fault with its target" '^  \+0s +apply +syscall +syscall via ' "$out"

bad() { # NAME EXPECTED-ERE ARGS...
	local name=$1 want=$2; shift 2
	out=$("$FAULTLINE" run "$@" 2>&1); rc=$?
	check_eq "oneline: $name: exit 2" 2 "$rc"
	check_match "oneline: $name: $want" "$want" "$out"
}
bad "a misspelt key points into --fault" \
	"^--fault 1:24: unknown key 'dely' in netem \\(did you mean 'delay'\\?\\)$" \
	--fault 'netem: { device: eth0, dely: 100ms }' --for 30s
bad "the second --fault is told apart" \
	"^--fault\\[2\\] 1:31: unknown key 'callz' in syscall" \
	--target 'app: { pid: 1 }' --fault 'syscall: { calls: [connect] }' \
	--fault '{ at: 2s, for: 3s, syscall: { callz: [fsync], errno: EIO } }' --for 10s
bad "a line of a --fault on several lines" \
	"^--fault 3:3: unknown key 'bogus' in netem$" \
	--fault $'netem:\n  delay: 10ms\n  bogus: 1' --for 5s
bad "an unclosed brace, at the end of the option" \
	"^--fault 1:36: syntax error" --fault 'netem: { device: eth0, delay: 100ms' --for 30s
bad "--for is checked as duration: is" "^--for 1:1: duration: bad duration '10x'" \
	--fault 'netem: { device: eth0, delay: 100ms }' --for 10x
bad "a --target that is not a map" "^--target 1:1: expected a map" \
	--target '[1]' --fault 'netem: { device: eth0, delay: 1ms }' --for 1s
bad "--fault without --for" "needs --for DURATION" --fault 'netem: { device: eth0, delay: 1ms }'
bad "a file and --fault" "a file or --fault, not both" \
	--fault 'netem: { device: eth0, delay: 1ms }' --for 1s "$T/printed.yaml"
out=$("$FAULTLINE" --json run --fault 'netem: { device: eth0, dely: 100ms }' --for 30s 2>&1)
check_eq "oneline: --json gives the problems with the option's positions" \
	"--fault 1:24" "$(python3 -c 'import json, sys
e = [x for x in json.loads(sys.argv[1])["errors"] if "dely" in x["message"]][0]
print("%s %d:%d" % (e["file"], e["line"], e["col"]))' "$out" 2>&1)"
check_eq "oneline: nothing applied after the problems" 0 "$(runs_left)"

# --- A syscall fault on a command target, as the printed file runs. -----
if [ -z "$(unified_mount)" ] || ! have_bpf cgroup_sock_addr; then
	skip "oneline: a syscall fault on a command target" "no cgroup v2 or BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"
else
	args=(--target 'app: { command: [bash, -c, "exec >/dev/null 2>&1; while :; do (: </dev/tcp/127.0.0.1/1); sleep 0.05; done"] }'
	      --fault '{ at: 1s, syscall: { calls: [connect], errno: ECONNREFUSED } }' --for 3s)
	"$FAULTLINE" run "${args[@]}" --print-yaml >"$T/sys.yaml"
	"$FAULTLINE" run "${args[@]}" --report "$T/one.json" >"$T/one.out" 2>&1; rc=$?
	check_eq "oneline: the syscall one-liner passes (exit 0)" 0 "$rc"
	"$FAULTLINE" run --report "$T/file.json" "$T/sys.yaml" >/dev/null 2>&1
	same=$(python3 - "$T/one.json" "$T/file.json" <<'PY'
import json, sys
def shape(p):
    r = json.load(open(p))
    return (r["experiment"]["name"], r["verdict"],
            [(f["name"], f["engine"], f["state"], f["at"], f.get("mechanism"))
             for f in r["faults"]])
a, b = shape(sys.argv[1]), shape(sys.argv[2])
print("same" if a == b else "one-line %s, file %s" % (a, b))
PY
)
	check_eq "oneline: its report is the printed file's" same "$same"
	check_match "oneline: it failed connect() (injections in the report)" \
		'^[1-9][0-9]* [1-9]' "$(python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))["faults"][0]["observed"]
print(o["injections"], o["calls"]["connect"])' "$T/one.json" 2>&1)"
	check_match "oneline: the summary names the drill" '^drill one-line: PASS \(exit 0\)' "$(cat "$T/one.out")"
	check_eq "oneline: the journal is empty after it" 0 "$(runs_left)"
fi

# --- A partition in a namespace pair, then Ctrl-C. ----------------------
a=fl-ol-$$-a b=fl-ol-$$-b
if ! have_bpf sched_cls; then
	skip "oneline: a partition" "missing BPF sched_cls programs: $(fact bpf.sched_cls.why)"
elif ! netns_pair $a $b 10.81.0.1/24 10.81.0.2/24; then
	notok "oneline: make the namespaces"
else
	# A SYN to a closed port every 50ms, cut by the partition.
	ip netns exec $a bash -c 'while :; do timeout 0.2 bash -c "exec 3<>/dev/tcp/10.81.0.2/9"; sleep 0.05; done' >/dev/null 2>&1 &
	pinger=$!
	at_exit "kill $pinger"
	ip netns exec $a "$FAULTLINE" run --json --report "$T/cut.json" \
		--fault 'partition: { groups: [[10.81.0.1], [10.81.0.2]] }' --for 30s >"$T/cut.out" 2>&1 &
	runner=$!
	at_exit "kill -INT $runner"
	if wait_for 10 grep -q '"event":"applied"' "$T/cut.out"; then
		ok "oneline: the partition is applied"
	else
		notok "oneline: the partition is applied"; sed 's/^/#   /' "$T/cut.out" | tail -5
	fi
	check_eq "oneline: its run is in the journal, with a guardian" 1 "$(runs_left)"
	check "oneline: ... whose guardian lives" kill -0 "$(guardian_of)"
	check_match "oneline: the clsact qdisc is on the device" 'clsact' "$(tc -n $a qdisc show dev eth0)"
	sleep 1.5
	kill -INT $runner
	wait_for 10 gone $runner
	wait $runner; rc=$?
	check_eq "oneline: Ctrl-C stops it (exit 130)" 130 "$rc"
	check_eq "oneline: ... the device is as it was" "" "$(tc -n $a qdisc show dev eth0 | grep clsact)"
	check "oneline: ... the journal is empty" wait_for 5 no_runs
	check_match "oneline: the partition dropped packets (report)" '^[1-9]' "$(python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))["faults"][0]["observed"]["dropped"]
print(d["egress"] + d["ingress"])' "$T/cut.json" 2>&1)"
fi
exit 0
