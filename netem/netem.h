/* SPDX-License-Identifier: GPL-2.0-only */
/* netem/: network degradation and partitions over rtnetlink. */
#ifndef FAULTLINE_NETEM_H
#define FAULTLINE_NETEM_H

#include "core/faultline.h"

extern const struct fl_engine netem_engine;
extern const struct fl_engine partition_engine;
extern const struct fl_engine link_engine;

/*
 * faultline run/plan --as GROUP: the partition group (1-based) this host
 * takes, instead of the one its addresses give; 0: from the addresses.
 */
extern int netem_partition_as;

/*
 * The names of what netem makes, which a leftover scan looks for: ifb
 * devices "fl-ifb-<hash>", and the programs of netem/partition.bpf.c,
 * every one named part_*.
 */
#define NETEM_IFB_PREFIX	"fl-ifb-"
#define NETEM_PROG_PREFIX	"part_"
/* The program that marks a clsact qdisc faultline added. */
#define NETEM_MARK_PROG		"part_mark"

/*
 * Leftover scan, in every network namespace this process can reach: ifb
 * devices, qdiscs with faultline's handles, and cls_bpf filters at clsact
 * running one of faultline's programs (their ids go to f->progs).
 */
void netem_scan_leftovers(struct fl_found *f);

/*
 * Can this kernel create a qdisc (or an ifb device) of this kind?  Tried
 * for real in a throwaway network namespace, once per process: 1 yes,
 * 0 no, -errno unknown, with the reason in why.
 */
int netem_has_qdisc(const char *kind, char *why, size_t len);

#endif
