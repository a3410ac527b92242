#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: what a syscall fault costs.  A loop timed by tests/helpers/sysfail
# itself, N times (default 1000000) per round, in these conditions:
#   bare        no fault
#   other       a process that is not targeted while a fault on the same
#               call is active (it targets an idle process)
#   target      the targeted process, with a `when` that never fires
#   strace      strace -f -e inject=CALL:error=EIO:when=65535 (strace's
#               largest first; it fires once if N reaches it)
#
# Part 1, under Debian's stock kernel in QEMU (tools/vmtest; this host
# refuses the LSM route), all four side by side in one boot.  MODE=read
# (default): one-byte reads of /dev/zero, the fault on read
# (lsm/file_permission); MODE=openat: openat+close of one file, the fault
# on openat (lsm/file_open).  bare, other and target run ROUNDS rounds
# (default 11), each round the three in a rotated order, the loop pinned
# to vCPU 1 and faultline to vCPU 0; the fault is loaded for its round
# only, so bare rounds run with no program attached.  Each round gives the
# ratios other/bare and target/bare of its own measurements; the median,
# the extremes and the middle half (quartiles) of those are printed.  strace, about
# half a millisecond a call under TCG, runs STRACE_ROUNDS times (default
# 1), on the loop's vCPU with its tracee.
#
# KERNEL=fault-injection: part 1 under the kernel tools/vmkernel builds
# (tools/vmtest --kernel fault-injection), which has every route, and each
# route side by side in one boot: bare, then other and target for the LSM
# route (lsm-*, the syscall-entry route taken as missing), fmod_ret on
# __x64_sys_read (fmod_ret-*) and a kprobe with bpf_override_return
# (kprobe-*), and strace; each round runs the seven in a rotated order.
#
# Part 2 (HOST=1, the default; first), on this host: the cgroup-hook route
# (cgroup/connect4 on a cgroup v2 folder the script makes), a loop of
# socket+connect+close to a closed port on 127.0.0.1 in a network
# namespace of its own (ECONNREFUSED), bare/other/target the same way,
# HOST_N (default 100000) calls a round, HOST_ROUNDS (default 21) rounds:
# more, shorter rounds, for a spread narrow enough to resolve 5% on a
# shared machine.  HOST=only runs just this part, HOST=0 skips it.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
N=${N:-1000000}
ROUNDS=${ROUNDS:-11}
STRACE_ROUNDS=${STRACE_ROUNDS:-1}
MODE=${MODE:-read}
HOST=${HOST:-1}
HOST_N=${HOST_N:-100000}
HOST_ROUNDS=${HOST_ROUNDS:-21}
KERNEL=${KERNEL:-stock}
FL=${OUTPUT}faultline
SF=${OUTPUT}tests/helpers/sysfail
case $MODE in read|openat) ;; *) echo "syscall bench: MODE is read or openat" >&2; exit 2 ;; esac
T=$(mktemp -d /tmp/faultline-bench.XXXXXX)
cg=""
cleanup() {
	kill -9 $(jobs -p) 2>/dev/null
	wait 2>/dev/null
	if [ -n "$cg" ]; then	# our own cgroup: what is in it is ours
		kill -9 $(cat "$cg/cgroup.procs" 2>/dev/null) 2>/dev/null
		sleep 0.2
		rmdir "$cg" 2>/dev/null
	fi
	rm -rf "$T"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
export FAULTLINE_RUNDIR=$T/run
ncpu=$(nproc)
LOOPCPU=$((ncpu > 1 ? 1 : 0))

# What each part sets: call, what, loop (the loop's command, pinned),
# want (the outcome every call must end with), tgt_yaml (the target of
# "other", then of "target"), in_target (a prefix that makes the loop a
# target, or "" when the fault names the loop's pid).

# fault TARGET-YAML WHEN: a fault on $call, applied when it returns.
fault() {
	printf 'name: bench\nduration: 1h\ntargets:\n  app: %s\nfaults:\n  - name: f\n    syscall: { target: app, calls: [%s], errno: %s%s }\n' \
		"$1" "$call" "$errno" "$2" > "$T/f.yaml"
	: > "$T/f.out"
	FAULTLINE_FORCE_SYSCALL_ENTRY=$force taskset -c 0 "$FL" run --json \
		--report "$T/f.report" "$T/f.yaml" > "$T/f.out" 2>&1 & runner=$!
	local i
	for i in $(seq 600); do
		grep -qs '"event":"applied"' "$T/f.out" && return 0
		kill -0 "$runner" 2>/dev/null || break
		sleep 0.05
	done
	echo "syscall bench: the fault did not apply:" >&2
	tail -5 "$T/f.out" >&2
	[ -n "${idle:-}" ] && kill "$idle" 2>/dev/null
	exit 1
}
unfault() { kill -TERM "$runner"; wait "$runner"; }
injected() {
	python3 -c 'import json,sys; print(json.load(open(sys.argv[1]))["faults"][0].get("observed",{}).get("injections"))' "$T/f.report"
}
# ns OUT [COUNT]: the loop's ns per call, after checking that COUNT
# calls (default N) ended with $want.
ns() {
	if ! grep -qx "$want ${2:-$N}" "$1"; then
		echo "syscall bench: expected ${2:-$N} calls to end with $want:" >&2
		cat "$1" >&2
		exit 1
	fi
	sed -n 's/^ns_per_call //p' "$1"
}
route() { # the route `faultline plan` names for the fault on the idle target
	FAULTLINE_FORCE_SYSCALL_ENTRY=$force "$FL" plan "$T/f.yaml" 2>&1 |
		sed -n 's/.*syscall via //p' | head -1
}
# The conditions of a round, and what FAULTLINE_FORCE_SYSCALL_ENTRY each
# route's conditions set (lsm: the syscall entry taken as missing).
conds=(bare other target)
force=""
force_of() { case $1 in lsm-*) echo off ;; fmod_ret-*) echo fmod_ret ;; kprobe-*) echo kprobe ;; esac; }

