// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline doctor's "What this means": for each kind of fault, what the
 * probes allow here.  Each line follows the code that decides: the syscall
 * routes come from the plan's own rules (sc_route_reach()), the rate from
 * the netem fault's own qdisc, the missing privileges name the steps of
 * run that fail without them.
 */
#include <errno.h>
#include <string.h>

#include "tools/doctor.h"
#include "bpf/exitwatch.h"
#include "bpf/syscall.h"

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
	fl_json_add_str(o, "area", area);
	fl_json_add_str(o, "status", status);
	fl_json_add_str(o, "detail", text);
	json_object_array_add(arr, o);
}

static const char *avail_word(int ret)
{
	return ret > 0 ? "available" : ret == 0 ? "unavailable" : "unknown";
}

/* A matched subset needs a classful parent: prio, else htb (tcbuild.c). */
static void subset_consequence(const struct facts *fx, json_object *arr)
{
	const struct probe_res *netem = doctor_q(fx, "netem"),
		*prio = doctor_q(fx, "prio"), *htb = doctor_q(fx, "htb");

	if (prio->ret > 0 && htb->ret > 0)
		consequence(arr, "matched netem subsets", netem->ret > 0 ?
			    "available" : "unavailable", "%suse prio (htb is "
			    "also available)", netem->ret > 0 ? "" :
			    "netem itself is missing; with it, ");
	else if (htb->ret > 0 || prio->ret > 0)
		consequence(arr, "matched netem subsets", netem->ret > 0 ?
			    "available" : "unavailable", "%suse %s (%s is "
			    "missing)", netem->ret > 0 ? "" :
			    "netem itself is missing; with it, ",
			    htb->ret > 0 ? "htb" : "prio",
			    htb->ret > 0 ? "prio" : "htb");
	else
		consequence(arr, "matched netem subsets",
			    avail_word(prio->ret < 0 ? -1 : 0),
			    "neither prio nor htb can be created: "
			    "faults with match: exit 3 (%s; %s)", prio->why,
			    htb->why);
}

/*
 * Partitions: cls_bpf at clsact, else netem 100% loss under prio or htb
 * with ifb for ingress (netem/partition.c picks the same way).
 */
static void partition_consequence(const struct facts *fx, json_object *arr)
{
	const struct probe_res *netem = doctor_q(fx, "netem"),
		*prio = doctor_q(fx, "prio"), *htb = doctor_q(fx, "htb"),
		*ifb = doctor_q(fx, "ifb"), *clsact = doctor_q(fx, "clsact"),
		*bcls = &fx->b[FL_BPF_SCHED_CLS];

	if (clsact->ret > 0 && bcls->ret > 0)
		consequence(arr, "partitions", "available",
			    "packet drops by address through clsact and a "
			    "sched_cls BPF filter, which counts them");
	else if (netem->ret > 0 && (prio->ret > 0 || htb->ret > 0) &&
		 ifb->ret > 0)
		consequence(arr, "partitions", "available",
			    "through the fallback, netem with 100%% loss under "
			    "%s and ifb for ingress (clsact: %s; sched_cls "
			    "BPF: %s)", prio->ret > 0 ? "prio" : "htb",
			    clsact->ret > 0 ? "ok" : clsact->why,
			    bcls->ret > 0 ? "ok" : bcls->why);
	else
		consequence(arr, "partitions", clsact->ret < 0 ||
			    bcls->ret < 0 ? "unknown" : "unavailable",
			    "need clsact (%s) and sched_cls BPF (%s), or "
			    "the fallback's netem, prio or htb, and ifb",
			    clsact->ret > 0 ? "ok" : clsact->why,
			    bcls->ret > 0 ? "ok" : bcls->why);
}

static void netem_consequences(const struct facts *fx, json_object *arr)
{
	const struct probe_res *netem = doctor_q(fx, "netem"),
		*ifb = doctor_q(fx, "ifb"), *clsact = doctor_q(fx, "clsact"),
		*ingress = doctor_q(fx, "ingress");

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
	subset_consequence(fx, arr);

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

	/* The netem fault's rate: is netem's own (tcbuild.c), no tbf. */
	consequence(arr, "rate limits", avail_word(netem->ret),
		    "the netem fault's rate: key, through sch_netem's own "
		    "rate%s%s", netem->ret > 0 ? "" : ", so not here: ",
		    netem->ret > 0 ? "" : netem->why);
	partition_consequence(fx, arr);
}

static const char *const kind_words[] = {
	[FL_TARGET_PID] = "pid", [FL_TARGET_CGROUP] = "cgroup",
	[FL_TARGET_COMMAND] = "command",
};

