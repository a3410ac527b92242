#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Syscall faults on this kernel: the cgroup-hook route (cgroup sock_addr
# programs with bpf_set_retval) for cgroup, command and pid targets, fork
# following, threads, when, probability, errno weights, peer filters and
# events; calls that need the LSM or fmod_ret routes are refused (exit 3).
# Connections go to 127.0.0.1 only, to listeners this script starts.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/syscall-lib.sh"
export FAULTLINE_RUNDIR=$T/run

if [ "$(id -u)" != 0 ]; then skip "syscall faults" "needs root"; exit 0; fi
if [ ! -x "$SYSFAIL" ]; then skip "syscall faults" "tests/helpers/sysfail is not built (make tests)"; exit 0; fi
v2=$(unified_mount)
if [ -z "$v2" ]; then skip "syscall faults" "no cgroup v2 hierarchy (cgroups.unified_mount)"; exit 0; fi
if ! have_bpf cgroup_sock_addr; then
	skip "syscall faults" "missing BPF cgroup sock_addr programs: $(fact bpf.cgroup_sock_addr.why)"; exit 0
fi
# Route 1 (the syscall entry) fails any call; route 2 (LSM hooks) the
# calls with a hook.
route1=; route2=
if have_bpf fmod_ret:syscall || have_bpf kprobe:override; then route1=y; fi
if have_bpf lsm || have_bpf fmod_ret:security; then route2=y; fi

port=$((20000 + $$ % 20000))
port2=$((port + 1))
"$SYSFAIL" serve "$port" & at_exit "kill $!"
"$SYSFAIL" serve "$port2" & at_exit "kill $!"
cg=$v2/fl-test-syscall-$$
mkdir "$cg" && at_exit "rmdir $cg"
sleep 0.2
check "a listener accepts on 127.0.0.1:$port before any fault" \
	"$SYSFAIL" -e OK connect "127.0.0.1:$port"

# in_cg CMD...: run CMD inside the test cgroup.
in_cg() { bash -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }

# --- a cgroup target ---------------------------------------------------
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: ECONNREFUSED" > "$T/cg.yaml"
check_match "plan: connect through the cgroup hooks on the target cgroup" \
	"cgroup/connect4 connect6 attached to $cg" "$("$FAULTLINE" plan "$T/cg.yaml" 2>&1)"
if sc_start cg "$T/cg.yaml"; then
	check "connect() in the target cgroup fails with ECONNREFUSED" \
		in_cg "$SYSFAIL" -n 5 -e ECONNREFUSED connect "127.0.0.1:$port"
	check "IPv6 connect() in the target cgroup fails too" \
		in_cg "$SYSFAIL" -e ECONNREFUSED connect "[::1]:$port"
	check "a grandchild in the target cgroup fails too (forks follow)" \
		in_cg "$SYSFAIL" -d 2 -n 3 -e ECONNREFUSED connect "127.0.0.1:$port"
	check "every thread of a process in the target cgroup fails" \
		in_cg "$SYSFAIL" -t 4 -n 5 -e ECONNREFUSED connect "127.0.0.1:$port"
	check "a process in another cgroup is unaffected" \
		"$SYSFAIL" -n 5 -e OK connect "127.0.0.1:$port"
	check "other calls in the target cgroup are unaffected" \
		in_cg "$SYSFAIL" -e OK bind "127.0.0.1:0"
	check_match "status shows the run's attached links" "connect4 on $cg" \
		"$(cat "$FAULTLINE_RUNDIR"/*/0001-f.json 2>&1)"
	sc_stop
	check_eq "stopped by SIGTERM, the run reverts and exits 143" 143 "$?"
	check "after the run connect() works again in the cgroup" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	# 5 + 1 + 3 + 20 injections: events match them one to one.
	check_eq "the report counts 29 injections" 29 "$(sc_observed "$T/cg.report" injections)"
	check_eq "the kernel counted as many as there were events" 29 "$(sc_observed "$T/cg.report" kernel_count)"
	check_eq "no event was lost" 0 "$(sc_observed "$T/cg.report" events_lost)"
	check_match "events name call, errno and peer" \
		"'call': 'connect', 'errno': 'ECONNREFUSED', 'peer': '127.0.0.1:$port'" \
		"$(sc_observed "$T/cg.report" first_events)"
	check_eq "the last live progress event matches the report's 29" \
		'f 29 {"connect": 29}' "$(python3 -c 'import json,sys
p=[e for e in map(json.loads, open(sys.argv[1])) if e.get("event") == "progress"]
print(p[-1]["fault"], p[-1]["injections"], json.dumps(p[-1]["calls"])) if p else print("none")' "$T/cg.out" 2>&1)"
fi

