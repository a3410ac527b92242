#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The self-chaos test on this host (issue 8): seeded trials that kill -9,
# SIGINT twice, or delete the journal of a drill using partition, oom (a
# command in scratch cgroups, and a cgroup target), syscall faults and a
# kill of a command that is started again (restart: true) at a random
# moment, then prove nothing is left (tests/chaos-lib.sh).
# FAULTLINE_CHAOS_SEED and FAULTLINE_CHAOS_TRIALS replay or lengthen it.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/chaos-lib.sh"

[ "$(id -u)" = 0 ] || { skip "selfchaos" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "selfchaos: $FAULTLINE is built"; exit 1; }
[ -x "$MEMHOG" ] || { skip "selfchaos" "tests/helpers/memhog is not built (make tests)"; exit 0; }
command -v bpftool >/dev/null || { skip "selfchaos" "no bpftool"; exit 0; }
CHAOS_NAME=host
CHAOS_MODE=$(memory_mode) CHAOS_MEM=$(memory_mount) CHAOS_V2=$(unified_mount)
case $CHAOS_MODE in
v1 | v2) ;;
*) skip "selfchaos" "no memory controller mounted (cgroups.memory.mode)"; exit 0 ;;
esac
[ -n "$CHAOS_V2" ] ||
	{ skip "selfchaos" "no cgroup v2 hierarchy (cgroups.unified_mount)"; exit 0; }
CHAOS_NETEM=0
have_qdisc netem && CHAOS_NETEM=1
[ $CHAOS_NETEM = 1 ] || echo "# selfchaos: no netem faults: $(netem_why)"
chaos_main
chaos_repeat
