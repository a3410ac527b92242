// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline doctor: what this kernel allows, and what each gap means.
 *
 * Everything is probed for real (qdiscs on a veth pair in a throwaway
 * network namespace, BPF programs loaded and detached at once) and
 * nothing on the host is changed.  doctor reports; it exits 0 even when
 * features are missing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tools/cmds.h"
#include "bpf/bpfault.h"
#include "bpf/exitwatch.h"
#include "netem/netem.h"

#define WHY_LEN		256

static const char *const qdisc_kinds[] = {
	"netem", "prio", "htb", "tbf", "clsact", "ingress", "ifb",
};

struct probe_res {
	int ret;			/* 1 yes, 0 no, -errno not tested */
	char why[WHY_LEN];
};

struct facts {
	const struct fl_kernel *k;
	const struct fl_kernel_more *m;
	struct probe_res q[ARRAY_SIZE(qdisc_kinds)];
	struct probe_res b[FL_BPF_NR_FEATURES];
	struct probe_res seccomp;	/* user notification, route 4 */
	bool root;
	unsigned long long capeff;
	bool run_writable;
	char run_why[600];
};

static const struct {
	int bit;
	const char *name;
} caps[] = {
	{ 12, "cap_net_admin" },
	{ 21, "cap_sys_admin" },
	{ 24, "cap_sys_resource" },
	{ 38, "cap_perfmon" },
	{ 39, "cap_bpf" },
};

static int qidx(const char *kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(qdisc_kinds); i++)
		if (!strcmp(qdisc_kinds[i], kind))
			return (int)i;
	return 0;
}

static const struct probe_res *q_res(const struct facts *fx, const char *kind)
{
	return &fx->q[qidx(kind)];
}

/* Can the journal go where it must?  The folder, or the nearest parent. */
static void check_rundir(struct facts *fx)
{
	const char *dir = fl_rundir();
	char path[512], *slash;

	snprintf(path, sizeof(path), "%s", dir);
	while (access(path, F_OK) && (slash = strrchr(path, '/')) &&
	       slash != path)
		*slash = '\0';
	fx->run_writable = !access(path, W_OK | X_OK);
	if (!strcmp(path, dir))
		snprintf(fx->run_why, sizeof(fx->run_why), "%s%s", dir,
			 fx->run_writable ? "" : " is not writable");
	else
		snprintf(fx->run_why, sizeof(fx->run_why), "%s (to be created "
			 "in %s%s)", dir, path, fx->run_writable ? "" :
			 ", which is not writable");
}

static void gather(struct facts *fx)
{
	size_t i;

	memset(fx, 0, sizeof(*fx));
	fx->k = fl_kernel_get();
	fx->m = fl_kernel_more();
	fx->root = geteuid() == 0;
	fl_cap_eff(&fx->capeff);
	check_rundir(fx);
	for (i = 0; i < ARRAY_SIZE(qdisc_kinds); i++)
		fx->q[i].ret = netem_has_qdisc(qdisc_kinds[i], fx->q[i].why,
					       WHY_LEN);
	for (i = 0; i < FL_BPF_NR_FEATURES; i++)
		fx->b[i].ret = fl_bpf_probe(i, fx->b[i].why, WHY_LEN);
	fx->seccomp.ret = sc_seccomp_probe(fx->seccomp.why, WHY_LEN);
	if (fx->seccomp.ret > 0)
		snprintf(fx->seccomp.why, WHY_LEN, "a filter installed by a child, its listener taken with pidfd_getfd, a call continued");
}

static json_object *jstr(const char *s)
{
	return json_object_new_string(s);
}

static json_object *jres(const struct probe_res *r)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "available", r->ret < 0 ? NULL :
			       json_object_new_boolean(r->ret > 0));
	json_object_object_add(o, "tested",
			       json_object_new_boolean(r->ret >= 0));
	json_object_object_add(o, "why", jstr(r->why));
	return o;
}

