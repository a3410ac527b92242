// SPDX-License-Identifier: GPL-2.0-only
/*
 * Kernel facts, probed once and cached: release, BTF, active LSMs and
 * lockdown, the cgroup layout per controller, swap.
 *
 * securityfs is often not mounted.  Rather than mount it on the host, a
 * child mounts it in a private mount namespace, reads what it needs and
 * exits: the mount vanishes with the namespace.
 */
#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <sys/mount.h>
#include <sys/utsname.h>

#include "core/faultline.h"
#include "core/mountinfo.h"

#define SECURITYFS	"/sys/kernel/security"

static struct fl_kernel kern;
static struct fl_kernel_more more;

const char *fl_cg_mode_name(enum fl_cg_mode m)
{
	static const char *const names[] = {
		[FL_CG_V1] = "v1", [FL_CG_V2] = "v2",
	};

	return fl_enum_name(names, ARRAY_SIZE(names), m, "none");
}

const char *fl_cg_layout_name(enum fl_cg_layout l)
{
	static const char *const names[] = {
		[FL_CG_LAYOUT_V1] = "v1", [FL_CG_LAYOUT_V2] = "v2",
		[FL_CG_LAYOUT_HYBRID] = "hybrid",
	};

	return fl_enum_name(names, ARRAY_SIZE(names), l, "none");
}

int fl_cap_eff(unsigned long long *eff)
{
	char line[256];
	FILE *f;

	f = fopen("/proc/self/status", "re");
	if (!f)
		return -errno;
	while (fgets(line, sizeof(line), f))
		if (sscanf(line, "CapEff: %llx", eff) == 1)
			break;
	fclose(f);
	return 0;
}

/* Copy a string, truncating. */
static void copy(char *dst, size_t len, const char *src)
{
	size_t n = strnlen(src, len - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Read a small file into buf, without the trailing newline. */
static int read_small(const char *path, char *buf, size_t len)
{
	ssize_t n;
	int fd;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	n = read(fd, buf, len - 1);
	if (n < 0) {
		n = -errno;
		close(fd);
		return n;
	}
	close(fd);
	buf[n] = '\0';
	while (n > 0 && (buf[n - 1] == '\n' || buf[n - 1] == ' '))
		buf[--n] = '\0';
	return 0;
}

/* "none [integrity] confidentiality" -> "integrity" */
static void lockdown_mode(const char *raw, char *out, size_t len)
{
	const char *a = strchr(raw, '['), *b;

	if (a && (b = strchr(a, ']')) && (size_t)(b - a - 1) < len) {
		memcpy(out, a + 1, b - a - 1);
		out[b - a - 1] = '\0';
		return;
	}
	copy(out, len, raw);
}

struct sec_msg {
	int lsm_err, lockdown_err, mount_err;
	char lsm[256];
	char lockdown[128];
};

static void read_security(const char *dir, struct sec_msg *m)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/lsm", dir);
	m->lsm_err = read_small(path, m->lsm, sizeof(m->lsm));
	snprintf(path, sizeof(path), "%s/lockdown", dir);
	m->lockdown_err = read_small(path, m->lockdown, sizeof(m->lockdown));
}

/*
 * In a child: a private mount namespace, securityfs mounted in it, the
 * two files read and sent back.  The host's mounts are not touched.
 */
static void read_security_child(void *out, void *arg)
{
	struct sec_msg *c = out;

	(void)arg;
	c->lsm_err = c->lockdown_err = -ENOENT;
	if (unshare(CLONE_NEWNS))
		c->mount_err = -errno;
	else if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL))
		c->mount_err = -errno;
	else if (mount("securityfs", SECURITYFS, "securityfs",
		       MS_NOSUID | MS_NODEV | MS_NOEXEC, NULL))
		c->mount_err = -errno;
	else
		read_security(SECURITYFS, c);
}

static int read_security_private(struct sec_msg *m)
{
	return fl_in_child(read_security_child, NULL, m, sizeof(*m), 5000);
}