run_bare() { "${loop[@]}" > "$T/o"; ns "$T/o"; }
run_other() {
	sleep 3600 > /dev/null & idle=$!
	fault "$(other_target "$idle")" ""
	"${loop[@]}" > "$T/o"
	unfault; kill "$idle"; wait "$idle" 2>/dev/null; idle=""
	ns "$T/o"
}
run_target() {
	if [ -n "$in_target" ]; then
		fault "$(other_target 0)" ", when: { after: 4294967295 }"
		$in_target "${loop[@]}" > "$T/o"
	else
		rm -f "$T/go"
		"${loop[@]:0:4}" -w "$T/go" "${loop[@]:4}" > "$T/o" & tgt=$!
		fault "{ pid: $tgt }" ", when: { after: 4294967295 }"
		touch "$T/go"; wait "$tgt"
	fi
	unfault
	[ "$(injected)" = 0 ] || { echo "syscall bench: injections in target" >&2; exit 1; }
	ns "$T/o"
}

median() { tr ' ' '\n' | grep . | sort -g | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
range() { tr ' ' '\n' | grep . | sort -g | sed -n '1p;$p' | paste -sd' '; }
# The middle half: the first and third quartiles.
quartiles() {
	tr ' ' '\n' | grep . | sort -g |
		awk '{a[NR]=$1} END {printf "%s %s", a[int((NR-1)/4+1.5)], a[int(3*(NR-1)/4+1.5)]}'
}
ratio() { awk -v a="$1" -v b="$2" 'BEGIN {printf "%.3f", a / b}'; }

# rounds: the conditions, ROUNDS times in a rotated order; each one's
# ratio to the round's bare.
declare -A res
rounds() {
	local r k c n=${#conds[@]} line
	local -A cur
	for r in $(seq "$ROUNDS"); do
		line="round $r:"
		cur=()
		for k in $(seq 0 $((n - 1))); do
			c=${conds[$(((r - 1 + k) % n))]}
			force=$(force_of "$c")
			cur[$c]=$(run_${c#*-}) || exit 1
			res[$c]+=" ${cur[$c]}"
			line+=" $c ${cur[$c]}"
		done
		force=""
		for c in "${conds[@]}"; do
			[ "$c" = bare ] || res[r:$c]+=" $(ratio "${cur[$c]}" "${cur[bare]}")"
		done
		echo "$line"
	done
}
summary() {
	local bare c m pr
	bare=$(median <<<"${res[bare]}")
	echo
	printf '%-15s %10s %8s   %s\n' condition ns/call "vs bare" \
		"per-round ratio: median [min max] {middle half}"
	for c in "${conds[@]}" strace; do
		[ -n "${res[$c]:-}" ] || continue
		m=$(median <<<"${res[$c]}")
		pr=""
		[ -n "${res[r:$c]:-}" ] &&
			pr="$(median <<<"${res[r:$c]}") [$(range <<<"${res[r:$c]}")] {$(quartiles <<<"${res[r:$c]}")}"
		printf '%-15s %10s %8s   %s\n' "$c" "$m" "$(ratio "$m" "$bare")" "$pr"
	done
	for c in "${conds[@]}" strace; do
		[ -n "${res[$c]:-}" ] && echo "$c ns/call:${res[$c]}"
	done
	for c in "${conds[@]}"; do
		[ -n "${res[r:$c]:-}" ] && echo "$c/bare per round:${res[r:$c]}"
	done
	if [ -n "${res[strace]:-}" ]; then
		for c in "${conds[@]}"; do
			case $c in *target)
				echo "strace / faultline ($c): $(ratio "$(median <<<"${res[strace]}")" "$(median <<<"${res[$c]}")")x" ;;
			esac
		done
	fi
}

# -- Part 2, on this host: the cgroup-hook route --------------------------
host_part() {
	local v2
	v2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	if [ -z "$v2" ] || ! "$FL" doctor 2>/dev/null |
	   grep -Eq '^ *cgroup_sock_addr +yes'; then
		echo "syscall bench (host): skipped, needs cgroup v2 and cgroup sock_addr programs"
		return 0
	fi
	cg=$v2/flbench-syscall-$$
	mkdir "$cg" || return 1
	local N=$HOST_N ROUNDS=$HOST_ROUNDS
	call=connect errno=EPERM want=ECONNREFUSED
	# A network namespace of its own, where port 9 on lo is closed.
	loop=(unshare -n sh -c 'ip link set lo up && exec "$@"' sh
	      taskset -c "$LOOPCPU" "$SF" -T -n "$N" connect 127.0.0.1:9)
	other_target() { echo "{ cgroup: $cg }"; [ "$1" = 0 ] || echo "$1" > "$cg/cgroup.procs"; }
	in_target=in_cg
	fault "{ cgroup: $cg }" ""; unfault
	local start=$SECONDS
	echo "syscall bench (host): socket+connect+close to a closed port on 127.0.0.1 (ECONNREFUSED) x $N a round, $ROUNDS rounds, Linux $(uname -r), $ncpu CPUs, loop on CPU $LOOPCPU, fault via $(route)"
	rounds
	summary
	echo "run time: $((SECONDS - start)) s"
	res=()
	rmdir "$cg" && cg=""
}
in_cg() { sh -c 'echo $$ > "$0/cgroup.procs" && exec "$@"' "$cg" "$@"; }

# -- Part 1, under the stock kernel in QEMU -------------------------------
vm_part() {
	errno=EIO want=OK in_target=""
	if [ "$MODE" = read ]; then
		call=read what="one-byte read of /dev/zero"
		loop=(taskset -c "$LOOPCPU" "$SF" -T -n "$N" read /dev/zero)
	else
		call=openat what="openat+close of one file"
		echo x > "$T/file"
		loop=(taskset -c "$LOOPCPU" "$SF" -T -n "$N" openat "$T/file")
	fi
	other_target() { echo "{ pid: $1 }"; }
	local r s c lbl via="" start=$SECONDS
	if [ "$KERNEL" != stock ]; then
		conds=(bare lsm-other lsm-target fmod_ret-other fmod_ret-target
		       kprobe-other kprobe-target)
	fi
	sleep 1000 > /dev/null & idle=$!
	for c in "${conds[@]}"; do
		case $c in bare|*target) continue ;; esac
		force=$(force_of "$c")
		fault "{ pid: $idle }" ""; unfault
		lbl=""
		[ "$c" = other ] || lbl="${c%-other}: "
		via+="${via:+; }$lbl$(route)"
	done
	force=""
	kill "$idle"; wait "$idle" 2>/dev/null; idle=""
	echo "syscall bench: $what x $N a round, $ROUNDS rounds (strace: $STRACE_ROUNDS), Linux $(uname -r), $ncpu vCPUs, loop on vCPU $LOOPCPU, fault via $via"
	rounds
	for r in $(seq "$STRACE_ROUNDS"); do
		# when=65535 fires once when N reaches it: one EIO in the counts.
		# strace and its tracee both on the loop's vCPU: with strace
		# on the other vCPU every stop costs a cross-CPU wakeup, 10x
		# slower under TCG; this is the fair (fastest) setting.
		taskset -c "$LOOPCPU" strace -f -qq -o /dev/null \
			-e trace="$call" -e inject="$call":error=EIO:when=65535 \
			"${loop[@]:3}" > "$T/o"
		if [ "$N" -ge 65535 ]; then s=$(ns "$T/o" $((N - 1)))
		else s=$(ns "$T/o"); fi
		res[strace]+=" $s"
		echo "strace round $r: $s"
	done
	summary
	echo "run time: $((SECONDS - start)) s (after boot)"
}

if [ "${VMTEST:-}" = 1 ]; then
	vm_part
	exit
fi
if [ "$HOST" != 0 ]; then
	host_part || exit 1
	[ "$HOST" = only ] && exit 0
	echo
fi
trap - EXIT
cleanup
exec "$SRC/tools/vmtest" --kernel "$KERNEL" --timeout "${TIMEOUT:-5400}" \
	--env N="$N" --env ROUNDS="$ROUNDS" --env KERNEL="$KERNEL" \
	--env STRACE_ROUNDS="$STRACE_ROUNDS" --env MODE="$MODE" \
	-- tests/bench/syscall.sh
