#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# Container targets on the host, with a FAKE runtime: podman and docker
# here are stub scripts (put first on PATH) that answer "container inspect
# NAME" with JSON from $STUB/NAME.json, for a "container" that is a sleep
# this test starts in a network namespace and cgroups of its own.  The
# real runtime is in tests/vm/container.sh (this host's root lacks
# CAP_SYS_RESOURCE, so podman cannot start containers here).  Checked:
# validation, plan (what the container resolved to, the default runtime,
# not running, unknown), check running inside the container's namespace,
# and a container replaced between check and apply (reported, not chased).
source "$(dirname "$0")/../lib.sh"
[ "$(id -u)" = 0 ] || { skip "container" "needs root"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
STUB=$T/stub
mkdir -p "$STUB"
for rt in podman docker; do
	cat >"$STUB/$rt" <<EOF
#!/bin/sh
# A stub $rt for tests: not a container runtime.
[ "\$1 \$2" = "container inspect" ] || exit 125
f="$STUB/$rt-\$3.json"
[ -f "\$f" ] || { echo "Error: no such container \$3" >&2; exit 125; }
cat "\$f"
EOF
	chmod +x "$STUB/$rt"
done
export PATH=$STUB:$PATH
# answer RUNTIME NAME PID [ID] [RUNNING]: what the stub says of NAME.
answer() {
	local name=$2 id=${4:-0123456789abcdef0123456789abcdef} run=${5:-true}
	[ "$1" = docker ] && name=/$name
	printf '[{"Id":"%s","Name":"%s","State":{"Status":"%s","Running":%s,"Pid":%s}}]\n' \
		"$id" "$name" "$([ "$run" = true ] && echo running || echo exited)" \
		"$run" "$3" >"$STUB/$1-$2.json"
}

# The "container": a sleep in a network namespace with a device flct0 (a veth),
# in cgroups of its own (never the hierarchy's root, which faultline
# refuses to take for a container's).
NS=flct-$$
netns_add "$NS" && ip -n "$NS" link add flct0 type veth peer name flct1 ||
	{ notok "container: make the namespace"; exit 1; }
at_exit "ip netns del $NS"
cgs=()
for root in "$(memory_mount)" "$(unified_mount)"; do
	[ -n "$root" ] && [ -d "$root" ] || continue
	mkdir -p "$root/fltest-ct-$$" && cgs+=("$root/fltest-ct-$$")
done
[ ${#cgs[@]} -gt 0 ] || { skip "container" "no cgroup hierarchy (doctor: cgroups)"; exit 0; }
start_ctr() {
	ip netns exec "$NS" sleep 600 &
	ctr=$!
	at_exit "kill -9 $ctr 2>/dev/null"
	for cg in "${cgs[@]}"; do echo "$ctr" >"$cg/cgroup.procs"; done
}
start_ctr
at_exit 'sleep 0.2; for cg in "${cgs[@]}"; do rmdir "$cg"; done'
answer podman db "$ctr"

drill() { # FILE TARGET-MAP FAULT-BODY
	printf 'name: ct\nduration: %s\ntargets:\n  db: %s\nfaults:\n  - name: f\n%s\n' \
		"${DUR:-5s}" "$2" "$3" >"$1"
}

# --- validation needs no runtime -------------------------------------------
drill "$T/v.yaml" "{ container: db, runtime: podman }" '    netem: { target: db, device: flct0, delay: 10ms }'
check_status "validate: a container target, no runtime asked" 0 \
	env PATH=/usr/bin:/bin "$FAULTLINE" validate "$T/v.yaml"

# --- plan: what db resolved to ----------------------------------------------
plan=$("$FAULTLINE" plan --json "$T/v.yaml" 2>/dev/null)
check_eq "plan: db is a container" container "$(jq -r '.targets[0].kind' <<<"$plan")"
check_eq "plan: resolved through the runtime to its init pid" "podman $ctr" \
	"$(jq -r '.targets[0].container | "\(.runtime) \(.pid)"' <<<"$plan")"
check_eq "plan: its network namespace, by dev:ino" \
	"$(stat -L -c %d:%i /proc/$ctr/ns/net)" "$(jq -r '.targets[0].container.netns' <<<"$plan")"
check_match "plan: its own cgroup" "fltest-ct-$$\$" \
	"$(jq -r '.targets[0].container | .cgroup_unified, .cgroup_memory' <<<"$plan")"
text=$("$FAULTLINE" plan "$T/v.yaml" 2>/dev/null)
check_match "plan (text): the container, its id and init" \
	"db +container db \\(podman\\) = 0123456789ab, init pid $ctr" "$text"
check_match "plan (text): the fault acts in db's network namespace" \
	"in the network namespace of target 'db'" "$text"
# The check runs inside db's namespace, where flct0 is; not here.
check_eq "plan: netem's check looks at db's devices, not ours" "" \
	"$(jq -r '.faults[0].problem // ""' <<<"$plan" | grep -o 'flct0 does not exist')"

# --- default runtime: whichever knows the name ------------------------------
rm -f "$STUB/podman-db.json"
answer docker db "$ctr"
drill "$T/any.yaml" "{ container: db }" '    pause: { target: db }'
check_eq "plan: no runtime given, docker knows it" "docker db" \
	"$("$FAULTLINE" plan --json "$T/any.yaml" 2>/dev/null | jq -r '.targets[0].container | "\(.runtime) \(.name)"')"
rm -f "$STUB/docker-db.json"
out=$("$FAULTLINE" plan "$T/any.yaml" 2>&1); rc=$?
check_eq "plan: a container nobody knows (exit 3)" 3 "$rc"
check_match "plan: says neither runtime knows it" \
	"container 'db': neither runtime knows it \\(podman does not know it: Error: no such container db; docker does not" "$out"
answer podman db 0 "" false
out=$("$FAULTLINE" plan "$T/any.yaml" 2>&1)
check_match "plan: a stopped container is not running" \
	"container 'db' \\(podman 0123456789ab\\) is not running \\(exited\\)" "$out"

# --- replaced between check and apply: reported, not chased -----------------
answer podman db "$ctr"
DUR=6s drill "$T/r.yaml" "{ container: db, runtime: podman }" '    pause: { target: db }
    at: 3s
    for: 1s'
"$FAULTLINE" run --json "$T/r.yaml" >"$T/r.out" 2>&1 &
runner=$!
at_exit "kill -9 $runner 2>/dev/null"
# The timeline has started ("run"): the check is done ("start" comes
# before it).
wait_for 10 grep -q '"event":"run"' "$T/r.out"
old=$ctr
start_ctr
answer podman db "$ctr" fedcba9876543210fedcba9876543210
kill -9 "$old"; wait "$old" 2>/dev/null
wait "$runner"; rc=$?
check_eq "replaced: apply fails (exit 4)" 4 "$rc"
check_match "replaced: the run says db was replaced since the check" \
	"was replaced since the check: the name is now container fedcba987654" "$(cat "$T/r.out")"
check "replaced: the new container was not paused" \
	bash -c "! grep -q '\"event\":\"applied\"' '$T/r.out'"
check_eq "replaced: nothing left in the journal" 0 "$(runs_left)"
