#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: time from the start of an oom squeeze to the kernel's kill of
# a 256 MiB and a 1 GiB hog (tests/helpers/memhog), RUNS squeezes per size
# (default 11), with the collateral kills (which must be 0), whether every
# kill was proven, and how the victim's signal was seen.
#
# On cgroup v2, side by side in one run, what a user would otherwise do:
# write the limit by hand and wait for the hog (the shell's child) to die,
#   echo $((usage - 16M)) > memory.max; wait $hog
# timed in bash from just before the write to the reap.  The two
# alternate, faultline first in odd runs and second in even ones; each run
# gives the pair's ratio (by hand over faultline), and the script prints
# percentiles of the times and of those ratios.  faultline's figure is
# its report's squeeze_to_kill_ms: from just before its first write to
# the victim's exit as the exit capture saw it.
#
# On cgroup v1 (this host) the kernel refuses a limit below what it cannot
# reclaim, so the squeeze sets the limit just above usage and the hog's
# own next allocation trips the OOM killer: the hog keeps allocating 4 MiB
# every 5 ms once it holds SIZE, and there is no by-hand figure.
#
# Where the memory controller is not on v2 (and VM is not 0) the v2 part
# runs under Debian's stock kernel in QEMU (tools/vmtest --mem 3G, for the
# 1 GiB hog) after the host part.
# Only a cgroup this script creates is squeezed.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
MEMHOG=${OUTPUT}tests/helpers/memhog
RUNS=${RUNS:-11}
VM=${VM:-1}

if [ "$(id -u)" != 0 ]; then
	echo "bench: needs root (cgroups, /dev/kmsg)" >&2
	exit 2
fi
[ -x "$MEMHOG" ] || { echo "bench: build tests/helpers/memhog (make tests)" >&2; exit 2; }
mem=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
mode=v1 usage=memory.usage_in_bytes
if [ -z "$mem" ]; then
	mem=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
	mode=v2 usage=memory.current
	echo +memory >"$mem/cgroup.subtree_control" 2>/dev/null
fi
cg=$mem/flbench-oom-$$
tmp=$(mktemp -d /tmp/faultline-bench.XXXXXX)
export FAULTLINE_RUNDIR=$tmp/run
cleanup() {
	local p
	for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	sleep 0.3
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || exit 1

# hog SIZE_MIB: a hog in $cg holding SIZE; sets $hog.
hog() {
	local size=$1 i
	if [ $mode = v1 ]; then
		"$MEMHOG" --cgroup "$cg" --size $(($1 + 1024))M --step 4M --every 5 >"$tmp/hog" &
	else
		"$MEMHOG" --cgroup "$cg" --size "${size}M" >"$tmp/hog" &
	fi
	hog=$!
	for i in $(seq 3000); do
		[ "$(cat "$cg/$usage")" -ge $((size << 20)) ] && break
		sleep 0.01
	done
}

# one_fl SIZE_MIB: one faultline squeeze; prints "ms collateral proven exit".
one_fl() {
	hog "$1"
	cat >"$tmp/b.yaml" <<YAML
name: bench-oom
duration: 2s
targets:
  hog: { pid: $hog }
faults:
  - name: squeeze
    oom: { target: hog, squeeze: { below-usage: 16M } }
YAML
	"$FL" --quiet run --report "$tmp/r.json" "$tmp/b.yaml" >/dev/null 2>&1
	kill -9 "$hog" 2>/dev/null
	wait "$hog" 2>/dev/null
	python3 -c 'import json, sys
o = json.load(open(sys.argv[1]))["faults"][0].get("observed") or {}
print(o.get("squeeze_to_kill_ms", -1), o.get("collateral_kills", -1), o.get("proven", False),
      (o.get("proof") or {}).get("exit", "?").replace(" ", "-"))' "$tmp/r.json"
}

# one_hand SIZE_MIB: the limit by hand; prints "ms status" (137: SIGKILL).
one_hand() {
	local t0 t1 st lim
	hog "$1"
	lim=$(($(cat "$cg/$usage") - (16 << 20)))
	t0=$EPOCHREALTIME
	echo "$lim" >"$cg/memory.max"
	wait "$hog" 2>/dev/null
	st=$?
	t1=$EPOCHREALTIME
	echo max >"$cg/memory.max"
	echo "$(((${t1/./} - ${t0/./}) / 1000)) $st"
}

# summary: the percentiles of $tmp/res ("size fl-ms coll proven exit
# [hand-ms status]" lines).
summary() {
	python3 - "$tmp/res" "$mode" <<'PY'
import sys
rows = [l.split() for l in open(sys.argv[1]) if l.strip()]
v2 = sys.argv[2] == "v2"
def pct(v, p):
    v = sorted(v)
    k = (len(v) - 1) * p / 100
    lo = int(k)
    hi = min(lo + 1, len(v) - 1)
    return v[lo] + (v[hi] - v[lo]) * (k - lo)
def fmt(v):
    return "%6.0f %6.0f %6.0f %6.0f" % (pct(v, 50), pct(v, 90), min(v), max(v)) if v else "     -"
print("%-9s %-27s %s" % ("", "p50    p90    min    max (ms)", "collateral proven exit"))
for size in sorted({r[0] for r in rows}, key=int):
    rs = [r for r in rows if r[0] == size]
    fl = [int(r[1]) for r in rs if int(r[1]) >= 0]
    coll = sum(int(r[2]) for r in rs)
    proven = sum(r[3] == "True" for r in rs)
    exits = ",".join(sorted({r[4] for r in rs}))
    print("%-9s faultline %s %10d %3d/%d %s" % (size + " MiB", fmt(fl), coll, proven, len(rs), exits))
    if not v2:
        continue
    hand = [int(r[5]) for r in rs]
    sig = sum(r[6] == "137" for r in rs)
    print("%-9s by hand   %s %10s %3d/%d killed (wait: 137)" % ("", fmt(hand), "-", sig, len(rs)))
    ratio = [int(r[5]) / int(r[1]) for r in rs if int(r[1]) > 0]
    if ratio:
        print("%-9s by hand / faultline, per run: p50 %.2f, p10 %.2f, p90 %.2f [%.2f, %.2f]" % (
            "", pct(ratio, 50), pct(ratio, 10), pct(ratio, 90), min(ratio), max(ratio)))
PY
}

bench() {
	local size n a b
	echo "oom on cgroup $mode ($mem), $RUNS squeezes per size (below-usage: 16M), Linux $(uname -r), $(nproc) CPUs, $(awk '/MemTotal/ {printf "%.1f GiB", $2/1048576}' /proc/meminfo)"
	: >"$tmp/res"
	for size in 256 1024; do
		for n in $(seq "$RUNS"); do
			if [ $mode = v1 ]; then
				echo "$size $(one_fl $size)" >>"$tmp/res"
			elif [ $((n % 2)) = 1 ]; then
				a=$(one_fl $size); b=$(one_hand $size)
				echo "$size $a $b" >>"$tmp/res"
			else
				b=$(one_hand $size); a=$(one_fl $size)
				echo "$size $a $b" >>"$tmp/res"
			fi
		done
	done
	summary
}

bench
[ "${VMTEST:-}" = 1 ] || [ $mode = v2 ] || [ "$VM" = 0 ] && exit 0
echo
trap - EXIT
cleanup
exec "$SRC/tools/vmtest" --mem 3G --timeout "${TIMEOUT:-1800}" \
	--env RUNS="$RUNS" -- bash tests/bench/oom.sh
