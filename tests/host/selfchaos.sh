#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The self-chaos test on this host (issue 8): seeded trials that kill -9,
# SIGINT twice, or delete the journal of a drill using partition, oom (a
# command in scratch cgroups, and a cgroup target) and syscall faults at a
# random moment, then prove nothing is left (tests/chaos-lib.sh).
# FAULTLINE_CHAOS_SEED and FAULTLINE_CHAOS_TRIALS replay or lengthen it.
source "$(dirname "$0")/../lib.sh"
source "$SRC/tests/chaos-lib.sh"

[ "$(id -u)" = 0 ] || { skip "selfchaos" "needs root"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "selfchaos: $FAULTLINE is built"; exit 1; }
[ -x "$MEMHOG" ] || { skip "selfchaos" "tests/helpers/memhog is not built (make tests)"; exit 0; }
command -v bpftool >/dev/null || { skip "selfchaos" "no bpftool"; exit 0; }
CHAOS_NAME=host
CHAOS_MEM=$(awk '$3 == "cgroup" && $4 ~ /(^|,)memory(,|$)/ {print $2; exit}' /proc/mounts)
CHAOS_V2=$(awk '$3 == "cgroup2" {print $2; exit}' /proc/mounts)
CHAOS_MODE=v1
if [ -z "$CHAOS_MEM" ]; then
	CHAOS_MEM=$CHAOS_V2 CHAOS_MODE=v2
fi
[ -n "$CHAOS_MEM" ] && [ -n "$CHAOS_V2" ] ||
	{ skip "selfchaos" "no memory controller or no cgroup v2 mount"; exit 0; }
CHAOS_NETEM=0
"$FAULTLINE" doctor 2>/dev/null | grep -Eq '^ *netem +yes' && CHAOS_NETEM=1
chaos_main
