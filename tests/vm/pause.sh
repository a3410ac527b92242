#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# The pause fault under Debian's stock kernel on pure cgroup v2: every
# check of tests/host/pause.sh (a cgroup frozen with cgroup.freeze, a
# command's scratch cgroup, a process tree stopped with SIGSTOP, the
# refusals, the guardian's and recover's thaw, the scan), where the v1
# freezer is absent and the v2 hierarchy is the root.
[ "${VMTEST:-}" = 1 ] || { echo "skip - vm/pause # run it under tools/vmtest"; exit 0; }
exec bash "$(dirname "$0")/../host/pause.sh"