/* "a,b c" -> ["a", "b", "c"] */
static json_object *jlist(const char *s)
{
	json_object *a = json_object_new_array();
	char buf[512], *save = NULL, *tok;

	snprintf(buf, sizeof(buf), "%s", s);
	for (tok = strtok_r(buf, ", ", &save); tok;
	     tok = strtok_r(NULL, ", ", &save))
		json_object_array_add(a, jstr(tok));
	return a;
}

static json_object *system_json(const struct facts *fx)
{
	json_object *o = json_object_new_object(), *c;
	size_t i;

	json_object_object_add(o, "kernel", jstr(fx->k->release));
	json_object_object_add(o, "btf", json_object_new_boolean(fx->k->btf));
	json_object_object_add(o, "lsm", fx->k->lsm_known ?
			       jlist(fx->k->lsm) : NULL);
	json_object_object_add(o, "lockdown", fx->m->lockdown_known ?
			       jstr(fx->k->lockdown) : NULL);
	json_object_object_add(o, "security_source", jstr(fx->m->lsm_how));
	json_object_object_add(o, "root", json_object_new_boolean(fx->root));
	c = json_object_new_object();
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		json_object_object_add(c, caps[i].name,
			json_object_new_boolean(!!(fx->capeff &
						   (1ULL << caps[i].bit))));
	json_object_object_add(o, "capabilities", c);
	json_object_object_add(o, "rundir", jstr(fl_rundir()));
	json_object_object_add(o, "rundir_writable",
			       json_object_new_boolean(fx->run_writable));
	return o;
}

static const char *memory_mode(const struct facts *fx)
{
	if (fx->k->memory_mode == FL_CG_V1 &&
	    fx->m->cg_layout == FL_CG_LAYOUT_HYBRID)
		return "hybrid";
	return fl_cg_mode_name(fx->k->memory_mode);
}

static json_object *cgroups_json(const struct facts *fx)
{
	json_object *o = json_object_new_object(), *ctl, *mem;
	size_t i;

	json_object_object_add(o, "layout",
			       jstr(fl_cg_layout_name(fx->m->cg_layout)));
	json_object_object_add(o, "unified_mount", fx->k->unified_root[0] ?
			       jstr(fx->k->unified_root) : NULL);
	json_object_object_add(o, "unified_controllers",
			       fx->k->unified_root[0] ?
			       jlist(fx->m->unified_controllers) : NULL);
	mem = json_object_new_object();
	json_object_object_add(mem, "mode",
			       jstr(fl_cg_mode_name(fx->k->memory_mode)));
	json_object_object_add(mem, "layout", jstr(memory_mode(fx)));
	json_object_object_add(mem, "mount", fx->k->memory_root[0] ?
			       jstr(fx->k->memory_root) : NULL);
	if (fx->k->memory_mode == FL_CG_V1)
		json_object_object_add(mem, "memsw",
				       json_object_new_boolean(fx->m->memsw));
	json_object_object_add(o, "memory", mem);
	ctl = json_object_new_object();
	for (i = 0; i < fx->m->ncg; i++) {
		const struct fl_cg_controller *c = &fx->m->cg[i];
		json_object *e = json_object_new_object();

		json_object_object_add(e, "mode",
				       jstr(fl_cg_mode_name(c->mode)));
		json_object_object_add(e, "mount", c->mount[0] ?
				       jstr(c->mount) : NULL);
		json_object_object_add(e, "enabled",
				       json_object_new_boolean(c->enabled));
		json_object_object_add(ctl, c->name, e);
	}
	json_object_object_add(o, "controllers", ctl);
	json_object_object_add(o, "swap_total",
			       json_object_new_uint64(fx->k->swap_total));
	return o;
}

/* One consequence: area, status and what it means. */
static void consequence(json_object *arr, const char *area,
			const char *status, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));

