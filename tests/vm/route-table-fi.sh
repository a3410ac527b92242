#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# vmtest: --kernel fault-injection
# The syscall fault's route table (faultline.yaml(5), docs/design.md)
# against doctor and plan under the fault-injection kernel: its column,
# fault-injection-6.1, must hold here.
source "$(dirname "$0")/../lib.sh"
[ "${VMTEST:-}" = 1 ] || { skip "vm/route-table-fi" "run it under tools/vmtest --kernel fault-injection"; exit 0; }
[ -x "$FAULTLINE" ] || { notok "route-table: $FAULTLINE is built"; exit 0; }
python3 "$SRC/tests/route_table.py" --column fault-injection-6.1
