# SPDX-License-Identifier: GPL-2.0-only
# What tests/host/oom.sh (cgroup v1) and tests/vm/oom.sh (cgroup v2) share:
# the helpers and the scenarios that differ only by the hierarchy.  Sourced
# after tests/lib.sh; the test sets, before calling them:
#   mem      the memory hierarchy's root folder
#   top      the test's own cgroup under it ($mem/fltest-oom-$$)
#   MEMHOG   tests/helpers/memhog
#   limits   a function printing a cgroup's limits on one line
#   before   the victim cgroup's limits before any drill

# Kill what is left in our cgroups, then remove them, deepest first; and
# the scratch cgroups a failed run may have left.
cleanup_cg() {
	local d p
	for d in $(find "$top" -mindepth 1 -depth -type d 2>/dev/null) "$top"; do
		for p in $(cat "$d/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	done
	sleep 0.3
	find "$top" -mindepth 1 -depth -type d -exec rmdir {} \; 2>/dev/null
	rmdir "$top" 2>/dev/null
	for d in "$mem"/faultline-*-oomtest-*; do
		[ -d "$d" ] || continue
		for p in $(cat "$d/cgroup.procs"); do kill -9 "$p"; done
		sleep 0.2; rmdir "$d"
	done
}

# start_hog CGROUP ARGS...: a memhog in CGROUP; sets $hog to its PID.
start_hog() {
	local cg=$1 out i; shift
	out=$(mktemp "$T/hog.XXXXXX")
	"$MEMHOG" --cgroup "$cg" "$@" >"$out" 2>&1 &
	for i in $(seq 50); do grep -q '^pid' "$out" && break; sleep 0.1; done
	hog=$(awk '/^pid/ {print $2}' "$out")
	at_exit "kill -9 $hog"
}

# obs REPORT EXPR: a Python expression on the first fault's "observed".
obs() {
	python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))["faults"][0].get("observed") or {}
print(eval(sys.argv[2]))' "$1" "$2" 2>&1
}

alive() { kill -0 "$1" 2>/dev/null && echo alive || echo dead; }

# refuse NAME TARGET-YAML [EXTRA-KEYS]: the drill is refused (exit 3);
# faultline's output is left in $T/r.out.
refuse() {
	local name=$1 target=$2 extra=${3:-}
	cat > "$T/r.yaml" <<YAML
name: oomtest-refuse
duration: 2s
targets:
  t: $target
faults:
  - name: squeeze
    oom: { target: t, squeeze: { to: 16M }$extra }
YAML
	"$FAULTLINE" run "$T/r.yaml" >"$T/r.out" 2>&1
	check_eq "oom refuses $name (exit 3)" 3 "$?"
}

# oom_scratch HOGARGS...: a PID target moved into a scratch cgroup
# faultline-<run>-<fault> and killed there; the cgroup is gone after.
# Leaves $T/scratch.yaml for oom_back.
oom_scratch() {
	start_hog "$top/victim" "$@"
	local victim=$hog
	cat > "$T/scratch.yaml" <<YAML
name: oomtest-scratch
duration: 6s
targets:
  hog: { pid: $victim }
faults:
  - name: oomtest-$$
    oom:
      target: hog
      cgroup: scratch
      squeeze: { to: 32M }
    at: 1s
YAML
	"$FAULTLINE" --quiet run --report "$T/scratch.json" "$T/scratch.yaml" >/dev/null 2>&1
	check_eq "oom scratch: the hog is killed in its scratch cgroup" "True SIGKILL" \
		"$(obs "$T/scratch.json" 'o["proven"], o["victim"]["signal"]' | tr -d "(),'")"
	check_match "oom scratch: the squeezed cgroup was faultline-<run>-<fault>" "^$mem/faultline-.*-oomtest-$$\$" \
		"$(obs "$T/scratch.json" 'o["cgroup"]')"
	check_eq "oom scratch: the scratch cgroup is gone" "" "$(ls -d "$mem"/faultline-*-oomtest-$$ 2>/dev/null)"
}

