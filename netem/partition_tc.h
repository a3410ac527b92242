/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * What the partition's apply (netem/partition_bpf.c) and its revert
 * (netem/partition_revert.c) both read of a device's clsact.
 */
#ifndef FAULTLINE_PARTITION_TC_H
#define FAULTLINE_PARTITION_TC_H

#include <stddef.h>
#include <bpf/libbpf.h>

/* 1 with its kind ("clsact", "ingress") when ifindex has one, 0 if not. */
int part_clsact_kind(int ifindex, char *kind, size_t len);
/* The program id at the mark's slot of ifindex's clsact, or 0. */
__u32 part_mark_slot(int ifindex);
/* The program id of faultline's mark on ifindex's clsact, or 0. */
__u32 part_mark_id(int ifindex);
/* Which hook a record's direction ("egress", "ingress") names. */
enum bpf_tc_attach_point part_hook_of(const char *dir);

#endif
