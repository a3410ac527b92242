// SPDX-License-Identifier: GPL-2.0-only
/*
 * The kernel's BTF at most once per process, cached per boot: a minimal
 * BTF for each object's CO-RE relocations, and the BTF ids of the attach
 * points, handed to the kernel by section handlers (see btfload.h).
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <unistd.h>

#include <bpf/bpf.h>
#include <bpf/btf.h>
#include <bpf/libbpf.h>

#include "bpf/btfload.h"

#define VMLINUX_BTF	"/sys/kernel/btf/vmlinux"
#define BTF_CACHE	"/run/faultline-btf"
#define TARGETS_MAX	32

static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

/* FAULTLINE_BTF=libbpf: none of this, libbpf's own parse per object. */
static bool libbpf_only(void)
{
	const char *v = getenv("FAULTLINE_BTF");

	return v && !strcmp(v, "libbpf");
}

/* The cache's folder: FAULTLINE_BTF_CACHE, else BTF_CACHE. */
static const char *cache_dir(void)
{
	const char *d = getenv("FAULTLINE_BTF_CACHE");

	return d && *d ? d : BTF_CACHE;
}

/* FNV-1a over the kernel's identity (release, version, BTF size) and what
 * the cached file is made of (its name, the object's size). */
static uint64_t cache_key(const char *what, size_t sz)
{
	uint64_t h = 1469598103934665603ULL;
	struct utsname u;
	struct stat st;
	char buf[512];
	int i, n;

	if (uname(&u) || stat(VMLINUX_BTF, &st))
		return 0;
	n = snprintf(buf, sizeof(buf), "%s|%s|%lld|%s|%zu", u.release,
		     u.version, (long long)st.st_size, what, sz);
	for (i = 0; i < n && i < (int)sizeof(buf); i++)
		h = (h ^ (unsigned char)buf[i]) * 1099511628211ULL;
	return h;
}

static int write_all(const char *path, const void *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	ssize_t n;

	if (fd < 0)
		return -errno;
	n = write(fd, data, len);
	close(fd);
	return n == (ssize_t)len ? 0 : -EIO;
}

/* Write data to path through a temporary file: readers see all or none. */
static int cache_put(const char *path, const void *data, size_t len)
{
	char tmp[PATH_MAX + 32];
	int ret;

	if (mkdir(cache_dir(), 0700) && errno != EEXIST)
		return -errno;
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	ret = write_all(tmp, data, len);
	if (!ret && rename(tmp, path))
		ret = -errno;
	if (ret)
		unlink(tmp);
	return ret;
}

/* ------------------------------------------------------------------ */
/* CO-RE: bpftool gen min_core_btf, once per object and boot.           */