# oom_back CGROUP-LINE-ERE: a scratch squeeze that kills nothing moves the
# target back; its /proc/PID/cgroup then has a line matching the ERE.
oom_back() {
	start_hog "$top/victim" --size 32M
	local idle=$hog
	sed -e "s/pid: [0-9]*/pid: $idle/" -e 's/to: 32M/to: 900M/' -e 's/duration: 6s/duration: 3s/' \
		"$T/scratch.yaml" >"$T/back.yaml"
	"$FAULTLINE" --quiet run --report "$T/back.json" "$T/back.yaml" >/dev/null 2>&1
	check_eq "oom scratch: an unkilled target survives" alive "$(alive "$idle")"
	check_match "oom scratch: and is moved back to its cgroup" "$1" "$(cat /proc/$idle/cgroup)"
	check_eq "oom scratch: its scratch cgroup is gone" "" "$(ls -d "$mem"/faultline-*-oomtest-$$ 2>/dev/null)"
	kill -9 "$idle"
}

# oom_full SIZE: a command target (a memhog growing to SIZE) in a scratch
# cgroup, ramped down, with a probe that sees it go.
oom_full() {
	cat > "$T/full.yaml" <<YAML
name: oomtest-full
duration: 6s
targets:
  worker: { command: [$MEMHOG, --size, $1, --step, 4M, --every, "50"] }
faults:
  - name: squeeze-worker
    oom:
      target: worker
      cgroup: scratch
      squeeze: { ramp: { from: usage, step: 16M, every: 200ms } }
    at: 2s
probes:
  - name: worker-alive
    exec: [pgrep, -f, "memhog --size $1 --step 4M --every 50\$"]
    every: 500ms
    timeout: 400ms
    expect: { exit: 0 }
YAML
	"$FAULTLINE" --quiet run --report "$T/full.json" "$T/full.yaml" >/dev/null 2>&1
	check_eq "oom full: the probe sees the victim go (exit 1)" 1 "$?"
	check_eq "oom full: the command target's kill is proven" "True 0" \
		"$(obs "$T/full.json" 'o["proven"], o["collateral_kills"]' | tr -d "(),'")"
	check_eq "oom full: the probe failed only after the fault" True "$(python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
p = r["probes"][0]
print(p["failed"] > 0 and p["passed"] > 0)' "$T/full.json" 2>&1)"
	check_eq "oom full: the scratch cgroups are gone" "" "$(ls -d "$mem"/faultline-*-worker 2>/dev/null)"
}

# oom_crash: kill -9 of the runner mid-squeeze; the guardian restores the
# limits and removes the journal, and the hog under its limit lives.
# Leaves the hog's PID in $idle.
oom_crash() {
	local runner
	start_hog "$top/victim" --size 64M
	idle=$hog
	cat > "$T/crash.yaml" <<YAML
name: oomtest-crash
duration: 60s
targets:
  hog: { pid: $idle }
faults:
  - name: squeeze
    oom: { target: hog, squeeze: { to: 128M } }
YAML
	"$FAULTLINE" run "$T/crash.yaml" >"$T/crash.out" 2>&1 &
	runner=$!
	at_exit "kill -9 $runner"
	for _ in $(seq 50); do grep -q 'applied' "$T/crash.out" && break; sleep 0.1; done
	check "oom crash: the limit is squeezed while the runner lives" test "$(limits "$top/victim")" != "$before"
	kill -9 "$runner"
	for _ in $(seq 50); do [ -z "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)" ] && break; sleep 0.1; done
	check_eq "oom crash: the guardian restored the limits byte for byte" "$before" "$(limits "$top/victim")"
	check_eq "oom crash: and removed the journal" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
	check_eq "oom crash: the hog under its limit was not killed" alive "$(alive "$idle")"
}

# reap_drill FILE TARGET-YAML CGROUP AT DURATION: a drill squeezing target
# t 8M below its usage from AT on.
reap_drill() {
	cat > "$1" <<YAML
name: oomtest-reap
duration: $5
targets:
  t: $2
faults:
  - name: squeeze
    oom: { target: t, cgroup: $3, squeeze: { below-usage: 8M } }
    at: $4
YAML
}

