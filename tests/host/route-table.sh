#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The syscall fault's route table (faultline.yaml(5), docs/design.md)
# against doctor and plan on this kernel: the column whose BPF feature
# rows match what doctor reports (a skip naming the features when none
# does).  The VM tests check the stock and fault-injection columns.
source "$(dirname "$0")/../lib.sh"
[ -x "$FAULTLINE" ] || { notok "route-table: $FAULTLINE is built"; exit 0; }
python3 "$SRC/tests/route_table.py"
