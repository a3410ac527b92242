/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * bpf/btfload.h: the kernel's BTF at most once per process, and once per
 * boot where a cache can stand in for it.
 *
 * libbpf 1.1 parses /sys/kernel/btf/vmlinux (5 MB: tens of ms here, a
 * second under TCG) in every object it loads that has CO-RE relocations
 * or a tracing or LSM program, and frees it after the load; it has no
 * way to share one parsed copy between objects.  Two stand-ins:
 *
 *   - CO-RE: a minimal BTF for one object's relocations, made by bpftool
 *     gen min_core_btf and cached in /run/faultline-btf (tmpfs: gone at
 *     the next boot) by the kernel's identity and the object;
 *   - attach points (tp_btf, fmod_ret, lsm, lsm.s): their BTF ids from a
 *     table of every tracepoint, syscall, security_ and bpf_lsm_ function,
 *     made from one parse and cached there too.  Handlers registered for
 *     those sections (fl_btf_handlers) hand the ids to the kernel; the
 *     program's type is set only then, so that libbpf does not load the
 *     kernel's BTF for it.
 *
 * FAULTLINE_BTF=libbpf leaves it all to libbpf (a parse per object), and
 * FAULTLINE_BTF_CACHE names another folder for the cache.
 */
#ifndef FAULTLINE_BTFLOAD_H
#define FAULTLINE_BTFLOAD_H

#include <stddef.h>

struct bpf_program;
struct bpf_object_open_opts;

/*
 * Register the section handlers, once per process.  Call before opening
 * an object: an object opened before keeps libbpf's own handling.
 */
void fl_btf_handlers(void);

/*
 * Options to open an object with (name: the skeleton's; elf, sz: its
 * bytes): the handlers registered, and btf_custom_path the minimal BTF for
 * its CO-RE relocations, found or made once per process (left NULL when
 * there is none: libbpf then parses the kernel's BTF).
 */
void fl_btf_open_opts(struct bpf_object_open_opts *o, const char *name,
		      const void *elf, size_t sz);

/* The skeleton NAME (struct NAME *) opened with those options, or NULL. */
#define FL_BTF_OPEN(name) ({						\
	LIBBPF_OPTS(bpf_object_open_opts, o_);				\
	size_t sz_;							\
	const void *elf_ = name##__elf_bytes(&sz_);			\
									\
	fl_btf_open_opts(&o_, #name, elf_, sz_);			\
	name##__open_opts(&o_);						\
})

/*
 * The attach target of programs whose section names none (SEC("?fmod_ret")),
 * for the next load on this thread; resolved now: -ESRCH when the kernel
 * has no such function (t[*bad]).  fl_btf_targets_end() after the load.
 */
struct fl_btf_target {
	struct bpf_program *prog;
	const char *func;
};
int fl_btf_targets(const struct fl_btf_target *t, size_t n, size_t *bad);
void fl_btf_targets_end(void);

#endif
