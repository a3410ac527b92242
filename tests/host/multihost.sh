#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Multi-host drills (issue 7): three namespace hosts, flmh-a, -b and -c,
# each with its own hostname (a UTS namespace), on a bridge in a fourth
# namespace, run the same partition file with one common --start-at.
# Their merged report must show the partition applied on all three within
# 100 ms.  Also: bad --start-at values are refused with exit 2, Ctrl-C in
# the countdown exits 130 with nothing applied, and the Ansible playbook of
# docs/drills.md passes ansible-playbook --syntax-check.  Addresses are
# 10.79.0.0/24, inside the namespaces only.
source "$(dirname "$0")/../lib.sh"

# The playbook first: it needs neither root nor a build.
if command -v ansible-playbook >/dev/null 2>&1; then
	out=$(cd "$SRC" && ANSIBLE_LOCAL_TEMP=$T/ansible-tmp \
	      ansible-playbook --syntax-check tools/ansible/drill.yml \
	      -i tools/ansible/inventory.example 2>&1)
	rc=$?
	check_eq "multihost: ansible-playbook --syntax-check tools/ansible/drill.yml" 0 "$rc"
	[ $rc = 0 ] || printf '%s\n' "$out" | sed 's/^/#   /' | tail -20
	# The check must be able to fail: a broken copy of the playbook.
	sed 's/^\(  *\)ansible.builtin.command:/\1ansible.builtin.no_such_module:/' \
		"$SRC/tools/ansible/drill.yml" >"$T/broken.yml"
	(cd "$SRC" && ANSIBLE_LOCAL_TEMP=$T/ansible-tmp ansible-playbook \
		--syntax-check "$T/broken.yml" -i tools/ansible/inventory.example) \
		>/dev/null 2>&1
	check_eq "multihost: the syntax check notices a broken playbook" 4 "$?"
else
	skip "multihost: ansible-playbook --syntax-check" "ansible-playbook is not installed (ansible-core, tools/deps)"
fi

[ "$(id -u)" = 0 ] || { skip "multihost" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "multihost: $FAULTLINE is built"; exit 1; }
command -v jq >/dev/null || { notok "multihost: jq is installed (tools/deps)"; exit 1; }
command -v unshare >/dev/null || { notok "multihost: unshare is installed"; exit 1; }
command -v busybox >/dev/null || { notok "multihost: busybox is installed (ping; tools/deps)"; exit 1; }
export FAULTLINE_RUNDIR=$T/run

# Bad --start-at values: exit 2, a message naming the option, before the
# file is even read (it does not exist).
for v in +25h 2000-01-01T00:00:00Z tomorrow 2026-02-30T10:00:00Z \
	 "2026-11-28T10:00:00+1:00" +; do
	out=$("$FAULTLINE" run --start-at "$v" "$T/none.yaml" 2>&1)
	check_eq "multihost: --start-at '$v' is refused (exit 2)" 2 "$?"
	check_match "multihost: ... naming --start-at" "^faultline run: --start-at '" "$out"
done
# Good values get past the option: the missing file is the only error.
for v in +2s +1m "$(date -d '+90 sec' +%Y-%m-%dT%H:%M:%S%:z)" \
	 "$(date -u -d '+90 sec' +%Y-%m-%dt%H:%M:%S.123456789z)"; do
	out=$("$FAULTLINE" run --start-at "$v" "$T/none.yaml" 2>&1)
	check_match "multihost: --start-at '$v' is accepted" "none.yaml: cannot open" "$out"
done
# Half a second late is still on time: taken just before the run (the
# loop's values are all taken before its first run).
v=$(date -u -d '-0.5 sec' +%Y-%m-%dT%H:%M:%S.%3NZ)
out=$("$FAULTLINE" run --start-at "$v" "$T/none.yaml" 2>&1)
check_match "multihost: --start-at '$v' (0.5 s ago) is accepted" "none.yaml: cannot open" "$out"
out=$("$FAULTLINE" run --start-at 2000-01-01T00:00:00Z "$T/none.yaml" 2>&1)
check_match "multihost: a past instant says so" "in the past" "$out"
out=$("$FAULTLINE" run --start-at +25h "$T/none.yaml" 2>&1)
check_match "multihost: more than 24h ahead says so" "more than 24h ahead" "$out"

