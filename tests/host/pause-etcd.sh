#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The pause fault with a real program: a 3-member etcd cluster on
# loopback ports in a network namespace the test makes, each member in a
# cgroup of its own.  faultline freezes the leader's cgroup: the other
# two elect a new leader (etcdctl endpoint status shows it) and keep
# taking writes; after the thaw the old leader rejoins as a follower of
# the new one.  Election timeouts are short (etcd flags) to keep it quick.
source "$(dirname "$0")/../lib.sh"
export FAULTLINE_RUNDIR=$T/run
[ "$(id -u)" = 0 ] || { skip "pause etcd" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "pause etcd: $FAULTLINE is built"; exit 1; }
command -v etcd >/dev/null && command -v etcdctl >/dev/null ||
	{ skip "pause etcd" "no etcd/etcdctl (Debian packages etcd-server, etcd-client)"; exit 0; }
# The freezer to hold the members in: v2 where mounted, else v1's.
root=$(unified_mount) ff=cgroup.freeze
if [ -z "$root" ]; then
	[ "$(fact cgroups.controllers.freezer.mode)" = v1 ] &&
		root=$(fact_path cgroups.controllers.freezer.mount) ff=freezer.state
fi
[ -n "$root" ] || { skip "pause etcd" "no cgroup freezer (cgroups.unified_mount, cgroups.controllers.freezer)"; exit 0; }

ns=flt-etcd-$$
top=$root/fltest-etcd-$$
ip netns add "$ns" || { notok "pause etcd: make the namespace"; exit 1; }
at_exit "ip netns del $ns"
ip -n "$ns" link set lo up
mkdir "$top" || { notok "pause etcd: make $top"; exit 1; }
at_exit "rmdir $top/m1 $top/m2 $top/m3 $top"
members=()
at_exit 'for p in "${members[@]}"; do kill -9 $p; done; for m in 1 2 3; do echo 0 >'"$top"'/m$m/cgroup.freeze; echo THAWED >'"$top"'/m$m/freezer.state; done; sleep 0.5'

cluster=m1=http://127.0.0.1:23801,m2=http://127.0.0.1:23802,m3=http://127.0.0.1:23803
for m in 1 2 3; do
	mkdir "$top/m$m"
	# Into the cgroup first: ip netns exec mounts a sysfs of its own.
	bash -c 'echo $$ >"$1/cgroup.procs"; shift; exec "$@"' _ "$top/m$m" \
		ip netns exec "$ns" etcd --name "m$m" --data-dir "$T/m$m" \
		--listen-peer-urls "http://127.0.0.1:2380$m" \
		--initial-advertise-peer-urls "http://127.0.0.1:2380$m" \
		--listen-client-urls "http://127.0.0.1:2379$m" \
		--advertise-client-urls "http://127.0.0.1:2379$m" \
		--initial-cluster "$cluster" --initial-cluster-state new \
		--heartbeat-interval 50 --election-timeout 500 \
		>"$T/m$m.log" 2>&1 &
	members+=($!)
done

ctl() { ip netns exec "$ns" etcdctl --dial-timeout=1s --command-timeout=2s "$@"; }
ep() { echo "127.0.0.1:2379$1"; }
# status M: "member_id leader_id term" from member M's own view.
status() {
	ctl --endpoints="$(ep "$1")" endpoint status -w json 2>/dev/null | python3 -c '
import json, sys
s = json.load(sys.stdin)[0]["Status"]
# etcdctl 3.4 writes raftTerm; later ones raft_term.
print(s["header"]["member_id"], s["leader"], s.get("raftTerm", s.get("raft_term")))' 2>/dev/null
}
healthy() { ctl --endpoints="$(ep 1),$(ep 2),$(ep 3)" endpoint health >/dev/null 2>&1; }
wait_for 30 healthy
check "etcd: the 3-member cluster is healthy" healthy
# The leader: the member whose own id is the leader's id.
leader=
for m in 1 2 3; do
	read -r id lid term <<<"$(status $m)"
	[ -n "$id" ] && [ "$id" = "$lid" ] && leader=$m old_id=$id term0=$term
done
[ -n "$leader" ] || { notok "etcd: find the leader"; exit 1; }
echo "# fixture: the leader is m$leader ($old_id), term $term0"
others=$(echo 1 2 3 | tr ' ' '\n' | grep -vx "$leader" | tr '\n' ' ')

cat >"$T/etcd.yaml" <<YAML
name: etcd-leader-pause
duration: 12s
targets:
  leader: { cgroup: $top/m$leader }
faults:
  - name: hang-leader
    pause: { target: leader }
    at: 500ms
    for: 10s
YAML
"$FAULTLINE" run --json --report "$T/etcd.json" "$T/etcd.yaml" >"$T/etcd.out" 2>&1 &
runner=$!
wait_for 5 grep -qs '"event":"applied"' "$T/etcd.out"
check_match "etcd: the leader's cgroup is frozen" "1|FROZEN" "$(cat "$top/m$leader/$ff")"
silent() { ! quiet ctl --endpoints="$(ep "$leader")" get fltest-key --consistency=s; }
check "etcd: the frozen leader does not answer" silent
# new_leader: both others agree on a leader that is not the old one.
new_leader() {
	local m a=() id lid term
	for m in $others; do
		read -r id lid term <<<"$(status "$m")"
		[ -n "$lid" ] && [ "$lid" != 0 ] && [ "$lid" != "$old_id" ] || return 1
		a+=("$lid")
	done
	[ "${a[0]}" = "${a[1]}" ] && new_id=${a[0]} new_term=$term
}
wait_for 4 new_leader
check "etcd: the other two elect a new leader while the old one is frozen" new_leader
check "etcd: in a later term" test "${new_term:-0}" -gt "$term0"
others_ep=$(for m in $others; do printf '%s,' "$(ep "$m")"; done)
check "etcd: the cluster takes writes meanwhile" \
	quiet ctl --endpoints="${others_ep%,}" put fltest-key during-pause
wait "$runner"; rc=$?
check_eq "etcd: run exits 0" 0 "$rc"
check_match "etcd: the report says the leader was frozen and thawed" \
	'"processes_frozen": *1,.*"held": *true.*"thawed": *true' "$(tr -d '\n' <"$T/etcd.json")"
# follower: the old leader answers and follows the new one.
follower() {
	local id lid term
	read -r id lid term <<<"$(status "$leader")"
	[ "$id" = "$old_id" ] && [ -n "$lid" ] && [ "$lid" != "$old_id" ] && [ "$lid" != 0 ]
}
wait_for 10 follower
check "etcd: after the thaw the old leader rejoins as a follower" follower
check_eq "etcd: and it has the write made while it was frozen" during-pause \
	"$(ctl --endpoints="$(ep "$leader")" get fltest-key --print-value-only --consistency=s 2>/dev/null)"
check "etcd: no journal left" no_runs
