#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# recover and network namespaces.  A record names the namespace its
# objects are in ("netns": "dev:ino"); recover, run from the host's
# namespace, finds it wherever something still holds it: a process in an
# UNNAMED namespace (unshare --net, as a container's), an open descriptor
# of a process elsewhere, a bind mount outside /run/netns.  Each time the
# runner and its guardian die by kill -9 with a partition active, and
# recover must revert it (exit 0, journal empty, both cls_bpf filters
# gone).  Once nothing holds the namespace any more it is gone with its
# filters: the record is done, recover says so and exits 0.  The same
# with a netem fault when the kernel has sch_netem.  Addresses are
# 10.88.0.0/24, inside the namespaces only.
source "$(dirname "$0")/../lib.sh"

[ "$(id -u)" = 0 ] || { skip "recover-netns" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "recover-netns: $FAULTLINE is built"; exit 1; }
for c in unshare nsenter jq; do
	command -v $c >/dev/null || { skip "recover-netns" "needs $c"; exit 0; }
done
export FAULTLINE_RUNDIR=$T/run
DEV=flrn$$

# Every process and mount the test made, undone at exit (a killed
# process that held a namespace alone takes the namespace along).
killme=()
cleanup() {
	local p
	umount "$T/ns" 2>/dev/null
	for p in "${killme[@]}"; do kill -9 "$p" 2>/dev/null; done
}
at_exit cleanup

# Until tests/lib.sh has them (h-build): wait_for, gone, runs_left.
declare -F wait_for >/dev/null || wait_for() { # SECONDS CMD...
	local i n=$(($1 * 20)); shift
	for ((i = 0; i < n; i++)); do "$@" && return 0; sleep 0.05; done
	"$@"
}
declare -F gone >/dev/null || gone() { ! kill -0 "$1" 2>/dev/null; }
declare -F runs_left >/dev/null || runs_left() {
	find "$FAULTLINE_RUNDIR" -mindepth 1 -maxdepth 1 -type d 2>/dev/null | wc -l
}
other_ns() { [ "$(readlink /proc/"$1"/ns/net)" != "$(readlink /proc/self/ns/net)" ]; }

# mkns: a new unnamed namespace, held by a sleep of ours ($holder), with
# a veth pair: 10.88.0.1/24 on $DEV, its peer up without an address.
# NS is the path the test reaches it by.
mkns() {
	unshare --net sleep 600 &
	holder=$!; killme+=("$holder")
	wait_for 2 other_ns "$holder" || return 1
	NS=/proc/$holder/ns/net
	nx ip link set lo up &&
	nx ip link add "$DEV" type veth peer name "${DEV}p" &&
	nx ip addr add 10.88.0.1/24 dev "$DEV" &&
	nx ip link set "$DEV" up && nx ip link set "${DEV}p" up
}
nx() { nsenter --net="$NS" "$@"; }
filters() { nx tc filter show dev "$DEV" "$1" 2>&1; }
both_filters() { [[ $(filters ingress) == *bpf* && $(filters egress) == *bpf* ]]; }
no_filters() { [ -z "$(filters ingress)$(filters egress)" ]; }

cat >"$T/split.yaml" <<'Y'
name: split
duration: 60s
faults:
  - name: split
    partition:
      groups: [[10.88.0.1], [10.88.0.2]]
Y
cat >"$T/delay.yaml" <<Y
name: delay
duration: 60s
faults:
  - name: delay
    netem:
      device: $DEV
      delay: 100ms
Y