# reap_hog KIND OUT HOGARGS...: a hog in $top/reap whose parent reaps it
# the moment it dies: shell, the test's own bash (sh -c "echo \$\$ >
# cgroup.procs; exec hog" &, as a user starts one); reaper,
# tests/helpers/reaper's waitpid(-1) loop (like systemd or a container
# shim).  Sets $hog, and waits until it holds 16M or more.
reap_hog() {
	local kind=$1 out=$2 i u; shift 2
	case $kind in
	shell)
		sh -c "echo \$\$ >$top/reap/cgroup.procs; exec $MEMHOG $*" >"$out" 2>&1 &
		hog=$! ;;
	reaper)
		"$REAPER" "$MEMHOG" --cgroup "$top/reap" "$@" >"$out" 2>&1 &
		at_exit "kill -9 $!"
		for i in $(seq 50); do grep -q '^pid' "$out" && break; sleep 0.1; done
		hog=$(awk '/^pid/ {print $2; exit}' "$out") ;;
	esac
	at_exit "kill -9 $hog"
	for i in $(seq 100); do
		u=$(cat "$top/reap/memory.current" "$top/reap/memory.usage_in_bytes" 2>/dev/null | head -1)
		[ "${u:-0}" -ge $((16 << 20)) ] && break
		sleep 0.05
	done
}

# oom_reaped KIND RUNS HOGARGS...: RUNS drills in a row, each killing a
# hog whose parent reaps it at once (reap_hog's kinds, or command: a
# command target, which faultline's runner reaps).  The zombie is gone
# before anyone can read it, so every kill must be proven from the status
# captured as the victim exited: every run exits 0.
oom_reaped() {
	local kind=$1 runs=$2 n rc r ok=0 exit0=0 seen=0 out; shift 2
	mkdir -p "$top/reap"
	for n in $(seq "$runs"); do
		out=$T/reap-$kind-$n
		if [ "$kind" = command ]; then
			reap_drill "$out.yaml" "{ command: [$MEMHOG, $(echo "$*" | sed 's/ /, /g')] }" scratch 1s 3s
		else
			reap_hog "$kind" "$out.hog" "$@"
			reap_drill "$out.yaml" "{ pid: $hog }" own 0s 2s
		fi
		"$FAULTLINE" --quiet run --report "$out.json" "$out.yaml" >"$out.out" 2>&1
		rc=$?
		r=$(obs "$out.json" 'o["proven"], o["victim"]["signal"], o["proof"]["exit"]' | tr -d "(),'")
		[ $rc = 0 ] && exit0=$((exit0 + 1))
		[ "$n" = 1 ] && echo "# oom reaped by $kind: exit capture: $(obs "$out.json" 'o["proof"].get("exit_capture")')"
		if [ "$r" = "True SIGKILL captured at exit" ]; then
			ok=$((ok + 1))
		else
			echo "# oom reaped by $kind, run $n: exit $rc, proven/signal/exit: $r"
		fi
		if [ "$kind" = reaper ]; then
			wait_for 2 grep -q "^reaped $hog status 9\$" "$out.hog" && seen=$((seen + 1))
		fi
		[ "$kind" != command ] && { kill -9 "$hog" 2>/dev/null; wait "$hog" 2>/dev/null; }
	done
	check_eq "oom reaped at once ($kind): every run exits 0 ($runs runs)" "$runs" "$exit0"
	check_eq "oom reaped at once ($kind): every kill proven from the exit it captured" "$runs" "$ok"
	[ "$kind" = reaper ] && check_eq "oom reaped at once (reaper): the waitpid loop took every victim, killed by SIGKILL" "$runs" "$seen"
	rmdir "$top/reap" 2>/dev/null
	return 0
}

# oom_host_v1 NAME WHY: the host oom tests' start: MEMHOG and mem set, or
# skip NAME (WHY: what covers it instead) unless memory is on cgroup v1.
oom_host_v1() {
	MEMHOG=$HELPERS/memhog
	mem=$(memory_mount)
	if [ "$(memory_mode)" != v1 ]; then
		skip "$1" "memory controller not on cgroup v1 (cgroups.memory.mode; $2)"
		exit 0
	fi
	[ -x "$MEMHOG" ] || { skip "$1" "tests/helpers/memhog is not built (make tests)"; exit 0; }
}

# squeeze_hog FILE NAME DURATION AT: a drill squeezing the pid target hog
# ($victim) in its own cgroup to 8M below its usage, at AT.
squeeze_hog() {
	cat > "$1" <<YAML
name: $2
duration: $3
targets:
  hog: { pid: $victim }
faults:
  - name: squeeze
    oom: { target: hog, cgroup: own, squeeze: { below-usage: 8M } }
    at: $4
YAML
}