static void consequence(json_object *arr, const char *area,
			const char *status, const char *fmt, ...)
{
	json_object *o = json_object_new_object();
	char text[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(text, sizeof(text), fmt, ap);
	va_end(ap);
	json_object_object_add(o, "area", jstr(area));
	json_object_object_add(o, "status", jstr(status));
	json_object_object_add(o, "detail", jstr(text));
	json_object_array_add(arr, o);
}

static const char *avail_word(int ret)
{
	return ret > 0 ? "available" : ret == 0 ? "unavailable" : "unknown";
}

static void netem_consequences(const struct facts *fx, json_object *arr)
{
	const struct probe_res *netem = q_res(fx, "netem"),
		*prio = q_res(fx, "prio"), *htb = q_res(fx, "htb"),
		*tbf = q_res(fx, "tbf"), *ifb = q_res(fx, "ifb"),
		*clsact = q_res(fx, "clsact"),
		*ingress = q_res(fx, "ingress");
	const struct probe_res *bcls = &fx->b[FL_BPF_SCHED_CLS];

	if (netem->ret > 0)
		consequence(arr, "netem faults", "available",
			    "delay, jitter, loss, duplication and corruption "
			    "through sch_netem");
	else if (netem->ret == 0)
		consequence(arr, "netem faults", "unavailable",
			    "sch_netem missing; plan and run exit 3; load "
			    "sch_netem or use a kernel with "
			    "CONFIG_NET_SCH_NETEM");
	else
		consequence(arr, "netem faults", "unknown",
			    "could not test: %s", netem->why);

	if (prio->ret > 0 && htb->ret > 0)
		consequence(arr, "matched netem subsets", "available",
			    "use prio (htb is also available)");
	else if (htb->ret > 0)
		consequence(arr, "matched netem subsets", netem->ret > 0 ?
			    "available" : "unavailable", "%suse htb (prio is "
			    "missing)", netem->ret > 0 ? "" :
			    "netem itself is missing; with it, ");
	else if (prio->ret > 0)
		consequence(arr, "matched netem subsets", netem->ret > 0 ?
			    "available" : "unavailable", "%suse prio (htb is "
			    "missing)", netem->ret > 0 ? "" :
			    "netem itself is missing; with it, ");
	else
		consequence(arr, "matched netem subsets",
			    avail_word(prio->ret < 0 ? -1 : 0),
			    "neither prio nor htb can be created: "
			    "faults with match: exit 3 (%s; %s)", prio->why,
			    htb->why);

	if (ifb->ret > 0 && (clsact->ret > 0 || ingress->ret > 0))
		consequence(arr, "incoming traffic", "available",
			    "ingress faults redirect through an ifb device "
			    "from %s", clsact->ret > 0 ? "clsact" : "ingress");
	else
		consequence(arr, "incoming traffic", ifb->ret < 0 ?
			    "unknown" : "unavailable",
			    "ingress faults need ifb and clsact (or ingress): "
			    "%s; %s", ifb->ret > 0 ? "ifb ok" : ifb->why,
			    clsact->ret > 0 ? "clsact ok" : clsact->why);

	if (tbf->ret > 0 || htb->ret > 0)
		consequence(arr, "rate limits", "available",
			    "through %s", tbf->ret > 0 ? "tbf" : "htb");
	else
		consequence(arr, "rate limits", avail_word(tbf->ret),
			    "neither tbf nor htb: %s", tbf->why);

	if (clsact->ret > 0 && bcls->ret > 0)
		consequence(arr, "partitions", "available",
			    "packet drops by address through clsact and a "
			    "sched_cls BPF filter");
	else
		consequence(arr, "partitions", clsact->ret < 0 ||
			    bcls->ret < 0 ? "unknown" : "unavailable",
			    "need clsact (%s) and sched_cls BPF (%s)",
			    clsact->ret > 0 ? "ok" : clsact->why,
			    bcls->ret > 0 ? "ok" : bcls->why);
}

static void syscall_consequences(const struct facts *fx, json_object *arr)
{
	const struct probe_res *fsys = &fx->b[FL_BPF_FMOD_RET_SYSCALL],
		*kp = &fx->b[FL_BPF_KPROBE_OVERRIDE],
		*lsm = &fx->b[FL_BPF_LSM],
		*fsec = &fx->b[FL_BPF_FMOD_RET_SECURITY],
		*sa = &fx->b[FL_BPF_CGROUP_SOCK_ADDR];
	char r1[700], r2[700], r3[400], r4[500];
	const char *status;

	if (fsys->ret < 0 && kp->ret < 0 && lsm->ret < 0 && fsec->ret < 0 &&
	    sa->ret < 0) {
		consequence(arr, "syscall faults", "unknown", "%s", sa->why);
		return;
	}
	if (fsys->ret > 0)
		snprintf(r1, sizeof(r1), "route 1 (fmod_ret on syscalls) "
			 "available for every error-injectable syscall");
	else if (kp->ret > 0)
		snprintf(r1, sizeof(r1), "route 1 available through kprobe "
			 "override (fmod_ret on syscalls: %s)", fsys->why);
	else
		snprintf(r1, sizeof(r1), "route 1 (fmod_ret on syscalls) "
			 "unavailable: %s; kprobe override: %s", fsys->why,
			 kp->why);

	if (lsm->ret > 0 || fsec->ret > 0)
		snprintf(r2, sizeof(r2), "route 2 (LSM hooks: file, socket "
			 "and task syscalls) available through %s",
			 lsm->ret > 0 ? "BPF LSM" : "fmod_ret on security_*");
	else
		snprintf(r2, sizeof(r2), "route 2 (LSM) unavailable: lsm: "
			 "%s; fmod_ret on security_*: %s%s", lsm->why,
			 fsec->why, fx->k->lsm_known &&
			 !strstr(fx->k->lsm, "bpf") ?
			 " (bpf is not in the active LSM list)" : "");

	if (sa->ret > 0)
		snprintf(r3, sizeof(r3), "route 3 (cgroup sock_addr) "
			 "available for connect/bind/sendmsg/recvmsg on "
			 "cgroup targets");
	else
		snprintf(r3, sizeof(r3), "route 3 (cgroup sock_addr) "
			 "unavailable: %s", sa->why);

	if (fx->seccomp.ret > 0)
		snprintf(r4, sizeof(r4), "route 4 (seccomp user notification) "
			 "available for command targets only, for any call "
			 "(fsync, fdatasync, close...): the filter must be "
			 "installed by the process itself before exec, so only "
			 "a process faultline starts can have it");
	else
		snprintf(r4, sizeof(r4), "route 4 (seccomp user notification, "
			 "command targets) unavailable: %s", fx->seccomp.why);

	if (fsys->ret > 0 || kp->ret > 0)
		status = "available";
	else if (lsm->ret > 0 || fsec->ret > 0 || sa->ret > 0 ||
		 fx->seccomp.ret > 0)
		status = "partial";
	else if (fsys->ret < 0 || sa->ret < 0)
		status = "unknown";
	else
		status = "unavailable";
	consequence(arr, "syscall faults", status, "%s; %s; %s; %s", r1, r2,
		    r3, r4);
}

/* The pause fault: which freezer each kind of target gets here. */
static void pause_consequences(const struct facts *fx, json_object *arr)
{
	const struct fl_cg_controller *fz = fl_kernel_cg("freezer");
	const char *v2 = fx->k->unified_root;
	bool v1 = fz && fz->enabled && fz->mode == FL_CG_V1 && fz->mount[0];
	int maj = 0, min = 0;
	bool freeze2;

	sscanf(fx->k->release, "%d.%d", &maj, &min);
	freeze2 = v2[0] && (maj > 5 || (maj == 5 && min >= 2));
	consequence(arr, "pause faults", "available",
		    "cgroup targets freeze with %s%s%s%s%s; command targets %s; pid targets stop with SIGSTOP/SIGCONT",
		    freeze2 ? "the cgroup v2 freezer (cgroup.freeze) in " : "",
		    freeze2 ? v2 : "", freeze2 && v1 ? " or " : "",
		    v1 ? "the v1 freezer in " : "", v1 ? fz->mount :
		    freeze2 ? "" : "no freezer (none mounted, or Linux before 5.2 for v2)",
		    freeze2 ? "with the v2 freezer on their scratch cgroup" :
		    "with SIGSTOP, like pids (no v2 freezer)");
}

static void memory_consequences(const struct facts *fx, json_object *arr)
{
	const struct fl_kernel *k = fx->k;
	char swap[64], size[32];

	if (k->swap_total)
		snprintf(swap, sizeof(swap), "%s of swap",
			 fl_fmt_size(k->swap_total, size, sizeof(size)));
	else
		snprintf(swap, sizeof(swap), "no swap: a squeeze goes "
			 "straight to reclaim and OOM");

	if (k->memory_mode == FL_CG_V1)
		consequence(arr, "memory", "available",
			    "cgroup v1%s at %s: oom faults use "
			    "memory.limit_in_bytes%s; %s",
			    fx->m->cg_layout == FL_CG_LAYOUT_HYBRID ?
			    " (hybrid)" : "", k->memory_root, fx->m->memsw ?
			    " and memory.memsw.limit_in_bytes" :
			    " (no memsw: swap is not limited)", swap);
	else if (k->memory_mode == FL_CG_V2)
		consequence(arr, "memory", "available",
			    "cgroup v2 at %s: oom faults use memory.max and "
			    "memory.swap.max; %s", k->memory_root, swap);
	else
		consequence(arr, "memory", "unavailable",
			    "no memory controller is mounted: oom faults "
			    "exit 3");
}

/* How an oom fault will see its victim's SIGKILL (bpf/exitwatch.h). */
static void oom_proof_consequence(const struct facts *fx, json_object *arr)
{
	char why[256];
	int r;

	if (fx->k->memory_mode == FL_CG_NONE)
		return;
	r = exitwatch_probe(EXITWATCH_ANY, why, sizeof(why));
	if (r > 0)
		consequence(arr, "oom proof", "available",
			    "the victim's SIGKILL is captured as it exits "
			    "(%s), whoever reaps it", why);
	else
		consequence(arr, "oom proof", r < 0 ? "unknown" : "limited",
			    "no exit capture (%s): the victim's SIGKILL is "
			    "read from pidfs (6.15 and later) or its zombie, "
			    "which a parent that reaps at once can take away "
			    "first (the drill then exits 1)", why);
}

/* How a kill fault will prove its victims' deaths (bpf/exitwatch.h). */
static void kill_proof_consequence(json_object *arr)
{
	char why[256];
	int r = exitwatch_probe(EXITWATCH_ANY, why, sizeof(why));

	if (r > 0)
		consequence(arr, "kill proof", "available",
			    "each victim's signal is captured as it exits "
			    "(%s): the report says proven", why);
	else
		consequence(arr, "kill proof", r < 0 ? "unknown" : "limited",
			    "no exit capture (%s): kill faults see each death "
			    "through a pidfd, but not its signal, and the "
			    "report says not proven", why);
}

/* The capabilities faultline run asks for that this process lacks. */
static void missing_caps(const struct facts *fx, char *buf, size_t len)
{
	size_t i;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(caps); i++) {
		if (caps[i].bit != 12 && caps[i].bit != 21 &&
		    caps[i].bit != 24)
			continue;
		if (fx->capeff & (1ULL << caps[i].bit))
			continue;
		snprintf(buf + strlen(buf), len - strlen(buf), "%s%s",
			 buf[0] ? " " : "", caps[i].name);
	}
}