/* The four routes, in the plan's order; each by its first mechanism. */
static const struct {
	int n;
	const char *label;
	enum sc_route r;
} routes[] = {
	{ 1, "syscall entry", SC_FMOD_SYSCALL },
	{ 2, "LSM hooks", SC_LSM },
	{ 3, "cgroup sock_addr", SC_CGROUP },
	{ 4, "seccomp user notification", SC_SECCOMP },
};

/* Each mechanism: its word (as tests/route_table.py has them), in text. */
static const struct {
	const char *word, *text;
} mechs[] = {
	[SC_NONE] = { "none", NULL },
	[SC_FMOD_SYSCALL] = { "fmod_ret", "fmod_ret" },
	[SC_KPROBE] = { "kprobe", "a kprobe with bpf_override_return" },
	[SC_LSM] = { "lsm", "BPF LSM" },
	[SC_FMOD_SECURITY] = { "fmod_security", "fmod_ret on security_*" },
	[SC_CGROUP] = { "cgroup", NULL },
	[SC_SECCOMP] = { "seccomp", NULL },
};

/* A route with two mechanisms: the first whose probe passed into *r. */
static bool either(const struct probe_res *b, enum fl_bpf_feature pa,
		   enum sc_route ra, enum fl_bpf_feature pb, enum sc_route rb,
		   enum sc_route *r)
{
	*r = b[pa].ret > 0 ? ra : b[pb].ret > 0 ? rb : ra;
	return b[pa].ret > 0 || b[pb].ret > 0;
}

/*
 * Does route i work here, and through which mechanism (*r, the first
 * the plan tries when none does); why not.
 */
static bool route_how(const struct facts *fx, size_t i, enum sc_route *r,
		      char *why, size_t len)
{
	const struct probe_res *b = fx->b;

	*r = routes[i].r;
	why[0] = 0;
	switch (routes[i].r) {
	case SC_FMOD_SYSCALL:
		if (either(b, FL_BPF_FMOD_RET_SYSCALL, SC_FMOD_SYSCALL,
			   FL_BPF_KPROBE_OVERRIDE, SC_KPROBE, r))
			return true;
		snprintf(why, len, "fmod_ret on syscalls: %s; kprobe override: %s",
			 b[FL_BPF_FMOD_RET_SYSCALL].why,
			 b[FL_BPF_KPROBE_OVERRIDE].why);
		return false;
	case SC_LSM:
		if (either(b, FL_BPF_LSM, SC_LSM, FL_BPF_FMOD_RET_SECURITY,
			   SC_FMOD_SECURITY, r))
			return true;
		snprintf(why, len, "BPF LSM: %s; fmod_ret on security_*: %s%s",
			 b[FL_BPF_LSM].why, b[FL_BPF_FMOD_RET_SECURITY].why,
			 fx->k->lsm_known && !strstr(fx->k->lsm, "bpf") ?
			 "; bpf is not in the active LSM list" : "");
		return false;
	case SC_CGROUP:
		if (b[FL_BPF_CGROUP_SOCK_ADDR].ret > 0)
			return true;
		snprintf(why, len, "%s", b[FL_BPF_CGROUP_SOCK_ADDR].why);
		return false;
	default:
		if (fx->seccomp.ret > 0)
			return true;
		snprintf(why, len, "%s", fx->seccomp.why);
		return false;
	}
}

/* "pid, cgroup and command targets" */
static void reach_targets(const struct sc_reach *re, enum sc_route r,
			  char *buf, size_t len, json_object *jt)
{
	const char *w[ARRAY_SIZE(kind_words)];
	size_t off = 0, n = 0, k;

	buf[0] = 0;
	for (k = 0; k < ARRAY_SIZE(kind_words); k++)
		if (re->kind[k]) {
			w[n++] = kind_words[k];
			json_object_array_add(jt,
				json_object_new_string(kind_words[k]));
		}
	for (k = 0; k < n; k++)
		APPEND(buf, len, off, "%s%s", !k ? "" : k + 1 == n ?
		       " and " : ", ", w[k]);
	APPEND(buf, len, off, "%s%s", n ? " targets" : "no target",
	       r == SC_CGROUP && re->kind[FL_TARGET_CGROUP] ?
	       " (a cgroup target's folder must be in cgroup v2)" : "");
}