static void probe_security(void)
{
	struct sec_msg m = { 0 };
	bool private = false;
	int ret;

	if (access(SECURITYFS "/lsm", F_OK) == 0) {
		read_security(SECURITYFS, &m);
		snprintf(more.lsm_how, sizeof(more.lsm_how),
			 "read from " SECURITYFS);
	} else {
		ret = read_security_private(&m);
		if (!ret)
			ret = m.mount_err;
		if (ret) {
			snprintf(more.lsm_how, sizeof(more.lsm_how),
				 "unknown: securityfs is not mounted and "
				 "mounting it privately failed (%s)%s",
				 strerror(-ret), ret == -EPERM ?
				 "; needs CAP_SYS_ADMIN" : "");
			return;
		}
		private = true;
		snprintf(more.lsm_how, sizeof(more.lsm_how),
			 "securityfs mounted in a private mount namespace");
	}
	if (!m.lsm_err) {
		copy(kern.lsm, sizeof(kern.lsm), m.lsm);
		kern.lsm_known = true;
	} else if (!private) {
		snprintf(more.lsm_how, sizeof(more.lsm_how),
			 "unknown: " SECURITYFS "/lsm: %s",
			 strerror(-m.lsm_err));
	}
	if (!m.lockdown_err) {
		lockdown_mode(m.lockdown, kern.lockdown, sizeof(kern.lockdown));
		more.lockdown_known = true;
	} else if (m.lockdown_err == -ENOENT && kern.lsm_known &&
		   !strstr(kern.lsm, "lockdown")) {
		/* No lockdown LSM: nothing is locked down. */
		snprintf(kern.lockdown, sizeof(kern.lockdown), "none");
		more.lockdown_known = true;
	}
}

/* Undo the octal escapes of /proc/self/mountinfo (\040 for a space). */
static void unescape(char *s)
{
	char *d = s;

	while (*s) {
		if (s[0] == '\\' && s[1] >= '0' && s[1] <= '3' &&
		    s[2] >= '0' && s[2] <= '7' && s[3] >= '0' && s[3] <= '7') {
			*d++ = (char)((s[1] - '0') * 64 + (s[2] - '0') * 8 +
				      (s[3] - '0'));
			s += 4;
		} else {
			*d++ = *s++;
		}
	}
	*d = '\0';
}

static bool has_word(const char *list, const char *word, const char *seps)
{
	size_t wl = strlen(word);
	const char *p = list;

	while (*p) {
		size_t l = strcspn(p, seps);

		if (l == wl && !strncmp(p, word, wl))
			return true;
		p += l;
		p += strspn(p, seps);
	}
	return false;
}

static struct fl_cg_controller *cg_add(const char *name)
{
	struct fl_cg_controller *c;
	size_t i;

	for (i = 0; i < more.ncg; i++)
		if (!strcmp(more.cg[i].name, name))
			return &more.cg[i];
	if (more.ncg >= FL_CG_MAX_CONTROLLERS || strlen(name) >= 32)
		return NULL;
	c = &more.cg[more.ncg++];
	memset(c, 0, sizeof(*c));
	copy(c->name, sizeof(c->name), name);
	c->enabled = true;
	return c;
}

/* A v1 mount: superopts name its controllers ("rw,cpu,cpuacct"). */
static void cg_v1_mount(const char *mnt, const char *superopts)
{
	size_t i;

	for (i = 0; i < more.ncg; i++) {
		struct fl_cg_controller *c = &more.cg[i];

		if (c->mode == FL_CG_NONE &&
		    has_word(superopts, c->name, ",")) {
			c->mode = FL_CG_V1;
			copy(c->mount, sizeof(c->mount), mnt);
		}
	}
}

int fl_mountinfo_each(fl_mount_fn fn, void *ctx)
{
	char line[4096];
	int ret = 0;
	FILE *f;

	f = fopen("/proc/self/mountinfo", "re");
	if (!f)
		return -errno;
	while (!ret && fgets(line, sizeof(line), f)) {
		char *fields[16], *sep, *save = NULL, *tok;
		char *fstype, *superopts;
		int n = 0;

		sep = strstr(line, " - ");
		if (!sep)
			continue;
		*sep = '\0';
		for (tok = strtok_r(line, " ", &save); tok && n < 16;
		     tok = strtok_r(NULL, " ", &save))
			fields[n++] = tok;
		if (n < 5)
			continue;
		save = NULL;
		fstype = strtok_r(sep + 3, " \n", &save);
		strtok_r(NULL, " \n", &save);		/* source */
		superopts = strtok_r(NULL, " \n", &save);
		if (!fstype || !superopts)
			continue;
		unescape(fields[3]);
		unescape(fields[4]);
		ret = fn(ctx, fields[3], fields[4], fstype, superopts);
	}
	fclose(f);
	return ret;
}

struct cg_mounts {
	bool v1, v2;
	char mnt[32][256], opts[32][256];
	size_t n;
};