/* bpftool gen min_core_btf VMLINUX out obj, quietly. */
static int min_core_btf(const char *out, const char *obj)
{
	char *const argv[] = { "bpftool", "gen", "min_core_btf",
			       VMLINUX_BTF, (char *)out, (char *)obj, NULL };
	posix_spawn_file_actions_t fa;
	int status, ret;
	pid_t pid;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
	ret = posix_spawnp(&pid, "bpftool", &fa, NULL, argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	if (ret)
		return -ret;
	while (waitpid(pid, &status, 0) < 0)
		if (errno != EINTR)
			return -errno;
	return WIFEXITED(status) && !WEXITSTATUS(status) ? 0 : -ENOEXEC;
}

static int core_make(const char *path, const void *elf, size_t sz)
{
	char obj[PATH_MAX + 32], tmp[PATH_MAX + 32];
	int ret;

	if (mkdir(cache_dir(), 0700) && errno != EEXIST)
		return -errno;
	snprintf(obj, sizeof(obj), "%s.%d.o", path, (int)getpid());
	snprintf(tmp, sizeof(tmp), "%s.%d.tmp", path, (int)getpid());
	ret = write_all(obj, elf, sz);
	if (!ret)
		ret = min_core_btf(tmp, obj);
	if (!ret && rename(tmp, path))
		ret = -errno;
	unlink(obj);
	unlink(tmp);
	return ret;
}

static struct core {
	const char *name;
	char path[PATH_MAX];
	int state;		/* 1: path, -errno: none */
} cores[4];

static int core_path(const char *name, const void *elf, size_t sz,
		     const char **path)
{
	struct core *c = NULL;
	uint64_t key;
	size_t i;
	int ret;

	if (libbpf_only())
		return -ENOENT;
	pthread_mutex_lock(&lock);
	for (i = 0; i < sizeof(cores) / sizeof(cores[0]) && !c; i++)
		if (!cores[i].name || !strcmp(cores[i].name, name))
			c = &cores[i];
	ret = -ENOSPC;
	if (!c)
		goto out;
	if (!c->name) {
		c->name = name;
		key = cache_key(name, sz);
		snprintf(c->path, sizeof(c->path), "%s/%s-%016llx.btf",
			 cache_dir(), name, (unsigned long long)key);
		if (!key)
			c->state = -ENOENT;
	}
	/* Made again if someone removed it since (it is safe to). */
	if (c->state >= 0 && access(c->path, R_OK))
		c->state = core_make(c->path, elf, sz);
	if (!c->state)
		c->state = 1;
	ret = c->state < 0 ? c->state : 0;
	*path = c->path;
out:
	pthread_mutex_unlock(&lock);
	return ret;
}

void fl_btf_open_opts(struct bpf_object_open_opts *o, const char *name,
		      const void *elf, size_t sz)
{
	fl_btf_handlers();
	if (core_path(name, elf, sz, &o->btf_custom_path))
		o->btf_custom_path = NULL;
}

/* ------------------------------------------------------------------ */
/* Attach points: "KIND NAME ID" lines, one per tracepoint (t) and per  */
/* syscall, security_ and bpf_lsm_ function (f), from one parse.        */

struct btf_ent {
	const char *name;
	__u32 id;
	char kind;
};

static struct {
	char *text;
	struct btf_ent *e;
	size_t n;
	int state;		/* 1: loaded, -errno: none */
} ids;

static bool in_table(char kind, const char *name)
{
	if (kind == 't')
		return !strncmp(name, "btf_trace_", 10);
	return !strncmp(name, "security_", 9) ||
	       !strncmp(name, "bpf_lsm_", 8) ||
	       (!strncmp(name, "__", 2) && strstr(name, "_sys_"));
}

static char kind_of(const struct btf_type *t)
{
	switch (btf_kind(t)) {
	case BTF_KIND_TYPEDEF:
		return 't';
	case BTF_KIND_FUNC:
		return 'f';
	default:
		return 0;
	}
}

/* The table's text from one parse of the kernel's BTF. */
static int ids_from_kernel(char **text, size_t *len)
{
	struct btf *btf = btf__load_vmlinux_btf();
	size_t cap = 0;
	__u32 id, n;
	FILE *f;
	int ret;

	if (!btf)
		return errno ? -errno : -ENOENT;
	f = open_memstream(text, &cap);
	ret = f ? 0 : -errno;
	n = f ? btf__type_cnt(btf) : 0;
	for (id = 1; id < n; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		const char *name = btf__name_by_offset(btf, t->name_off);
		char k = kind_of(t);

		if (k && name && in_table(k, name))
			fprintf(f, "%c %s %u\n", k, name, id);
	}
	if (f && fclose(f))
		ret = -errno;
	*len = cap;
	btf__free(btf);
	return ret;
}

static int ent_cmp(const void *a, const void *b)
{
	const struct btf_ent *x = a, *y = b;
	int c = strcmp(x->name, y->name);

	return c ? c : x->kind - y->kind;
}

/* Split the text into entries (it keeps their names), sorted. */
static int ids_parse(char *text)
{
	size_t n = 0, cap = 0;
	char *line, *save = NULL;

	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp;

		if (line[1] != ' ' || !(sp = strchr(line + 2, ' ')))
			return -EINVAL;
		if (n == cap) {
			struct btf_ent *e;

			cap = cap ? cap * 2 : 4096;
			e = realloc(ids.e, cap * sizeof(*e));
			if (!e)
				return -ENOMEM;
			ids.e = e;
		}
		*sp = 0;
		ids.e[n].kind = line[0];
		ids.e[n].name = line + 2;
		ids.e[n].id = strtoul(sp + 1, NULL, 10);
		n++;
	}
	qsort(ids.e, n, sizeof(*ids.e), ent_cmp);
	ids.n = n;
	return 0;
}

static char *read_file(const char *path)
{
	struct stat st;
	char *buf = NULL;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0)
		return NULL;
	if (!fstat(fd, &st) && st.st_size > 0)
		buf = malloc(st.st_size + 1);
	if (buf && read(fd, buf, st.st_size) == st.st_size) {
		buf[st.st_size] = 0;
	} else {
		free(buf);
		buf = NULL;
	}
	close(fd);
	return buf;
}

/* The table: from the cache, else from one parse (and cached).  Locked. */
static int ids_load(void)
{
	char path[PATH_MAX];
	uint64_t key;
	size_t len = 0;
	int ret;

	if (ids.state)
		return ids.state < 0 ? ids.state : 0;
	key = cache_key("ids", 0);
	snprintf(path, sizeof(path), "%s/ids-%016llx", cache_dir(),
		 (unsigned long long)key);
	ids.text = key ? read_file(path) : NULL;
	if (ids.text && !ids_parse(ids.text))
		return ids.state = 1, 0;
	free(ids.text);
	ids.text = NULL;
	ret = ids_from_kernel(&ids.text, &len);
	if (!ret && key)
		cache_put(path, ids.text, len);	/* best effort */
	if (!ret)
		ret = ids_parse(ids.text);
	ids.state = ret ? ret : 1;
	return ret;
}

/* A name the table does not keep: one parse of its own. */
static int id_direct(char kind, const char *name, __u32 *id)
{
	struct btf *btf = btf__load_vmlinux_btf();
	int ret;

	if (!btf)
		return errno ? -errno : -ENOENT;
	ret = btf__find_by_name_kind(btf, name, kind == 't' ?
				     BTF_KIND_TYPEDEF : BTF_KIND_FUNC);
	btf__free(btf);
	if (ret < 0)
		return ret;
	*id = ret;
	return 0;
}

