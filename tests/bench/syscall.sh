#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: what a syscall fault costs, under Debian's stock kernel in
# QEMU (tools/vmtest; the host may refuse the LSM route).  A loop of
# openat+close of one file, N times (default 1000000), timed by
# tools/sysfail itself, in four conditions side by side, median of RUNS:
#   bare        no fault
#   other       a process that is not targeted while a fault is active
#   target      the targeted process, with a `when` that never fires
#   strace      strace -f -e inject=openat:error=EIO:when=65535 (strace's
#               largest first; it fires once if N reaches it)
# Ratios are against bare.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
N=${N:-1000000}
RUNS=${RUNS:-3}
if [ "${VMTEST:-}" != 1 ]; then
	exec "$SRC/tools/vmtest" --timeout 3000 --env N="$N" --env RUNS="$RUNS" \
		-- tests/bench/syscall.sh
fi
FL=${OUTPUT}faultline
SF=${OUTPUT}tools/sysfail
T=$(mktemp -d /tmp/faultline-bench.XXXXXX)
trap 'kill -9 $(jobs -p) 2>/dev/null; rm -rf "$T"' EXIT
export FAULTLINE_RUNDIR=$T/run
echo x > "$T/file"

fault() { # PID WHEN
	printf 'name: bench\nduration: 1h\ntargets:\n  app: { pid: %s }\nfaults:\n  - name: f\n    syscall: { target: app, calls: [openat], errno: EIO%s }\n' "$1" "$2" > "$T/f.yaml"
	"$FL" run --quiet "$T/f.yaml" & runner=$!
	sleep 2	# load and attach
}
ns() { sed -n 's/^ns_per_call //p'; }

declare -A res
for run in $(seq "$RUNS"); do
	res[bare]+=" $("$SF" -T -n "$N" openat "$T/file" | ns)"

	sleep 3600 & idle=$!
	fault "$idle" ""
	res[other]+=" $("$SF" -T -n "$N" openat "$T/file" | ns)"
	kill -TERM "$runner"; wait "$runner"; kill "$idle"

	rm -f "$T/go"
	"$SF" -w "$T/go" -T -n "$N" openat "$T/file" > "$T/t.out" & tgt=$!
	fault "$tgt" ", when: { after: 4294967295 }"
	touch "$T/go"; wait "$tgt"
	res[target]+=" $(ns < "$T/t.out")"
	kill -TERM "$runner"; wait "$runner"

	res[strace]+=" $(strace -f -qq -o /dev/null -e trace=openat \
		-e inject=openat:error=EIO:when=65535 \
		"$SF" -T -n "$N" openat "$T/file" | ns)"
done
median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
bare=$(median <<<"${res[bare]}")
echo "syscall bench: openat+close x $N, median of $RUNS, $(uname -r), QEMU TCG"
printf '%-8s %10s %8s   %s\n' condition ns/call ratio runs
for c in bare other target strace; do
	m=$(median <<<"${res[$c]}")
	printf '%-8s %10s %8s   %s\n' "$c" "$m" \
		"$(awk -v a="$m" -v b="$bare" 'BEGIN {printf "%.3f", a / b}')" "${res[$c]# }"
done
t=$(median <<<"${res[target]}"); s=$(median <<<"${res[strace]}")
echo "strace / faultline (targeted): $(awk -v a="$s" -v b="$t" 'BEGIN {printf "%.1f", a / b}')x"