p=flmh-$$
br=$p-br
hosts=(a b c)
pids=()
cleanup() {
	local x
	for x in "${pids[@]}"; do kill -INT "$x" 2>/dev/null; done
	sleep 0.5
	for x in "${hosts[@]}" br; do ip netns del "$p-$x" 2>/dev/null; done
}
at_exit cleanup
ip netns add "$br" && ip -n "$br" link add br0 type bridge &&
	ip -n "$br" link set br0 up ||
	{ notok "multihost: make the bridge namespace"; exit 1; }
i=0
for h in "${hosts[@]}"; do
	i=$((i + 1))
	ip netns add "$p-$h" &&
	ip -n "$p-$h" link add eth0 type veth peer name "v$h" netns "$br" &&
	ip -n "$br" link set "v$h" master br0 up &&
	ip -n "$p-$h" addr add "10.79.0.$i/24" dev eth0 &&
	ip -n "$p-$h" link set eth0 up &&
	ip -n "$p-$h" link set lo up ||
		{ notok "multihost: make host $h"; exit 1; }
done
# Wait for the bridge to forward (its ports start in "listening"? no STP:
# at once, but the veths need a moment to come up).
for _ in $(seq 50); do
	ip netns exec "$p-a" busybox ping -c1 -W1 10.79.0.3 >/dev/null 2>&1 && break
	sleep 0.1
done
check "multihost: a reaches c before the drill" \
	bash -c "ip netns exec $p-a busybox ping -c1 -W1 10.79.0.3 >/dev/null"

cat >"$T/split.yaml" <<'Y'
name: split-three
duration: 3s
faults:
  - name: split
    partition:
      groups: [[10.79.0.1], [10.79.0.2, 10.79.0.3]]
Y

# host NAME ARGS... &: faultline in that namespace host, with its own
# hostname.  It execs, so that $! is faultline itself: call it only in the
# background.
host() {
	local h=$1
	shift
	exec ip netns exec "$p-$h" unshare --uts sh -c \
		'hostname "$0" && exec "$@"' "flmh-$h" "$FAULTLINE" "$@"
}

# One instant for all three, computed once, as the playbook does.
start=$(date -u -d '+4 sec' +%Y-%m-%dT%H:%M:%S.%3NZ)
for h in "${hosts[@]}"; do
	host "$h" run --json --start-at "$start" --report "$T/$h.json" \
		"$T/split.yaml" >"$T/$h.out" 2>&1 &
	pids+=($!)
done
# Countdown: every host is waiting for the instant, nothing applied yet.
sleep 2
check_eq "multihost: all three show the countdown" 3 \
	"$(grep -l '"event":"waiting"' "$T"/{a,b,c}.out | wc -l)"
check_eq "multihost: nothing is applied during the countdown" 0 \
	"$(grep -l '"event":"applied"' "$T"/{a,b,c}.out | wc -l)"
check_match "multihost: the waiting event names the instant" \
	"\"start_at\":\"$start\"" "$(cat "$T/a.out")"
# During the drill: a is cut off from b and c, which still reach each other.
for _ in $(seq 60); do
	grep -q '"event":"applied"' "$T/a.out" && break
	sleep 0.1
done
sleep 0.3
check "multihost: during the drill a cannot reach b" \
	bash -c "! ip netns exec $p-a busybox ping -c1 -W1 10.79.0.2 >/dev/null 2>&1"
check "multihost: during the drill b still reaches c" \
	bash -c "ip netns exec $p-b busybox ping -c1 -W1 10.79.0.3 >/dev/null"
i=0
for h in "${hosts[@]}"; do
	wait "${pids[$i]}"
	check_eq "multihost: host $h's drill exits 0" 0 "$?"
	i=$((i + 1))
done
pids=()
for h in "${hosts[@]}"; do
	check_eq "multihost: $h's report has its hostname" "flmh-$h" \
		"$(jq -r .host "$T/$h.json")"
	check_eq "multihost: $h's report has the start instant" "$start" \
		"$(jq -r .start_at "$T/$h.json")"
done
check_eq "multihost: no run is left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
check_eq "multihost: no filter is left in a" "" \
	"$(ip netns exec "$p-a" tc filter show dev eth0 egress 2>/dev/null)"

# Independently of merge: each host's timeline began within 100 ms of the
# instant, and the partition's apply instants are within 100 ms.
at=$(date -u -d "$start" +%s.%N)
late=$(jq -s --argjson at "$at" '[.[] | .started_unix - $at |
	if . < 0 then -. else . end] | max * 1000 | floor' "$T"/{a,b,c}.json)
check "multihost: every host started within 100 ms of the instant ($late ms)" \
	[ "${late:-999}" -lt 100 ]