# crash FILE NAME: run FILE inside the namespace until its fault is
# applied, then kill -9 the runner and its guardian (from run.json).
crash() {
	local file=$1 name=$2 rp gp
	# nsenter execs the runner: $! is its pid.  run.out is emptied
	# first, so that the last crash's "applied" is not read as this one's.
	: >"$T/run.out"
	nsenter --net="$NS" "$FAULTLINE" run --json "$file" >"$T/run.out" 2>&1 &
	rp=$!; killme+=("$rp")
	if ! wait_for 10 grep -q '"event":"applied"' "$T/run.out"; then
		notok "$name: the drill applies in the unnamed namespace"
		sed 's/^/#   | /' "$T/run.out" | head -20
		return 1
	fi
	gp=$(jq -r "select(.pid == $rp) | .guardian" "$FAULTLINE_RUNDIR"/*/run.json)
	[ -n "$gp" ] && [ "$gp" != 0 ] && killme+=("$gp")
	check "$name: the run has a guardian" test -n "$gp" -a "$gp" != 0
	kill_both "$rp" "$gp"
	wait "$rp" 2>/dev/null
	wait_for 2 gone "$gp"
	check "$name: runner and guardian are dead" gone "$gp"
	check_eq "$name: the record stays" 1 "$(runs_left)"
}

# recovered NAME: recover from the host's namespace reverts the crash.
recovered() {
	local name=$1 out rc
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "$name: recover from the host namespace exits 0" 0 "$rc"
	check_match "$name: and says it reverted the fault" \
		'fault .* reverted$' "$out"
	check_eq "$name: the journal is empty" 0 "$(runs_left)"
}

# ---- 1. A partition in an unnamed namespace, a process in it --------
if mkns; then
	crash "$T/split.yaml" "unnamed" &&
	check "unnamed: both cls_bpf filters are there after the crash" both_filters &&
	recovered "unnamed" &&
	check "unnamed: both cls_bpf filters are gone" no_filters
else
	notok "unnamed: make the namespace"
fi

# ---- 1b. Held by an open descriptor only (no process in it) ----------
# A process in our namespace holds it by an fd; the sleep in it goes.
if mkns && { sleep 600 7<"$NS" & }; then
	fdh=$!; killme+=("$fdh")
	# The redirection happens in the child: wait until it holds fd 7.
	wait_for 2 test -e /proc/$fdh/fd/7
	crash "$T/split.yaml" "fd"
	kill -9 "$holder"; wait "$holder" 2>/dev/null
	NS=/proc/$fdh/fd/7
	check "fd: both cls_bpf filters are there, held by fd 7 of $fdh" both_filters &&
	recovered "fd" &&
	check "fd: both cls_bpf filters are gone" no_filters
	kill -9 "$fdh"; wait "$fdh" 2>/dev/null
else
	notok "fd: make the namespace"
fi

# ---- 1c. Held by a bind mount outside /run/netns only ----------------
if mkns && touch "$T/ns" && mount --bind "$NS" "$T/ns"; then
	crash "$T/split.yaml" "mount"
	kill -9 "$holder"; wait "$holder" 2>/dev/null
	NS=$T/ns
	check "mount: both cls_bpf filters are there, held by $T/ns" both_filters &&
	recovered "mount" &&
	check "mount: both cls_bpf filters are gone" no_filters
	umount "$T/ns"
else
	notok "mount: make the namespace"
fi

# ---- 2. The namespace destroyed: the record is done -----------------
# gone_ns FILE NAME [--json]: crash FILE's drill, then end every process
# in the namespace, which takes it along; recover must say so and exit 0.
gone_ns() {
	local file=$1 name=$2 json=${3:-} out rc ino
	mkns || { notok "$name: make the namespace"; return; }
	ino=$(stat -L -c %i "$NS")
	crash "$file" "$name" || return
	kill -9 "$holder"; wait "$holder" 2>/dev/null
	check "$name: no process is left in the namespace" \
		test -z "$(find /proc/[0-9]*/ns/net -maxdepth 0 -printf '%l\n' 2>/dev/null | grep -F "[$ino]")"
	if [ -n "$json" ]; then
		out=$("$FAULTLINE" recover --json 2>"$T/recover.err"); rc=$?
	else
		out=$("$FAULTLINE" recover 2>&1); rc=$?
	fi
	check_eq "$name: recover exits 0" 0 "$rc"
	if [ -n "$json" ]; then
		check_eq "$name: --json lists the record as gone" 1 \
			"$(jq '.runs[0].gone | length' <<<"$out")"
		check_match "$name: --json says why" \
			"network namespace [0-9]+:$ino is gone" \
			"$(jq -r '.runs[0].gone[0].why' <<<"$out")"
		check_eq "$name: --json: ok, nothing failed" "true 0" \
			"$(jq -r '"\(.runs[0].ok) \(.runs[0].failed | length)"' <<<"$out")"
	else
		check_match "$name: recover says the namespace is gone" \
			"nothing to revert: network namespace [0-9]+:$ino is gone" "$out"
	fi
	check_eq "$name: the journal is empty" 0 "$(runs_left)"
	out=$("$FAULTLINE" recover 2>&1); rc=$?
	check_eq "$name: recover again exits 0" 0 "$rc"
	check_match "$name: with nothing to do" '^nothing to recover' "$out"
}
gone_ns "$T/split.yaml" "gone"
gone_ns "$T/split.yaml" "gone --json" --json

# ---- 3. The same with a netem fault ---------------------------------
netem=
if declare -F have_qdisc >/dev/null; then
	have_qdisc netem && netem=true
else
	netem=$("$FAULTLINE" doctor --json 2>/dev/null | jq -r '.qdiscs.netem.available')
fi
if [ "$netem" = true ]; then
	qdisc() { nx tc qdisc show dev "$DEV" 2>&1; }
	no_netem() { ! qdisc | grep -q netem; }
	if mkns; then
		crash "$T/delay.yaml" "netem" &&
		check_match "netem: the netem qdisc is there after the crash" \
			'qdisc netem' "$(qdisc)" &&
		recovered "netem" &&
		check "netem: the netem qdisc is gone" no_netem
	else
		notok "netem: make the namespace"
	fi
	gone_ns "$T/delay.yaml" "netem gone"
else
	skip "recover-netns: netem" "sch_netem (CONFIG_NET_SCH_NETEM)"
fi
