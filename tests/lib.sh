# SPDX-License-Identifier: GPL-2.0-only
# Helpers for tests/host and tests/vm scripts.  A script prints one line a
# check: "ok - NAME", "not ok - NAME" or "skip - NAME # missing FEATURE";
# tests/run counts them.  Scripts clean up with traps.
#
# What the machine can do comes from faultline doctor --json (fact,
# have_qdisc, have_bpf, memory_mode), never from this host's particulars:
# the same suite runs on this host and on a stock kernel, and every branch
# a script does not take prints a skip naming the missing feature.

: "${OUTPUT:=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)/}"
SRC=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
FAULTLINE=${FAULTLINE:-${OUTPUT}faultline}
FAULTLINE_TEST=${FAULTLINE_TEST:-${OUTPUT}tests/faultline-test}
HELPERS=${HELPERS:-${OUTPUT}tests/helpers}

ok()   { echo "ok - $*"; }
notok() { echo "not ok - $*"; }
skip() { echo "skip - $1 # $2"; }

# check NAME CMD...: ok when CMD succeeds.
check() {
	local name=$1; shift
	if "$@"; then ok "$name"; else notok "$name"; fi
}

# check_eq NAME EXPECTED ACTUAL
check_eq() {
	if [ "$2" = "$3" ]; then ok "$1"
	else notok "$1"; echo "#   expected: $2" ; echo "#   actual:   $3"; fi
}

# check_match NAME REGEX TEXT: TEXT has a line matching the ERE.
check_match() {
	if printf '%s\n' "$3" | grep -Eq -- "$2"; then ok "$1"
	else notok "$1"; echo "#   no line matches: $2"; printf '%s\n' "$3" | sed 's/^/#   | /' | head -20; fi
}

# check_status NAME EXPECTED CMD...: the command's exit status.
check_status() {
	local name=$1 want=$2 got; shift 2
	"$@" >/dev/null 2>&1; got=$?
	check_eq "$name (exit $want)" "$want" "$got"
}

# fixture WHAT CMD...: a step that prepares checks and is not one: a
# comment line when CMD succeeds, a failure when it does not (a broken
# fixture must not pass for a check).  Returns CMD's status.
fixture() {
	local what=$1; shift
	if "$@"; then echo "# fixture: $what"; return 0; fi
	notok "fixture: $what"
	return 1
}

# quiet CMD...: CMD with its output thrown away (for fixture and check,
# whose own lines must still show).
quiet() { "$@" >/dev/null 2>&1; }

