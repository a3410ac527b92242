// SPDX-License-Identifier: GPL-2.0-only
/*
 * faultline doctor: what this kernel allows, and what each gap means.
 *
 * Everything is probed for real (qdiscs on the loopback device of a throwaway
 * network namespace, BPF programs loaded and detached at once) and
 * nothing on the host is changed.  doctor reports; it exits 0 even when
 * features are missing.
 */
#include <errno.h>
#include <string.h>
#include <unistd.h>

#include "tools/doctor.h"
#include "netem/netem.h"

const char *const doctor_qdiscs[DOCTOR_NQDISCS] = {
	"netem", "prio", "htb", "tbf", "clsact", "ingress", "ifb",
};

const struct doctor_cap doctor_caps[5] = {
	{ 12, "cap_net_admin" },
	{ 21, "cap_sys_admin" },
	{ 24, "cap_sys_resource" },
	{ 38, "cap_perfmon" },
	{ 39, "cap_bpf" },
};

static int qidx(const char *kind)
{
	size_t i;

	for (i = 0; i < ARRAY_SIZE(doctor_qdiscs); i++)
		if (!strcmp(doctor_qdiscs[i], kind))
			return (int)i;
	return 0;
}

const struct probe_res *doctor_q(const struct facts *fx, const char *kind)
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
	for (i = 0; i < ARRAY_SIZE(doctor_qdiscs); i++)
		fx->q[i].ret = netem_has_qdisc(doctor_qdiscs[i], fx->q[i].why,
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
	for (i = 0; i < ARRAY_SIZE(doctor_caps); i++)
		json_object_object_add(c, doctor_caps[i].name,
			json_object_new_boolean(!!(fx->capeff &
						   (1ULL << doctor_caps[i].bit))));
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

static json_object *doctor_json(const struct facts *fx)
{
	json_object *o = json_object_new_object(), *q, *b;
	size_t i;

	json_object_object_add(o, "system", system_json(fx));
	json_object_object_add(o, "cgroups", cgroups_json(fx));
	q = json_object_new_object();
	for (i = 0; i < ARRAY_SIZE(doctor_qdiscs); i++)
		json_object_object_add(q, doctor_qdiscs[i], jres(&fx->q[i]));
	json_object_object_add(o, "qdiscs", q);
	b = json_object_new_object();
	for (i = 0; i < FL_BPF_NR_FEATURES; i++)
		json_object_object_add(b, fl_bpf_feature_name(i),
				       jres(&fx->b[i]));
	json_object_object_add(o, "bpf", b);
	b = json_object_new_object();
	json_object_object_add(b, "user_notif", jres(&fx->seccomp));
	json_object_object_add(o, "seccomp", b);
	json_object_object_add(o, "consequences", doctor_consequences(fx));
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
	for (i = 0; i < ARRAY_SIZE(doctor_caps); i++)
		if (fx->capeff & (1ULL << doctor_caps[i].bit))
			snprintf(capbuf + strlen(capbuf),
				 sizeof(capbuf) - strlen(capbuf), "%s%s",
				 capbuf[0] ? " " : "", doctor_caps[i].name);
	doctor_missing_caps(fx, missbuf, sizeof(missbuf));
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

	printf("\nQdiscs (tried on lo in a throwaway network namespace)\n");
	for (i = 0; i < ARRAY_SIZE(doctor_qdiscs); i++)
		res_row(doctor_qdiscs[i], &fx->q[i]);

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
			"are tried on lo\nin a throwaway network "
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