# --- run shows injections live, in human output ------------------------
"$FAULTLINE" run "$T/cg.yaml" > "$T/live.out" 2>&1 &
runner=$!
at_exit "kill -9 $runner"
for _ in $(seq 100); do grep -q 'applied' "$T/live.out" && break; sleep 0.05; done
in_cg "$SYSFAIL" -n 3 connect "127.0.0.1:$port" > /dev/null
for _ in $(seq 40); do grep -q 'injections' "$T/live.out" && break; sleep 0.05; done
check_match "while it runs, run shows the injections live" \
	'^\[\+[0-9]+\.[0-9]{3}s\] fault f: 3 injections \(connect 3\)$' "$(cat "$T/live.out")"
in_cg "$SYSFAIL" -n 2 connect "127.0.0.1:$port" > /dev/null
for _ in $(seq 40); do grep -q '5 injections' "$T/live.out" && break; sleep 0.05; done
check_match "and again when they change" \
	'fault f: 5 injections \(connect 5\)$' "$(cat "$T/live.out")"
sleep 1.2
check_eq "but not while they stay the same" 2 "$(grep -c 'injections' "$T/live.out")"
sc_stop

# --- kill -9 of the runner: its links go with it -----------------------
if sc_start k9 "$T/cg.yaml"; then
	check "while applied, connect() fails" \
		in_cg "$SYSFAIL" -e ECONNREFUSED connect "127.0.0.1:$port"
	kill -9 "$runner"; wait "$runner" 2>/dev/null
	check "after kill -9 of the runner connect() works (links died with it)" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	for _ in $(seq 40); do [ -z "$(ls -A "$FAULTLINE_RUNDIR")" ] && break; sleep 0.1; done
	check_eq "and the guardian emptied the journal" "" "$(ls -A "$FAULTLINE_RUNDIR")"
fi

# --- recover --force against a stopped runner: revert by the ids -------
# The runner still holds its links; revert from the record alone (another
# process) must stop the fault: it detaches the links by id.
if sc_start stp "$T/cg.yaml"; then
	check "while applied, connect() fails" \
		in_cg "$SYSFAIL" -e ECONNREFUSED connect "127.0.0.1:$port"
	kill -STOP "$runner"
	"$FAULTLINE" recover --force > "$T/stp.recover" 2>&1
	check_eq "recover --force reverts the stopped runner's record" 0 "$?"
	check "then connect() works, the runner still stopped" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	if command -v bpftool > /dev/null; then
		check_eq "and no sf_ program is attached to the cgroup" "" \
			"$(bpftool cgroup show "$cg" 2>&1 | awk 'NR > 1 && $NF ~ /^sf_/')"
	else
		skip "no sf_ program is attached to the cgroup" "no bpftool"
	fi
	kill -CONT "$runner"; sc_stop
fi

# --- when, probability, errno weights, peer ----------------------------
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: EPERM, when: { after: 2, every: 3, times: 2 }" > "$T/when.yaml"
if sc_start when "$T/when.yaml"; then
	out=$(in_cg "$SYSFAIL" -s -n 12 connect "127.0.0.1:$port")
	# strace -e inject=connect:error=EPERM:when=3..6+3 fails calls 3 and 6.
	check_match "when {after 2, every 3, times 2}: calls 3 and 6 fail, like strace's when=3..6+3" \
		'^seq \.\.x\.\.x\.\.\.\.\.\.$' "$out"
	out=$(in_cg "$SYSFAIL" -s -n 6 connect "127.0.0.1:$port")
	check_match "a new process counts from its own start (per thread, like strace)" \
		'^seq \.\.x\.\.x$' "$out"
	sc_stop
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: ECONNREFUSED, probability: 30%" > "$T/prob.yaml"
if sc_start prob "$T/prob.yaml"; then
	# Binomial(4000, 0.3): mean 1200, sd 29; +-5 sd = +-145, which a
	# correct engine misses once in about 1.7 million runs.
	n=$(in_cg "$SYSFAIL" -n 4000 connect "127.0.0.1:$port" | awk '$1 == "ECONNREFUSED" {print $2}')
	check "probability 30%: $n of 4000 failed, inside 1055..1345" \
		test "${n:-0}" -ge 1055 -a "${n:-0}" -le 1345
	sc_stop
	check_eq "events match the injections one to one" "${n:-0}" "$(sc_observed "$T/prob.report" injections)"
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: { ECONNREFUSED: 75%, ETIMEDOUT: 25% }" > "$T/w.yaml"
if sc_start w "$T/w.yaml"; then
	# Binomial(2000, 0.25): mean 500, sd 19.4; +-5 sd = +-97.
	out=$(in_cg "$SYSFAIL" -n 2000 connect "127.0.0.1:$port")
	a=$(awk '$1 == "ECONNREFUSED" {print $2}' <<<"$out")
	b=$(awk '$1 == "ETIMEDOUT" {print $2}' <<<"$out")
	check "errno weights 75/25: $b of 2000 ETIMEDOUT, inside 403..597, the rest ECONNREFUSED" \
		test "${b:-0}" -ge 403 -a "${b:-0}" -le 597 -a $((${a:-0} + ${b:-0})) -eq 2000
	sc_stop
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: ECONNREFUSED, peer: { ports: [$port] }" > "$T/peer.yaml"
if sc_start peer "$T/peer.yaml"; then
	check "peer.ports: connect() to port $port fails" \
		in_cg "$SYSFAIL" -e ECONNREFUSED connect "127.0.0.1:$port"
	check "peer.ports: connect() to port $port2 works" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port2"
	sc_stop
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [connect], errno: ECONNREFUSED, peer: { to: [10.0.0.0/8, 'fd00::/8'] }" > "$T/peer2.yaml"
if sc_start peer2 "$T/peer2.yaml"; then
	check "peer.to 10.0.0.0/8: connect() to 127.0.0.1 works" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	sc_stop
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [bind, sendto], errno: EADDRNOTAVAIL" > "$T/bind.yaml"
if sc_start bind "$T/bind.yaml"; then
	check "bind() fails with EADDRNOTAVAIL" \
		in_cg "$SYSFAIL" -e EADDRNOTAVAIL bind "127.0.0.1:0"
	check "UDP sendto() with an address fails with EADDRNOTAVAIL" \
		in_cg "$SYSFAIL" -e EADDRNOTAVAIL sendto "127.0.0.1:$port"
	check "connect() is not among the calls: it works" \
		in_cg "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	sc_stop
