#!/usr/bin/env bash
# SPDX-License-Identifier: GPL-2.0-only
# The kernel's BTF at most once per process under the stock kernel, where
# doctor also probes the BPF LSM and fmod_ret, and the run's syscall fault
# takes the LSM route: every check of tests/host/btf-once.sh.  Under TCG a
# parse of the kernel's BTF takes about a second, once per object before.
[ "${VMTEST:-}" = 1 ] || { echo "skip - vm/btf-once # run it under tools/vmtest"; exit 0; }
exec bash "$(dirname "$0")/../host/btf-once.sh"
