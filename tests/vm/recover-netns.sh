#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# tests/host/recover-netns.sh under the stock kernel, which has sch_netem:
# its netem branch (a netem fault in an unnamed network namespace,
# recovered from the host's, and after the namespace is gone) runs here.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/recover-netns" "run it under tools/vmtest"; exit 0; }
bash "$SRC/tests/host/recover-netns.sh"
