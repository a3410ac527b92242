#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Container targets with a real runtime: podman (Debian's) under the stock
# kernel, two busybox containers "db" and "web" joined by a veth (each
# side its container's eth0; --network none, no CNI).  Drills: netem delay
# on db's own eth0, measured from web; a partition between them (db finds
# its group from its own addresses); a proven OOM kill of a process in db;
# connect() refused for db's cgroup; recover from the host reverting
# inside db's namespace after kill -9; db removed during a drill and after
# a crash (revert and recover say so and finish).
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../podman-lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/container" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
t0=$(date +%s)

grep -qw memory /sys/fs/cgroup/cgroup.controllers &&
	echo +memory >/sys/fs/cgroup/cgroup.subtree_control
if ! podman_setup >"$T/setup.out" 2>&1; then
	notok "container: podman works here (tmpfs storage, busybox image)"
	sed 's/^/#   /' "$T/setup.out" | tail -5
	exit 0
fi
# db holds 120M in a blocked dd (the OOM victim); web answers on tcp/7000.
# memory.max written below usage OOM-kills in the writer's context, which
# may take a second process before dd's memory is freed (6.1 does): db's
# init is kept out of that (oom_score_adj -1000) and its loop goes on.
ctr_run db flbb sh -c 'dd if=/dev/zero bs=120M count=1 2>/dev/null | sleep 100000 & while :; do sleep 1000; done' &&
ctr_run web flbb sh -c 'while :; do nc -l -p 7000 </dev/null >/dev/null; done' ||
	{ notok "container: start two containers"; exit 0; }
dbpid=$(ctr_pid db) webpid=$(ctr_pid web)
echo -1000 >/proc/"$dbpid"/oom_score_adj
ip link add fldb type veth peer name flweb &&
ip link set fldb netns "$dbpid" && ip link set flweb netns "$webpid" &&
nsenter -t "$dbpid" -n sh -c 'ip link set fldb name eth0 && ip addr add 10.77.0.1/24 dev eth0 && ip link set eth0 up && ip link set lo up' &&
nsenter -t "$webpid" -n sh -c 'ip link set flweb name eth0 && ip addr add 10.77.0.2/24 dev eth0 && ip link set eth0 up && ip link set lo up' ||
	{ notok "container: join them with a veth"; exit 0; }
echo "# setup: $(($(date +%s) - t0)) s"

# ping from web to db: the average round trip in ms, "" when none came back.
rtt() {
	nsenter -t "$webpid" -n busybox ping -c "${1:-5}" -i 0.2 -W 1 10.77.0.1 2>/dev/null |
		sed -n 's#.*min/avg/max = [0-9.]*/\([0-9.]*\)/.*#\1#p'
}
qdisc() { nsenter -t "$1" -n tc qdisc show dev eth0 root | awk '{print $2; exit}'; }
drill_file() { # NAME TARGETS FAULT-BODY
	printf 'name: %s\nduration: 10m\ntargets:\n%s\nfaults:\n  - name: %s\n%s\n' \
		"$1" "$2" "$1" "$3" >"$T/$1.yaml"
}
start() { # NAME: run it until applied (not the last run's "applied")
	: >"$T/$1.out"
	"$FAULTLINE" run --json --report "$T/$1.report" "$T/$1.yaml" >"$T/$1.out" 2>&1 &
	runner=$!
	at_exit "kill -9 $runner 2>/dev/null"
	if wait_for 30 grep -q '"event":"applied"' "$T/$1.out"; then
		return 0
	fi
	notok "$1: the fault applies"; sed 's/^/#   /' "$T/$1.out" | tail -8
	kill -9 "$runner"
	return 1
}
stop() { kill -TERM "$runner"; wait "$runner"; }
DB='  db: { container: db, runtime: podman }'

# --- plan shows what the container resolved to ----------------------------
drill_file slow "$DB" '    netem: { target: db, device: eth0, delay: 100ms }'
plan=$("$FAULTLINE" plan --json "$T/slow.yaml")
check_eq "plan: db resolves to its init pid" "$dbpid" \
	"$(jq -r '.targets[0].container.pid' <<<"$plan")"
check_eq "plan: and to its network namespace" \
	"$(stat -L -c %d:%i /proc/"$dbpid"/ns/net)" "$(jq -r '.targets[0].container.netns' <<<"$plan")"
check_eq "plan: and to its cgroup" "/sys/fs/cgroup$(sed -n 's/^0:://p' /proc/"$dbpid"/cgroup)" \
	"$(jq -r '.targets[0].container.cgroup_unified' <<<"$plan")"
check_eq "plan: the netem fault will apply in db's namespace" "will apply db" \
	"$(jq -r '.faults[0] | "\(.state) \(.netns_target)"' <<<"$plan")"

