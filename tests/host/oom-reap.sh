#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The oom proof when the victim's parent reaps it at once, on this host's
# cgroup v1 memory hierarchy: a hog started by a shell, one under a
# waitpid(-1) loop like systemd's or a container shim's
# (tests/helpers/reaper), and a command target (faultline's runner
# reaps), several runs each.  Every kill must be proven from the exit
# status captured as the victim exits, every run exit 0.  (Kernels from
# 6.15 on keep the status in pidfs too; the report must still say it was
# captured.)  tests/vm/oom-reap.sh runs the same under the stock 6.1,
# where the zombie is the only other witness.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
export FAULTLINE_RUNDIR=$T/run
MEMHOG=$HELPERS/memhog
REAPER=$HELPERS/reaper
RUNS=${OOM_REAP_RUNS:-4}
mem=$(memory_mount)
if [ "$(memory_mode)" != v1 ]; then
	skip "oom-reap" "memory controller not on cgroup v1 (cgroups.memory.mode; tests/vm/oom-reap.sh covers v2)"
	exit 0
fi
[ -x "$MEMHOG" ] && [ -x "$REAPER" ] || { skip "oom-reap" "tests/helpers are not built (make tests)"; exit 0; }
[ -r /dev/kmsg ] || { skip "oom-reap" "cannot read /dev/kmsg"; exit 0; }
have_bpf tp_btf || { skip "oom-reap" "no tp_btf programs (doctor: bpf.tp_btf): the exit capture cannot load"; exit 0; }

top=$mem/fltest-oom-$$
mkdir "$top" || { notok "oom-reap: make test cgroups"; exit 0; }
at_exit cleanup_cg

# v1 kills only on the target's own charges: the hog keeps allocating.
hogargs=(--size 900M --step 4M --every 50)
oom_reaped shell "$RUNS" "${hogargs[@]}"
oom_reaped reaper "$RUNS" "${hogargs[@]}"
oom_reaped command "$RUNS" "${hogargs[@]}"