fi

# --- pid targets: thread-group ids, fork following ---------------------
for ff in true false; do
	rm -f "$T/go"
	# The target: bash, which runs the calls in a child, a grandchild and
	# (exec'd, so as itself) in four threads.
	bash -c '"$0" -w "$1/go" -n 2 connect 127.0.0.1:"$2" > "$1/child.out"
		"$0" -d 1 -n 2 connect 127.0.0.1:"$2" > "$1/grandchild.out"
		exec "$0" -t 4 -n 3 connect 127.0.0.1:"$2" > "$1/self.out"' \
		"$SYSFAIL" "$T" "$port" &
	tgt=$!
	at_exit "kill -9 $tgt"
	sc_yaml "  app: { pid: $tgt }" "target: app, calls: [connect], errno: ENETUNREACH, follow-forks: $ff" > "$T/pid.yaml"
	if sc_start pid-$ff "$T/pid.yaml"; then
		check "pid target: an unrelated process is unaffected (follow-forks: $ff)" \
			"$SYSFAIL" -e OK connect "127.0.0.1:$port"
		touch "$T/go"
		wait "$tgt"
		sc_stop
		if [ $ff = true ]; then
			check_match "follow-forks: a child running before the fault fails" '^ENETUNREACH 2$' "$(cat "$T/child.out")"
			check_match "follow-forks: a grandchild fails" '^ENETUNREACH 2$' "$(cat "$T/grandchild.out")"
		else
			check_match "follow-forks false: a child succeeds" '^OK 2$' "$(cat "$T/child.out")"
			check_match "follow-forks false: a grandchild succeeds" '^OK 2$' "$(cat "$T/grandchild.out")"
		fi
		check_match "pid target: every one of its 4 threads fails (follow-forks: $ff)" '^ENETUNREACH 12$' "$(cat "$T/self.out")"
	fi
done

# --- a command target, in its scratch cgroup ---------------------------
cat > "$T/cmd.yaml" <<YAML
name: syscall-cmd
duration: 30s
targets:
  job: { command: [sh, -c, 'exec "\$0" -w "\$1/go" -d 1 -n 3 connect 127.0.0.1:\$2 > "\$1/job.out"', "$SYSFAIL", "$T", "$port"] }
faults:
  - name: f
    syscall: { target: job, calls: [connect], errno: EHOSTUNREACH }
YAML
rm -f "$T/go"
if sc_start cmd "$T/cmd.yaml"; then
	touch "$T/go"
	for _ in $(seq 50); do grep -q '^EHOST\|^OK' "$T/job.out" 2>/dev/null && break; sleep 0.1; done
	check_match "command target: its child's connect() fails with EHOSTUNREACH" '^EHOSTUNREACH 3$' "$(cat "$T/job.out" 2>&1)"
	check "an unrelated process is unaffected" "$SYSFAIL" -e OK connect "127.0.0.1:$port"
	sc_stop
fi

# --- calls this kernel cannot fail: exit 3, naming the options ----------
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [fsync], errno: EIO" > "$T/fsync.yaml"
out=$("$FAULTLINE" plan "$T/fsync.yaml" 2>&1); rc=$?
if [ -n "$route1" ]; then
	check_eq "plan takes fsync through the syscall entry (route 1)" 0 "$rc"
	skip "fsync refused" "this kernel allows route 1 (bpf.fmod_ret:syscall or bpf.kprobe:override)"