# --- netem on db's own eth0, measured from web -----------------------------
base=$(rtt 5)
if start slow; then
	d=$(rtt 5)
	echo "# base rtt ${base:-none} ms, with delay ${d:-none} ms"
	check "netem: web sees db's replies 100 ms late (avg rtt $d ms)" \
		awk -v x="$d" 'BEGIN { exit !(x != "" && x >= 95 && x < 600) }'
	check_eq "netem: the qdisc is on db's eth0" netem "$(qdisc "$dbpid")"
	check_eq "netem: web's eth0 is untouched" noqueue "$(qdisc "$webpid")"
	check "netem: the record names db's namespace and db" \
		grep -q "\"netns_of\": *\"container 'db' (podman" "$FAULTLINE_RUNDIR"/*/0*.json
	stop
	check_eq "netem: reverted, db's eth0 back to noqueue" noqueue "$(qdisc "$dbpid")"
fi

# --- a partition between the two containers --------------------------------
drill_file split "$DB" '    partition: { target: db, groups: [[10.77.0.1], [10.77.0.2]] }'
check "partition: web reaches db before" test -n "$(rtt 2)"
if start split; then
	check_eq "partition: web cannot reach db" "" "$(rtt 3)"
	stop
	check_eq "partition: db found its group (1) from its own address" 1 \
		"$(jq -r '.faults[0].observed.group' "$T/split.report")"
	check "partition: reverted, web reaches db again" test -n "$(rtt 2)"
fi

# --- connect() refused for db's cgroup -------------------------------------
drill_file refuse "$DB" '    syscall: { target: db, calls: [connect], errno: ECONNREFUSED }'
conn() { podman exec db nc -w 3 10.77.0.2 7000 </dev/null 2>&1; echo "rc=$?"; }
check_match "syscall: db connects to web before" 'rc=0$' "$(conn)"
if start refuse; then
	out=$(conn)
	check_match "syscall: db's connect() is refused" 'refused' "$out"
	check_eq "syscall: web's connect() is not" "" \
		"$(nsenter -t "$webpid" -n busybox nc -w 2 10.77.0.2 7000 </dev/null 2>&1 | grep -i refused)"
	stop
	check_match "syscall: after revert db connects again" 'rc=0$' "$(conn)"
fi

# --- a proven OOM kill of a process in db -----------------------------------
# A fixed limit between what db holds besides dd (a few MB) and dd's 120M:
# one kill, and nothing else in db comes near it after.
drill_file oom "$DB" '    oom: { target: db, cgroup: own, squeeze: { to: 64M }, expect: kill }
    at: 1s'
sed -i 's/^duration: 10m/duration: 8s/' "$T/oom.yaml"
cg=$(jq -r '.targets[0].container.cgroup_unified' <<<"$plan")
maxb=$(cat "$cg/memory.max")
ddpid=$(pgrep -x dd | head -1)
"$FAULTLINE" --quiet run --report "$T/oom.report" "$T/oom.yaml" >"$T/oom.out" 2>&1
check_eq "oom: the drill passes" 0 "$?"
check_eq "oom: the victim is db's dd" "$ddpid dd" \
	"$(jq -r '.faults[0].observed.victim | "\(.pid) \(.comm)"' "$T/oom.report")"
check_eq "oom: the kill is proven" true "$(jq -r '.faults[0].observed.proven' "$T/oom.report")"
check_eq "oom: db's memory.max restored" "$maxb" "$(cat "$cg/memory.max")"
check "oom: db itself still runs" kill -0 "$dbpid"

# --- recover reverts inside db's namespace from the host ------------------
crash() { # NAME: kill -9 runner and guardian once applied
	local gp
	start "$1" || return 1
	gp=$(jq -r "select(.pid == $runner) | .guardian" "$FAULTLINE_RUNDIR"/*/run.json)
	kill_both "$runner" "$gp"; wait "$runner" 2>/dev/null
	wait_for 5 gone "$gp"
}
if crash slow; then
	check_eq "recover: the crash left netem on db's eth0" netem "$(qdisc "$dbpid")"
	out=$("$FAULTLINE" recover 2>&1)
	check_eq "recover: exits 0" 0 "$?"
	check_eq "recover: reverted inside db's namespace" noqueue "$(qdisc "$dbpid")"
	check_eq "recover: the journal is empty" 0 "$(runs_left)"
fi

# --- db removed during a drill: revert says so and finishes ----------------
if start slow; then
	podman rm -f -t 0 db >/dev/null
	stop; rc=$?
	check_eq "removed: the run stops as SIGTERM asks (exit 143)" 143 "$rc"
	check "removed: the fault counts as reverted" grep -q '"event":"reverted"' "$T/slow.out"
	check_match "removed: revert says db's namespace is gone" \
		"network namespace [0-9:]+ of container 'db' \\(podman [0-9a-f]+\\) is gone" "$(cat "$T/slow.out")"
	check_eq "removed: the journal is empty" 0 "$(runs_left)"
fi

# --- db removed after a crash: recover says so and finishes ----------------
podman rm -f -t 0 db >/dev/null 2>&1
ctr_run db flbb sleep 100000 && dbpid=$(ctr_pid db) &&
	nsenter -t "$dbpid" -n ip link add eth0 type dummy &&
	nsenter -t "$dbpid" -n ip link set eth0 up
if crash slow; then
	podman rm -f -t 0 db >/dev/null
	out=$("$FAULTLINE" recover 2>&1)
	check_eq "removed after a crash: recover exits 0" 0 "$?"
	check_match "removed after a crash: recover says db's namespace is gone" \
		"nothing to revert: network namespace [0-9:]+ of container 'db'" "$out"
	check_eq "removed after a crash: the journal is empty" 0 "$(runs_left)"
fi
drill_file late "$DB" '    netem: { target: db, device: eth0, delay: 10ms }'
out=$("$FAULTLINE" plan "$T/late.yaml" 2>&1)
check_match "a removed container: plan says no runtime knows it" "container 'db': podman does not know it" "$out"
echo "# vm/container: $(($(date +%s) - t0)) s"
