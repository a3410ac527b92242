#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2 --mem 1G --tcg-single
# The self-chaos test under the stock kernel (issue 8): the host test's
# trials (tests/chaos-lib.sh) with netem added to the drill, on pure
# cgroup v2, where the syscall fault may take the LSM route.  Its own boot
# (the options line differs from oom.sh's), as it takes a few minutes.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/chaos-lib.sh"

[ "${VMTEST:-}" = 1 ] || { skip "vm/selfchaos" "run it under tools/vmtest"; exit 0; }
[ -x "$MEMHOG" ] || { skip "vm/selfchaos" "tests/helpers/memhog is not built (make tests)"; exit 0; }
command -v bpftool >/dev/null || { skip "vm/selfchaos" "no bpftool"; exit 0; }
CHAOS_NAME=vm
CHAOS_V2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
CHAOS_MEM=$CHAOS_V2 CHAOS_MODE=v2
grep -qw memory "$CHAOS_V2/cgroup.controllers" 2>/dev/null ||
	{ notok "vm/selfchaos: cgroup v2 has the memory controller"; exit 0; }
echo +memory >"$CHAOS_V2/cgroup.subtree_control"
CHAOS_NETEM=0
have_qdisc netem && CHAOS_NETEM=1
[ $CHAOS_NETEM = 1 ] || notok "vm/selfchaos: netem is available under the stock kernel"
chaos_main
# Under TCG a run's events come late: a slower pace keeps each kill
# at the moment it means.
CHAOS_REP_EVERY=1500 CHAOS_REP_FOR=600
chaos_repeat