else
	check_eq "plan refuses fsync here (exit 3)" 3 "$rc"
	check_match "and names the kernel options" 'fsync.*CONFIG_FUNCTION_ERROR_INJECTION.*CONFIG_BPF_KPROBE_OVERRIDE' "$out"
	check_match "and says fsync passes through no LSM hook" 'fsync passes through no LSM hook' "$out"
	out=$("$FAULTLINE" run "$T/fsync.yaml" 2>&1); rc=$?
	check_eq "run refuses it too (exit 3), before changing anything" 3 "$rc"
fi
sc_yaml "  box: { cgroup: $cg }" "target: box, calls: [openat], errno: EIO" > "$T/openat.yaml"
out=$("$FAULTLINE" run "$T/openat.yaml" 2>&1); rc=$?
if [ -n "$route1$route2" ]; then
	skip "openat refused" "this kernel has route 1 or 2 for openat (bpf.lsm, bpf.fmod_ret:security, bpf.fmod_ret:syscall or bpf.kprobe:override)"
else
	check_eq "run refuses openat here (exit 3)" 3 "$rc"
	check_match "naming CONFIG_BPF_LSM for its file_open hook" 'file_open for openat.*CONFIG_BPF_LSM' "$out"
fi

# --- route 1, the syscall entry: why it is not chosen, and the loader ---
# up to the kernel's refusal (FAULTLINE_FORCE_SYSCALL_ENTRY, tests only,
# takes the route as working whatever the probe said).
sleep 60 & sl=$!
at_exit "kill $sl"
sc_yaml "  app: { pid: $sl }" "target: app, calls: [fsync], errno: EIO, follow-forks: false" > "$T/entry.yaml"
fmod_why=; kp_why=
have_bpf fmod_ret:syscall || fmod_why=$(fact bpf.fmod_ret:syscall.why)
have_bpf kprobe:override || kp_why=$(fact bpf.kprobe:override.why)
plan=$("$FAULTLINE" plan "$T/entry.yaml" 2>&1)
if [ -n "$fmod_why" ] && [ -n "$kp_why" ]; then
	check_match "plan says why the syscall entry is not chosen, as doctor does" \
		"syscall entry: fmod_ret: $(sed 's/[][().*^$]/\\&/g' <<<"$fmod_why"); kprobe override: $(sed 's/[][().*^$]/\\&/g' <<<"$kp_why")\$" "$plan"
else
	skip "why route 1 is not chosen" "this kernel allows it"
fi
out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=fmod_ret "$FAULTLINE" plan "$T/entry.yaml" 2>&1)
check_match "forced, plan takes fmod_ret on __x64_sys_fsync" \
	'syscall via fmod_ret on the syscall entry \(fsync\)' "$out"
check_match "with its program" 'BPF program fmod_ret/__x64_sys_fsync$' "$out"
out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=kprobe "$FAULTLINE" plan "$T/entry.yaml" 2>&1)
check_match "forced kprobe, plan takes a kprobe with bpf_override_return" \
	'BPF program kprobe/__x64_sys_fsync \(bpf_override_return\)$' "$out"
if [ "$fmod_why" = "load: Operation not permitted" ]; then
	out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=fmod_ret "$FAULTLINE" run "$T/entry.yaml" 2>&1); rc=$?
	check_eq "forced fmod_ret: run fails to apply (exit 4)" 4 "$rc"
	check_match "with the kernel's refusal of the loaded program" \
		"fault f: apply FAILED: cannot load the BPF programs \(fmod_ret/__x64_sys_fsync\): Operation not permitted: libbpf: prog 'sf_fmod_sys0': BPF program load failed: Operation not permitted$" "$out"
else
	skip "forced fmod_ret refusal" "fmod_ret on syscalls: ${fmod_why:-allowed}"
fi
if [[ $kp_why == *"bpf_override_return is missing"* ]]; then
	out=$(FAULTLINE_FORCE_SYSCALL_ENTRY=kprobe "$FAULTLINE" run "$T/entry.yaml" 2>&1); rc=$?
	check_eq "forced kprobe: run fails to apply (exit 4)" 4 "$rc"
	check_match "the verifier refuses bpf_override_return" \
		"fault f: apply FAILED: cannot load the BPF programs \(kprobe/__x64_sys_fsync\): Invalid argument: libbpf: prog 'sf_kprobe_sys0': BPF program load failed: Invalid argument; verifier: program of this type cannot use helper bpf_override_return#58$" "$out"
else
	skip "forced kprobe refusal" "kprobe override: ${kp_why:-allowed}"
fi
check_eq "nothing is left in the journal" "" "$(ls -A "$FAULTLINE_RUNDIR" 2>/dev/null)"
