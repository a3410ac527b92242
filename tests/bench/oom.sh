#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Benchmark: time from the start of an oom squeeze to the kernel's kill of
# a 256 MiB and a 1 GiB hog (tests/helpers/memhog), median of RUNS, with the
# collateral kills (which must be 0) and whether every kill was proven.
#
# On cgroup v1 the kernel refuses a limit below what it cannot reclaim, so
# the squeeze sets the limit just above usage and the hog's own next
# allocation trips the OOM killer: the hog keeps allocating 4 MiB every
# 5 ms once it holds SIZE.  On v2 the memory.max write kills in the
# writer's context, so the hog holds SIZE idle.
# Only a cgroup this script creates is squeezed.
set -u
SRC=$(cd "$(dirname "$0")/../.." && pwd)
OUTPUT=${OUTPUT:-$SRC/}
FL=${OUTPUT}faultline
MEMHOG=${OUTPUT}tests/helpers/memhog
RUNS=${RUNS:-5}

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
cleanup() {
	local p
	for p in $(cat "$cg/cgroup.procs" 2>/dev/null); do kill -9 "$p"; done
	sleep 0.3
	rmdir "$cg" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT
mkdir "$cg" || exit 1

# one SIZE_MIB: one squeeze; prints "ms collateral proven".
one() {
	local size=$1 hog i
	if [ $mode = v1 ]; then
		"$MEMHOG" --cgroup "$cg" --size $((size + 1024))M --step 4M --every 5 >"$tmp/hog" &
	else
		"$MEMHOG" --cgroup "$cg" --size ${size}M >"$tmp/hog" &
	fi
	hog=$!
	for i in $(seq 600); do
		[ "$(cat "$cg/$usage")" -ge $((size << 20)) ] && break
		sleep 0.01
	done
	cat >"$tmp/b.yaml" <<YAML
name: bench-oom
duration: 3s
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
print(o.get("squeeze_to_kill_ms", -1), o.get("collateral_kills", -1), o.get("proven", False))' "$tmp/r.json"
}

echo "oom on cgroup $mode ($mem), median of $RUNS squeezes (below-usage: 16M)"
printf '%-8s %14s %14s %14s %10s %8s\n' hog "kill median" min max collateral proven
for size in 256 1024; do
	res=()
	for _ in $(seq "$RUNS"); do res+=("$(one $size)"); done
	printf '%s\n' "${res[@]}" | python3 -c 'import sys, statistics
size = sys.argv[1] + " MiB"
rows = [l.split() for l in sys.stdin if l.strip()]
ms = [int(r[0]) for r in rows if int(r[0]) >= 0]
coll = sum(int(r[1]) for r in rows)
proven = sum(r[2] == "True" for r in rows)
if ms:
    print(f"{size:<8} {statistics.median(ms):11.0f} ms {min(ms):11d} ms {max(ms):11d} ms {coll:10d} {proven:4d}/{len(rows)}")
else:
    print(f"{size:<8} no kill in {len(rows)} runs")' "$size"
done