spread=$(jq -s '[.[] | .started_unix + (.faults[] | select(.name == "split")
	  | .applied_t)] | (max - min) * 1000' "$T"/{a,b,c}.json)
check "multihost: the partition applied on all three within 100 ms ($spread ms)" \
	awk -v s="$spread" 'BEGIN { exit !(s != "" && s >= 0 && s < 100) }'

# The merge.
out=$("$FAULTLINE" report merge --json "$T/m.json" --svg "$T/m.svg" \
	"$T"/{a,b,c}.json 2>&1)
check_eq "multihost: report merge exits 0" 0 "$?"
check_match "multihost: the summary gives the partition's spread" \
	"^  fault split: active on 3 hosts within [0-9.]+ ms" "$out"
check_eq "multihost: the merged report has the three hosts" \
	"flmh-a flmh-b flmh-c" "$(jq -r '[.hosts[].host] | join(" ")' "$T/m.json")"
mspread=$(jq '.spread[] | select(.name == "split") | .apply_spread_ms' "$T/m.json")
check "multihost: merge's spread ($mspread ms) is the one computed here ($spread ms)" \
	awk -v a="$mspread" -v b="$spread" \
	'BEGIN { d = a - b; exit !(a != "" && d < 1 && d > -1) }'
check_eq "multihost: the common base is the earliest start" 0 \
	"$(jq '[.hosts[].offset] | min' "$T/m.json")"
if command -v xmllint >/dev/null; then
	check "multihost: the merged SVG is well-formed XML" xmllint --noout "$T/m.svg"
	n=$(xmllint --xpath 'count(//*[local-name()="g"][@class="host"])' "$T/m.svg" 2>/dev/null)
	check_eq "multihost: the merged SVG has 3 host groups" 3 "$n"
else
	skip "multihost: the merged SVG is well-formed" "xmllint is not installed (libxml2-utils)"
fi
out=$("$FAULTLINE" report "$T/m.json" 2>&1)
check_match "multihost: report shows a merged report's summary again" \
	"^merged 3 reports of drill split-three" "$out"

# The spread check must be able to fail: b's report 0.5s late.
jq '.started_unix += 0.5' "$T/b.json" >"$T/b-late.json"
out=$("$FAULTLINE" report merge --json - "$T/a.json" "$T/b-late.json" \
	"$T/c.json" 2>/dev/null)
late=$(jq '.spread[] | select(.name == "split") | .apply_spread_ms' <<<"$out")
check "multihost: a host 500 ms late shows as a spread of about 500 ms ($late)" \
	awk -v s="$late" 'BEGIN { exit !(s != "" && s > 400 && s < 600) }'

# Not reports: named with the reason, exit 2, nothing written.
echo '{"hello": 1}' >"$T/x.json"
echo 'not json' >"$T/y.json"
out=$("$FAULTLINE" report merge --json "$T/bad.json" "$T/a.json" \
	"$T/x.json" "$T/y.json" "$T/m.json" 2>&1)
check_eq "multihost: merging a non-report exits 2" 2 "$?"
check_match "multihost: ... naming the file and why" \
	"x.json: not a faultline report \(no faults array\)" "$out"
check_match "multihost: ... every bad file" "y.json: not a faultline report" "$out"
check_match "multihost: ... a merged report is not a host's" \
	"m.json: not a faultline report \(a merged report already" "$out"
check "multihost: ... and nothing is written" [ ! -e "$T/bad.json" ]

# Ctrl-C during the countdown: exit 130, the fault never applied.
host a run --json --start-at +20s --report "$T/int.json" "$T/split.yaml" \
	>"$T/int.out" 2>&1 &
pid=$!
pids=($pid)
for _ in $(seq 100); do
	grep -q '"event":"waiting"' "$T/int.out" && break
	sleep 0.05
done
kill -INT "$pid"
wait "$pid"
check_eq "multihost: SIGINT in the countdown exits 130" 130 "$?"
pids=()
check_match "multihost: ... saying nothing was applied" \
	'"action":"cancel"' "$(cat "$T/int.out")"
check_eq "multihost: ... the partition stayed pending" pending \
	"$(jq -r '.faults[0].state' "$T/int.json")"
check "multihost: ... no applied event" \
	bash -c "! grep -q '\"event\":\"applied\"' $T/int.out"
check_eq "multihost: ... no filter in a" "" \
	"$(ip netns exec "$p-a" tc filter show dev eth0 egress 2>/dev/null)"
check_eq "multihost: ... no run left" "" "$(ls "$FAULTLINE_RUNDIR" 2>/dev/null)"
