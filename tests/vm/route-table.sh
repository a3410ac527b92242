#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The syscall fault's route table (faultline.yaml(5), docs/design.md)
# against doctor and plan under Debian's stock 6.1: its column,
# debian-6.1, must hold here.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/route-table" "run it under tools/vmtest"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "route-table: $FAULTLINE is built"; exit 0; }
python3 "$SRC/tests/route_table.py" --column debian-6.1