static json_object *consequences_json(const struct facts *fx)
{
	json_object *arr = json_object_new_array();
	bool untested = false;
	char miss[128];
	size_t i;

	netem_consequences(fx, arr);
	syscall_consequences(fx, arr);
	memory_consequences(fx, arr);
	oom_proof_consequence(fx, arr);
	kill_proof_consequence(arr);
	pause_consequences(fx, arr);
	if (!fx->k->btf)
		consequence(arr, "btf", "unavailable",
			    "no /sys/kernel/btf/vmlinux: tp_btf, fmod_ret and "
			    "LSM programs cannot be loaded");
	if (!fx->k->lsm_known)
		consequence(arr, "lsm", "unknown", "%s", fx->m->lsm_how);
	for (i = 0; i < ARRAY_SIZE(fx->q); i++)
		untested |= fx->q[i].ret < 0;
	for (i = 0; i < ARRAY_SIZE(fx->b); i++)
		untested |= fx->b[i].ret < 0;
	if (!fx->root)
		consequence(arr, "privileges", "limited",
			    "not root: run and recover refuse to start%s",
			    untested ? "; some probes could not be tested "
			    "(run doctor as root for a full answer)" : "");
	missing_caps(fx, miss, sizeof(miss));
	if (fx->root && miss[0])
		consequence(arr, "privileges", "limited",
			    "root without %s: a step of run that needs it "
			    "fails with EPERM", miss);
	if (!fx->run_writable)
		consequence(arr, "journal", "unavailable",
			    "%s: run cannot keep undo records; set "
			    "FAULTLINE_RUNDIR or run as root", fx->run_why);
	return arr;
}

