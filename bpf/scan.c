// SPDX-License-Identifier: GPL-2.0-only
/*
 * Leftover scan of BPF programs: faultline's programs are told by name
 * (sf_* of bpf/sysfault.bpf.c, part_* of netem/partition.bpf.c), since
 * with the journal gone nothing else says whose they are.
 */
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>
#include <bpf/bpf.h>

#include "bpf/bpfault.h"
#include "netem/netem.h"

int bpfault_prog_name(uint32_t id, char *buf, size_t len, uint32_t *type)
{
	struct bpf_prog_info info = {};
	__u32 ilen = sizeof(info);
	int fd = bpf_prog_get_fd_by_id(id), ret;

	if (fd < 0)
		return -errno;
	ret = bpf_obj_get_info_by_fd(fd, &info, &ilen);
	close(fd);
	if (ret)
		return ret;
	snprintf(buf, len, "%s", info.name);
	if (type)
		*type = info.type;
	return 0;
}

bool bpfault_prog_is_ours(const char *name)
{
	return !strncmp(name, NETEM_PROG_PREFIX, strlen(NETEM_PROG_PREFIX)) ||
	       !strncmp(name, BPFAULT_PROG_PREFIX,
			strlen(BPFAULT_PROG_PREFIX));
}

void bpfault_scan_leftovers(struct fl_found *f)
{
	char name[64], what[200], rm[200];
	__u32 id = 0, type = 0;
	size_t k;

	while (!bpf_prog_get_next_id(id, &id)) {
		bool seen = false;

		if (bpfault_prog_name(id, name, sizeof(name), &type) ||
		    !bpfault_prog_is_ours(name))
			continue;
		for (k = 0; k < f->nprogs; k++)
			seen |= f->progs[k] == id;
		if (seen)
			continue;
		snprintf(what, sizeof(what), "BPF program %u %s (type %u)",
			 id, name, type);
		snprintf(rm, sizeof(rm), "bpftool prog show id %u pids: "
			 "detach it where it is attached, or end the process "
			 "holding it", id);
		f->fn(f->ctx, "bpf", what, "this machine", rm);
	}
}