# A scratch folder removed at exit; tests add their own cleanup with
# at_exit, which runs in reverse order even when the script fails.
T=$(mktemp -d /tmp/faultline-test.XXXXXX)
_cleanups=()
at_exit() { _cleanups+=("$*"); }
_run_cleanups() {
	local i
	for ((i = ${#_cleanups[@]} - 1; i >= 0; i--)); do eval "${_cleanups[i]}" >/dev/null 2>&1; done
	rm -rf "$T"
}
trap _run_cleanups EXIT
trap 'exit 130' INT TERM

# --- Waiting, files, processes, the journal. ------------------------------

# wait_for SECONDS CMD...: until CMD succeeds, tried every 50 ms; the
# status of the last try.
wait_for() {
	local i n=$(($1 * 20)); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done
	"$@"
}
# content FILE: its text, or "<absent>"; is FILE TEXT: it holds TEXT.
content() { cat "$1" 2>/dev/null || echo "<absent>"; }
is() { [ "$(content "$1")" = "$2" ]; }
now_ms() { echo $(($(date +%s%N) / 1000000)); }
msleep() { sleep "$(printf '%d.%03d' $(($1 / 1000)) $(($1 % 1000)))"; }
# gone PID: exited, or a zombie that nobody reaped yet.
gone() {
	! kill -0 "$1" 2>/dev/null ||
		[ "$(awk '{ print $3 }' "/proc/$1/stat" 2>/dev/null)" = Z ]
}
# runs_left [RUNDIR]: run folders in the journal ($FAULTLINE_RUNDIR).
runs_left() {
	find "${1:-$FAULTLINE_RUNDIR}" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l
}
# runs_are N [RUNDIR]: N run folders in the journal (for wait_for).
runs_are() { [ "$(runs_left "${2:-}")" = "$1" ]; }
no_runs() { runs_are 0 "$@"; }
# run_dir [RUNDIR]: the (first) run folder.
run_dir() {
	find "${1:-$FAULTLINE_RUNDIR}" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | head -1
}
# guardian_of [RUNDIR]: the guardian's PID that run.json names.
guardian_of() {
	sed -n 's/.*"guardian": *\([0-9]*\).*/\1/p' "$(run_dir "$@")/run.json" 2>/dev/null
}

# start_bg FILE [RUN-OPTION...]: faultline run --json FILE in the
# background, its output in $T/bg.out, until a fault is applied and the
# guardian is known; sets runner and guardian.  The file is emptied
# first: the background shell opens it only once it runs, and the last
# run's "applied" must not pass for this one's.
start_bg() {
	local f=$1; shift
	: >"$T/bg.out"
	"$FAULTLINE" run --json "$@" "$f" >"$T/bg.out" 2>&1 &
	runner=$!
	wait_for 5 grep -qs '"event":"applied"' "$T/bg.out"
	guardian=$(guardian_of)
}

# kill_both RUNNER GUARDIAN: the crash of both, guardian first.  The
# other way round, a guardian woken by its runner's death can replay the
# journal before its own SIGKILL lands (kill(1) sends one after the
# other, and the dying runner, SCHED_FIFO, may hold a CPU meanwhile):
# host/pause saw its cgroup thawed and recover-netns its filters gone.
# The runner does not watch its guardian, so the other order is safe.
kill_both() {
	if [ -n "${2:-}" ] && [ "$2" != 0 ]; then
		kill -9 "$2" 2>/dev/null
		wait_for 2 gone "$2"
	fi
	kill -9 "$1" 2>/dev/null
}

# --- Drill files. ---------------------------------------------------------

# drill FILE NAME DURATION [TARGETS-YAML]: the head of an experiment file
# (name, duration, targets if given, "faults:"); add faults with fault.
drill() {
	{
		echo "name: $2"
		echo "duration: $3"
		if [ -n "${4:-}" ]; then echo "targets:"; printf '%s\n' "$4" | sed 's/^/  /'; fi
		echo "faults:"
	} > "$1"
}
# fault FILE NAME ENGINE-YAML [KEY: VALUE...]: one fault, e.g.
#   fault "$T/d.yaml" a 'test: { file: x, value: A }' 'at: 0s' 'for: 1s'
fault() {
	local file=$1 name=$2 body=$3 kv; shift 3
	{
		echo "  - name: $name"
		echo "    $body"
		for kv; do echo "    $kv"; done
	} >> "$file"
}
# test_drill FILE NAME DURATION FAULT FILE2 VALUE [AT [FOR]]: a drill with
# one fault of the test engine (faultline-test), which writes VALUE to
# FILE2 and puts it back at revert.
test_drill() {
	drill "$1" "$2" "$3"
	fault "$1" "$4" "test: { file: $5, value: $6 }" "at: ${7:-0s}" ${8:+"for: $8"}
}

# --- Network namespaces. --------------------------------------------------

# netns_add NAME...: new network namespaces, deleted at exit.
netns_add() {
	local n
	for n; do
		ip netns add "$n" || return 1
		at_exit "ip netns del $n"
	done
}
# netns_del NAME...: delete them now (missing ones are fine).
netns_del() {
	local n
	for n; do ip netns del "$n" 2>/dev/null; done
	return 0
}
# netns_pair A B ADDR-A ADDR-B [DEV-A [DEV-B]]: namespaces A and B (made
# here, deleted at exit) joined by a veth pair (eth0 by default), with
# the addresses (CIDR), up.
netns_pair() {
	local a=$1 b=$2 da=${5:-eth0} db=${6:-${5:-eth0}}
	netns_add "$a" "$b" &&
	ip -n "$a" link add "$da" type veth peer name "$db" netns "$b" &&
	ip -n "$a" addr add "$3" dev "$da" &&
	ip -n "$b" addr add "$4" dev "$db" &&
	ip -n "$a" link set "$da" up &&
	ip -n "$b" link set "$db" up &&
	ip -n "$a" link set lo up &&
	ip -n "$b" link set lo up
}

# --- The machine's facts, from faultline doctor --json. -------------------

# facts_json: the path of doctor's JSON for this machine, made once per
# script (in $T, so that command substitutions share it), or once per
# tests/run, which exports FL_FACTS.
facts_json() {
	local f=${FL_FACTS:-$T/doctor.json}
	if [ ! -s "$f" ]; then
		f=$T/doctor.json
		[ -s "$f" ] || "$FAULTLINE" --json doctor > "$f" 2>/dev/null
	fi
	echo "$f"
}
# fact PATH: a value of doctor --json ("qdiscs.netem.available"), strings
# raw, anything else as JSON (true, false, null); "<missing>" when the key
# is not there.
fact() {
	python3 - "$(facts_json)" "$1" <<'EOF' 2>/dev/null || echo '<missing>'
import json, sys
v = json.load(open(sys.argv[1]))
for k in sys.argv[2].split('.'):
    v = v[k] if isinstance(v, dict) else v[int(k)]
print(v if isinstance(v, str) else json.dumps(v))
EOF
}
# have_qdisc KIND, have_bpf FEATURE: doctor found it available.
have_qdisc() { [ "$(fact "qdiscs.$1.available")" = true ]; }
have_bpf() { [ "$(fact "bpf.$1.available")" = true ]; }
# memory_mode: v1, v2 or none (the memory controller's hierarchy).
memory_mode() { fact cgroups.memory.mode; }
# fact_path PATH: a fact that names a folder, "" when null or missing.
fact_path() {
	local v
	v=$(fact "$1")
	case $v in null | '<missing>') echo "" ;; *) echo "$v" ;; esac
}
# memory_mount: where the memory controller's hierarchy is mounted ("").
memory_mount() { fact_path cgroups.memory.mount; }
# unified_mount: the cgroup v2 mount ("" when there is none).
unified_mount() { fact_path cgroups.unified_mount; }
# netem_why: doctor's reason when sch_netem is missing.
netem_why() { fact qdiscs.netem.why; }