static int cg_mount(void *ctx, const char *root, const char *mnt,
		    const char *fstype, const char *superopts)
{
	struct cg_mounts *m = ctx;

	(void)root;
	if (!strcmp(fstype, "cgroup2")) {
		if (!kern.unified_root[0])
			copy(kern.unified_root, sizeof(kern.unified_root), mnt);
		m->v2 = true;
	} else if (!strcmp(fstype, "cgroup")) {
		m->v1 = true;
		if (m->n < ARRAY_SIZE(m->mnt)) {
			copy(m->mnt[m->n], sizeof(m->mnt[0]), mnt);
			copy(m->opts[m->n], sizeof(m->opts[0]), superopts);
			m->n++;
		}
	}
	return 0;
}

static void probe_cgroups(void)
{
	static struct cg_mounts m;
	bool v1, v2;
	char line[1024];
	size_t i;
	FILE *f;

	/* Every controller the kernel has, and whether it is enabled. */
	f = fopen("/proc/cgroups", "re");
	while (f && fgets(line, sizeof(line), f)) {
		char name[64];
		int hier, num, en;
		struct fl_cg_controller *c;

		if (line[0] == '#' ||
		    sscanf(line, "%63s %d %d %d", name, &hier, &num, &en) != 4)
			continue;
		c = cg_add(name);
		if (c)
			c->enabled = en;
	}
	if (f)
		fclose(f);

	memset(&m, 0, sizeof(m));
	fl_mountinfo_each(cg_mount, &m);
	v1 = m.v1;
	v2 = m.v2;
	for (i = 0; i < m.n; i++)
		cg_v1_mount(m.mnt[i], m.opts[i]);

	if (kern.unified_root[0]) {
		char path[512];

		snprintf(path, sizeof(path), "%s/cgroup.controllers",
			 kern.unified_root);
		if (!read_small(path, more.unified_controllers,
				sizeof(more.unified_controllers))) {
			char *save = NULL, *tok, buf[256];

			copy(buf, sizeof(buf), more.unified_controllers);
			for (tok = strtok_r(buf, " ", &save); tok;
			     tok = strtok_r(NULL, " ", &save)) {
				struct fl_cg_controller *c = cg_add(tok);

				if (c && c->mode == FL_CG_NONE) {
					c->mode = FL_CG_V2;
					copy(c->mount, sizeof(c->mount),
					     kern.unified_root);
				}
			}
		}
	}

	if (v1 && v2)
		more.cg_layout = FL_CG_LAYOUT_HYBRID;
	else if (v1)
		more.cg_layout = FL_CG_LAYOUT_V1;
	else if (v2)
		more.cg_layout = FL_CG_LAYOUT_V2;

	for (i = 0; i < more.ncg; i++) {
		const struct fl_cg_controller *c = &more.cg[i];
		char path[512];

		if (strcmp(c->name, "memory"))
			continue;
		kern.memory_mode = c->mode;
		copy(kern.memory_root, sizeof(kern.memory_root), c->mount);
		if (c->mode == FL_CG_V1) {
			snprintf(path, sizeof(path),
				 "%s/memory.memsw.limit_in_bytes", c->mount);
			more.memsw = access(path, F_OK) == 0;
		}
	}
}

static void probe_swap(void)
{
	char line[256];
	unsigned long long kb;
	FILE *f;

	f = fopen("/proc/meminfo", "re");
	while (f && fgets(line, sizeof(line), f)) {
		if (sscanf(line, "SwapTotal: %llu kB", &kb) == 1) {
			kern.swap_total = kb * 1024;
			break;
		}
	}
	if (f)
		fclose(f);
}

const struct fl_kernel *fl_kernel_get(void)
{
	struct utsname u;

	if (kern.probed)
		return &kern;
	kern.probed = true;
	if (!uname(&u))
		copy(kern.release, sizeof(kern.release), u.release);
	kern.btf = access("/sys/kernel/btf/vmlinux", R_OK) == 0;
	probe_security();
	probe_cgroups();
	probe_swap();
	return &kern;
}

const struct fl_kernel_more *fl_kernel_more(void)
{
	fl_kernel_get();
	return &more;
}

const struct fl_cg_controller *fl_kernel_cg(const char *name)
{
	size_t i;

	fl_kernel_get();
	for (i = 0; i < more.ncg; i++)
		if (!strcmp(more.cg[i].name, name))
			return &more.cg[i];
	return NULL;
}