/* One route's sentence and its facts for --json. */
static void route_line(const struct facts *fx, size_t i, char *buf,
		       size_t len, json_object *jroutes)
{
	json_object *o = json_object_new_object(), *jc, *jt;
	char why[700], tg[160];
	struct sc_reach re;
	size_t off = 0, c;
	enum sc_route r;
	bool how;

	how = route_how(fx, i, &r, why, sizeof(why));
	sc_route_reach(r, &re);
	json_object_object_add(o, "route", json_object_new_int(routes[i].n));
	fl_json_add_str(o, "mechanism", mechs[r].word);
	json_object_object_add(o, "available", json_object_new_boolean(how));
	jc = re.ncalls ? json_object_new_array() : NULL;
	for (c = 0; c < re.ncalls; c++)
		json_object_array_add(jc, json_object_new_string(re.calls[c]));
	json_object_object_add(o, "calls", jc);
	jt = json_object_new_array();
	reach_targets(&re, r, tg, sizeof(tg), jt);
	json_object_object_add(o, "targets", jt);
	json_object_array_add(jroutes, o);

	APPEND(buf, len, off, "route %d (%s) ", routes[i].n, routes[i].label);
	if (!how) {
		APPEND(buf, len, off, "unavailable: %s", why);
		return;
	}
	APPEND(buf, len, off, "available %s%s%sfor ",
	       mechs[r].text ? "through " : "",
	       mechs[r].text ? mechs[r].text : "", mechs[r].text ? " " : "");
	if (!re.ncalls)
		APPEND(buf, len, off, "any call");
	for (c = 0; c < re.ncalls; c++)
		APPEND(buf, len, off, "%s%s", c ? ", " : "", re.calls[c]);
	if (re.max_calls)
		APPEND(buf, len, off, " (at most %zu a fault)", re.max_calls);
	APPEND(buf, len, off, " on %s", tg);
	if (re.filters)
		APPEND(buf, len, off, "; %s", re.filters);
}

static void syscall_consequences(const struct facts *fx, json_object *arr)
{
	json_object *jroutes = json_object_new_array(), *last;
	char text[4096], line[1200];
	size_t i, off = 0, nok = 0;
	bool entry = false;

	text[0] = 0;
	for (i = 0; i < ARRAY_SIZE(routes); i++) {
		route_line(fx, i, line, sizeof(line), jroutes);
		APPEND(text, sizeof(text), off, "%s%s", i ? "; " : "", line);
		last = json_object_array_get_idx(jroutes, i);
		if (json_object_get_boolean(json_object_object_get(last,
						"available"))) {
			nok++;
			entry |= i == 0;
		}
	}
	consequence(arr, "syscall faults", entry ? "available" : nok ?
		    "partial" : fx->b[FL_BPF_CGROUP_SOCK_ADDR].ret < 0 ?
		    "unknown" : "unavailable", "%s", text);
	last = json_object_array_get_idx(arr, json_object_array_length(arr) - 1);
	json_object_object_add(last, "routes", jroutes);
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

bool doctor_has_cap(const struct facts *fx, int bit)
{
	return fx->capeff & (1ULL << bit);
}

static const char *cap_name(int bit)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(doctor_caps); i++)
		if (doctor_caps[i].bit == bit)
			return doctor_caps[i].name;
	return "?";
}

/* What run cannot do without each capability it asks for. */
static const struct {
	int bit;
	const char *steps;
} cap_steps[] = {
	{ 12, "netem, partition and link faults cannot add qdiscs, filters "
	      "or links (their apply fails with EPERM)" },
	{ 21, "faults in a target's network namespace cannot enter it "
	      "(setns)" },
	{ 24, "a disk fault with reserved: fill cannot take the root "
	      "reserve (the fill stops above it, with a warning)" },
};

void doctor_missing_caps(const struct facts *fx, char *buf, size_t len)
{
	size_t i, off = 0;

	buf[0] = '\0';
	for (i = 0; i < ARRAY_SIZE(cap_steps); i++)
		if (!doctor_has_cap(fx, cap_steps[i].bit))
			APPEND(buf, len, off, "%s%s", off ? " " : "",
			       cap_name(cap_steps[i].bit));
}

/* Each missing capability with the steps that fail without it. */
static void privilege_consequence(const struct facts *fx, json_object *arr)
{
	bool bpf = doctor_has_cap(fx, 39) || doctor_has_cap(fx, 21);
	char text[1500];
	size_t i, off = 0;

	text[0] = 0;
	for (i = 0; i < ARRAY_SIZE(cap_steps); i++)
		if (!doctor_has_cap(fx, cap_steps[i].bit))
			APPEND(text, sizeof(text), off, "%swithout %s: %s",
			       off ? "; " : "", cap_name(cap_steps[i].bit),
			       cap_steps[i].steps);
	if (!bpf)
		APPEND(text, sizeof(text), off, "%swithout cap_bpf or "
		       "cap_sys_admin: no BPF program loads: syscall faults, "
		       "partitions' cls_bpf filters and the oom fault's exit "
		       "capture fail or fall back", off ? "; " : "");
	if (off)
		consequence(arr, "privileges", "limited", "root %s", text);
}

json_object *doctor_consequences(const struct facts *fx)
{
	json_object *arr = json_object_new_array();
	bool untested = false;
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
	else
		privilege_consequence(fx, arr);
	if (!fx->run_writable)
		consequence(arr, "journal", "unavailable",
			    "%s: run cannot keep undo records; set "
			    "FAULTLINE_RUNDIR or run as root", fx->run_why);
	return arr;
}