static json_object *doctor_json(const struct facts *fx)
{
	json_object *o = json_object_new_object(), *q, *b;
	size_t i;

	json_object_object_add(o, "system", system_json(fx));
	json_object_object_add(o, "cgroups", cgroups_json(fx));
	q = json_object_new_object();
	for (i = 0; i < ARRAY_SIZE(qdisc_kinds); i++)
		json_object_object_add(q, qdisc_kinds[i], jres(&fx->q[i]));
	json_object_object_add(o, "qdiscs", q);
	b = json_object_new_object();
	for (i = 0; i < FL_BPF_NR_FEATURES; i++)
		json_object_object_add(b, fl_bpf_feature_name(i),
				       jres(&fx->b[i]));
	json_object_object_add(o, "bpf", b);
	b = json_object_new_object();
	json_object_object_add(b, "user_notif", jres(&fx->seccomp));
	json_object_object_add(o, "seccomp", b);
	json_object_object_add(o, "consequences", consequences_json(fx));
	return o;
}

/* Text output. */

static void row(const char *key, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

static void row(const char *key, const char *fmt, ...)
{
	va_list ap;

	printf("  %-18s ", key);
	va_start(ap, fmt);
	vprintf(fmt, ap);
	va_end(ap);
	putchar('\n');
}

static const char *res_word(int ret)
{
	return ret > 0 ? "yes" : ret == 0 ? "no" : "?";
}

static void res_row(const char *key, const struct probe_res *r)
{
	if (r->ret > 0)
		row(key, "yes%s", strstr(r->why, "user namespace") ?
		    " (tested in a user namespace)" : "");
	else
		row(key, "%-3s %s", res_word(r->ret), r->why);
}

/* Print text indented and wrapped; each "route N" on a new line. */
static void wrap(const char *text, int indent, int width)
{
	const char *p = text;
	int col = 0;

	while (*p) {
		size_t w = strcspn(p, " ");
		bool brk = w > 0 && p[w - 1] == ';' &&
			   !strncmp(p + w + strspn(p + w, " "), "route ", 6);

		if (col && col + 1 + (int)w > width) {
			putchar('\n');
			col = 0;
		}
		if (!col)
			col = printf("%*s", indent, "");
		else
			col += printf(" ");
		col += printf("%.*s", (int)w, p);
		p += w;
		p += strspn(p, " ");
		if (brk) {
			putchar('\n');
			col = 0;
		}
	}
	if (col)
		putchar('\n');
}

static void print_meaning(json_object *cons, bool details);

static void print_text(const struct facts *fx, json_object *cons)
{
	const struct fl_kernel *k = fx->k;
	const struct fl_kernel_more *m = fx->m;
	char capbuf[128] = "", missbuf[128];
	size_t i;

	printf("System\n");
	row("kernel", "%s", k->release);
	row("BTF", "%s", k->btf ? "yes (/sys/kernel/btf/vmlinux)" : "no");
	if (k->lsm_known)
		row("LSMs", "%s", k->lsm);
	else
		row("LSMs", "unknown");
	row("lockdown", "%s", m->lockdown_known ? k->lockdown : "unknown");
	row("", "(%s)", m->lsm_how);
	for (i = 0; i < ARRAY_SIZE(caps); i++)
		if (fx->capeff & (1ULL << caps[i].bit))
			snprintf(capbuf + strlen(capbuf),
				 sizeof(capbuf) - strlen(capbuf), "%s%s",
				 capbuf[0] ? " " : "", caps[i].name);
	missing_caps(fx, missbuf, sizeof(missbuf));
	row("root", "%s", fx->root ? "yes" : "no");
	row("capabilities", "%s%s%s%s", capbuf[0] ? capbuf : "none that matter",
	    missbuf[0] ? " (missing: " : "", missbuf, missbuf[0] ? ")" : "");
	row("journal", "%s: %s", fx->run_writable ? "writable" :
	    "NOT writable", fx->run_why);

	printf("\nCgroups\n");
	if (k->unified_root[0])
		row("layout", "%s (v2 at %s, controllers: %s)",
		    fl_cg_layout_name(m->cg_layout), k->unified_root,
		    m->unified_controllers[0] ? m->unified_controllers :
		    "none");
	else
		row("layout", "%s", fl_cg_layout_name(m->cg_layout));
	for (i = 0; i < m->ncg; i++) {
		const struct fl_cg_controller *c = &m->cg[i];

		if (!c->enabled)
			row(c->name, "disabled");
		else if (c->mode == FL_CG_NONE)
			row(c->name, "not mounted");
		else
			row(c->name, "%s at %s%s", fl_cg_mode_name(c->mode),
			    c->mount, !strcmp(c->name, "memory") &&
			    c->mode == FL_CG_V1 ? (m->memsw ?
			    " (memsw: yes)" : " (memsw: no)") : "");
	}
	if (k->swap_total) {
		char buf[32];

		row("swap", "%s", fl_fmt_size(k->swap_total, buf,
					      sizeof(buf)));
	} else {
		row("swap", "none");
	}

	printf("\nQdiscs (tried on a veth pair in a throwaway network "
	       "namespace)\n");
	for (i = 0; i < ARRAY_SIZE(qdisc_kinds); i++)
		res_row(qdisc_kinds[i], &fx->q[i]);

	printf("\nBPF programs (loaded, and detached at once)\n");
	for (i = 0; i < FL_BPF_NR_FEATURES; i++)
		res_row(fl_bpf_feature_name(i), &fx->b[i]);

	printf("\nSeccomp (a child installs a filter, run answers its calls)\n");
	res_row("user_notif", &fx->seccomp);

	printf("\nWhat this means\n");
	print_meaning(cons, true);
}

/* "What this means": each area and its status, with details or not. */
static void print_meaning(json_object *cons, bool details)
{
	size_t i, n;

	n = json_object_array_length(cons);
	for (i = 0; i < n; i++) {
		json_object *c = json_object_array_get_idx(cons, i), *v;
		const char *area = "", *status = "", *detail = "";

		if (json_object_object_get_ex(c, "area", &v))
			area = json_object_get_string(v);
		if (json_object_object_get_ex(c, "status", &v))
			status = json_object_get_string(v);
		if (json_object_object_get_ex(c, "detail", &v))
			detail = json_object_get_string(v);
		printf("  %s: %s\n", area, status);
		if (details)
			wrap(detail, 6, 78);
	}
}

int cmd_doctor(int argc, char **argv)
{
	static const struct cmd_getopt g = {
		.name = "doctor",
		.common = CMD_COMMON,
		.quiet = "only what it means: one line an area, no details",
		.help = "\nProbes the kernel without changing the host: qdiscs "
			"are tried on a veth pair\nin a throwaway network "
			"namespace, BPF programs are loaded and detached at "
			"once.\nExits 0 even when features are missing; run it "
			"as root for a full answer.\n",
	};
	json_object *result, *cons;
	struct facts fx;
	int ret;

	ret = cmd_getopt(&g, argc, argv, NULL);
	if (ret != CMD_GO_ON)
		return ret;
	if (optind < argc)
		return cmd_bad_usage("doctor", "unexpected argument '%s'",
				     argv[optind]);

	gather(&fx);
	result = doctor_json(&fx);
	if (fl_json_output) {
		fl_print_json(result);
	} else {
		json_object_object_get_ex(result, "consequences", &cons);
		if (fl_quiet)
			print_meaning(cons, false);
		else
			print_text(&fx, cons);
	}
	json_object_put(result);
	return FL_EXIT_OK;
}
