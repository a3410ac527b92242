#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# The oom proof when the victim's parent reaps it at once, under the
# stock 6.1 (no PIDFD_INFO_EXIT: without the exit capture only the zombie
# tells how the victim died, and the parent takes it away first): a hog
# started by a shell, one under a waitpid(-1) loop like systemd's or a
# container shim's (tests/helpers/reaper), and a command target
# (faultline's runner reaps), OOM_REAP_RUNS (8) runs each.  Every kill
# must be proven from the exit status captured as the victim exits,
# every run exit 0.
source "$(dirname "$0")/../lib.sh"
source "$(dirname "$0")/../oom-lib.sh"
# Only in the throwaway guest: this test changes the machine.
[ "${VMTEST:-}" = 1 ] || { skip "vm/oom-reap" "run it under tools/vmtest"; exit 0; }
export FAULTLINE_RUNDIR=$T/run
MEMHOG=$HELPERS/memhog
REAPER=$HELPERS/reaper
RUNS=${OOM_REAP_RUNS:-8}
mem=/sys/fs/cgroup
[ -x "$MEMHOG" ] && [ -x "$REAPER" ] || { notok "vm/oom-reap: tests/helpers are not built (make tests)"; exit 0; }
grep -qw memory $mem/cgroup.controllers || { notok "vm/oom-reap: no v2 memory controller"; exit 0; }
have_bpf tp_btf || { skip "vm/oom-reap" "no tp_btf programs (doctor: bpf.tp_btf): the exit capture cannot load"; exit 0; }
echo +memory >$mem/cgroup.subtree_control

top=$mem/fltest-oom-$$
mkdir "$top" || { notok "vm/oom-reap: make test cgroups"; exit 0; }
at_exit cleanup_cg
echo +memory >"$top/cgroup.subtree_control"

# v2 kills in the writer's context: an idle hog will do.
oom_reaped shell "$RUNS" --size 64M
oom_reaped reaper "$RUNS" --size 64M
oom_reaped command "$RUNS" --size 64M