static int btf_id(char kind, const char *prefix, const char *func, __u32 *id)
{
	struct btf_ent key = { .kind = kind }, *e;
	char name[256];
	int ret;

	snprintf(name, sizeof(name), "%s%s", prefix, func);
	if (!in_table(kind, name))
		return id_direct(kind, name, id);
	key.name = name;
	pthread_mutex_lock(&lock);
	ret = ids_load();
	e = ret ? NULL : bsearch(&key, ids.e, ids.n, sizeof(*ids.e), ent_cmp);
	if (e)
		*id = e->id;
	pthread_mutex_unlock(&lock);
	return ret ? ret : e ? 0 : -ESRCH;
}

/* ------------------------------------------------------------------ */
/* The section handlers.                                                */

static const struct sec_kind {
	const char *sec;
	enum bpf_prog_type type;
	enum bpf_attach_type attach;
	char kind;
	const char *prefix;
	bool sleepable;
} kinds[] = {
	{ "tp_btf+", BPF_PROG_TYPE_TRACING, BPF_TRACE_RAW_TP, 't',
	  "btf_trace_", false },
	{ "fmod_ret+", BPF_PROG_TYPE_TRACING, BPF_MODIFY_RETURN, 'f', "",
	  false },
	{ "lsm+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 'f', "bpf_lsm_", false },
	{ "lsm.s+", BPF_PROG_TYPE_LSM, BPF_LSM_MAC, 'f', "bpf_lsm_", true },
};

static __thread struct {
	struct bpf_program *prog;
	__u32 id;
} targets[TARGETS_MAX];
static __thread size_t ntargets;

int fl_btf_targets(const struct fl_btf_target *t, size_t n, size_t *bad)
{
	size_t i;
	int ret;

	ntargets = 0;
	*bad = 0;
	if (n > TARGETS_MAX)
		return -E2BIG;
	for (i = 0; i < n; i++) {
		*bad = i;
		if (libbpf_only()) {
			ret = bpf_program__set_attach_target(t[i].prog, 0,
							     t[i].func);
			if (ret)
				return ret;
			continue;
		}
		ret = btf_id('f', "", t[i].func, &targets[i].id);
		if (ret)
			return ret;
		targets[i].prog = t[i].prog;
	}
	ntargets = n;
	return 0;
}

void fl_btf_targets_end(void)
{
	ntargets = 0;
}

static int target_of(struct bpf_program *prog, const struct sec_kind *k,
		     __u32 *id)
{
	const char *name = strchr(bpf_program__section_name(prog), '/');
	size_t i;

	if (name)
		return btf_id(k->kind, k->prefix, name + 1, id);
	for (i = 0; i < ntargets; i++)
		if (targets[i].prog == prog) {
			*id = targets[i].id;
			return 0;
		}
	return -EINVAL;
}

/*
 * Right before the load: the program's real type, which libbpf would have
 * loaded the kernel's BTF for had it known it earlier, and its attach
 * point's id, which is all the kernel needs of it.
 */
static int prep_load(struct bpf_program *prog, struct bpf_prog_load_opts *o,
		     long cookie)
{
	const struct sec_kind *k = &kinds[cookie];
	__u32 id;
	int ret;

	ret = target_of(prog, k, &id);
	if (!ret)
		ret = bpf_program__set_type(prog, k->type);
	if (!ret)
		ret = bpf_program__set_expected_attach_type(prog, k->attach);
	if (ret)
		return ret;
	o->expected_attach_type = k->attach;
	o->attach_btf_obj_fd = 0;
	o->attach_prog_fd = 0;
	o->attach_btf_id = id;
	if (k->sleepable)
		o->prog_flags |= BPF_F_SLEEPABLE;
	return 0;
}

static int attach(const struct bpf_program *prog, long cookie,
		  struct bpf_link **link)
{
	*link = kinds[cookie].type == BPF_PROG_TYPE_LSM ?
		bpf_program__attach_lsm(prog) :
		bpf_program__attach_trace(prog);
	return *link ? 0 : errno ? -errno : -EINVAL;
}

static void handlers_once(void)
{
	size_t i;

	for (i = 0; i < sizeof(kinds) / sizeof(kinds[0]); i++) {
		LIBBPF_OPTS(libbpf_prog_handler_opts, o,
			    .cookie = (long)i,
			    .prog_prepare_load_fn = prep_load,
			    .prog_attach_fn = attach);

		/* Until the load, a type that needs no kernel BTF. */
		libbpf_register_prog_handler(kinds[i].sec,
					     BPF_PROG_TYPE_RAW_TRACEPOINT, 0,
					     &o);
	}
}

void fl_btf_handlers(void)
{
	static pthread_once_t once = PTHREAD_ONCE_INIT;

	if (!libbpf_only())
		pthread_once(&once, handlers_once);
}
