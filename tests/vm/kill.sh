#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --cgroup v2
# The kill fault under Debian's stock kernel on pure cgroup v2: every
# check of tests/host/kill.sh (a pid and its tree, a cgroup's processes
# with each pick, a command started again at each occurrence, SIGTERM
# handled and ignored, the proof through tp_btf, the proc connector and
# none, the refusals, kill -9 of the runner and of both), where the v2
# hierarchy is the root and holds the command's scratch cgroup.
[ "${VMTEST:-}" = 1 ] || { echo "skip - vm/kill # run it under tools/vmtest"; exit 0; }
exec bash "$(dirname "$0")/../host/kill.sh"
