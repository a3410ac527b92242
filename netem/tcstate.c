// SPDX-License-Identifier: GPL-2.0-only
/*
 * A device's tc state saved into JSON (every qdisc, class and filter with
 * its raw TCA_OPTIONS payload), its exact replay at revert, and
 * faultline's own subtree: what it installed, and what changed since.
 * Over netem/tc.c's requests and dumps.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>

#include "core/faultline.h"
#include "netem/partition.h"
#include "netem/tc.h"

/* ------------------------------------------------------------------ */
/* Save.                                                               */

static json_object *obj_json(const struct tc_obj *o, bool filter)
{
	json_object *j = json_object_new_object();
	char *hex;

	fl_json_add_str(j, "kind", o->kind);
	json_object_object_add(j, "handle", json_object_new_int64(o->handle));
	json_object_object_add(j, "parent", json_object_new_int64(o->parent));
	if (filter) {
		json_object_object_add(j, "info",
				       json_object_new_int64(o->info));
		if (o->has_chain)
			json_object_object_add(j, "chain",
					       json_object_new_int64(o->chain));
	}
	if (o->tb[TCA_INGRESS_BLOCK])
		json_object_object_add(j, "ingress_block", json_object_new_int64(
			mnl_attr_get_u32(o->tb[TCA_INGRESS_BLOCK])));
	if (o->tb[TCA_EGRESS_BLOCK])
		json_object_object_add(j, "egress_block", json_object_new_int64(
			mnl_attr_get_u32(o->tb[TCA_EGRESS_BLOCK])));
	if (o->opts) {
		hex = tc_hex(o->opts, o->optlen);
		fl_json_add_str(j, "opts", hex ? hex : "");
		free(hex);
	}
	return j;
}

static int save_qdisc_cb(const struct tc_obj *o, void *data)
{
	json_object_array_add(data, obj_json(o, false));
	return 0;
}

static int save_filter_cb(const struct tc_obj *o, void *data)
{
	/* A tcf_proto's header (handle 0, no options) is not a filter. */
	if (!o->handle && !o->opts)
		return 0;
	json_object_array_add(data, obj_json(o, true));
	return 0;
}

static uint32_t jget(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return 0;
	return (uint32_t)json_object_get_int64(v);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v))
		return NULL;
	return json_object_get_string(v);
}

/* Classes of these kinds are created by the user; the others come with
 * their qdisc. */
static bool user_classes(const char *kind)
{
	static const char *const k[] = { "htb", "hfsc", "drr", "qfq", "cbq",
					 NULL };
	size_t i;

	for (i = 0; k[i]; i++)
		if (!strcmp(kind, k[i]))
			return true;
	return false;
}

/* The filter blocks of one qdisc (its handle, or clsact's two hooks). */
static int save_blocks_of(int ifindex, json_object *q, json_object *filters)
{
	uint32_t handle = jget(q, "handle"), parents[2];
	const char *kind = jstr(q, "kind");
	int n = 1, i, ret;

	if (!handle)
		return 0;
	parents[0] = handle;
	if (kind && !strcmp(kind, "clsact")) {
		parents[0] = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS);
		parents[1] = TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS);
		n = 2;
	}
	for (i = 0; i < n; i++) {
		ret = tc_dump(RTM_GETTFILTER, ifindex, parents[i],
			      save_filter_cb, filters);
		if (ret && ret != -EOPNOTSUPP && ret != -EINVAL &&
		    ret != -ENOENT)
			return ret;
	}
	return 0;
}

int tc_state_save(int ifindex, json_object **out)
{
	json_object *st, *qd, *cl, *fi;
	size_t i;
	int ret;

	st = json_object_new_object();
	qd = json_object_new_array();
	cl = json_object_new_array();
	fi = json_object_new_array();
	json_object_object_add(st, "qdiscs", qd);
	json_object_object_add(st, "classes", cl);
	json_object_object_add(st, "filters", fi);
	ret = tc_dump(RTM_GETQDISC, ifindex, 0, save_qdisc_cb, qd);
	if (ret)
		goto err;
	ret = tc_dump(RTM_GETTCLASS, ifindex, 0, save_qdisc_cb, cl);
	if (ret)
		goto err;
	for (i = 0; i < json_object_array_length(qd); i++) {
		ret = save_blocks_of(ifindex, json_object_array_get_idx(qd, i),
				     fi);
		if (ret)
			goto err;
	}
	for (i = 0; i < json_object_array_length(cl); i++) {
		json_object *c = json_object_array_get_idx(cl, i);
		const char *kind = jstr(c, "kind");

		if (!kind || !user_classes(kind))
			continue;
		ret = tc_dump(RTM_GETTFILTER, ifindex, jget(c, "handle"),
			      save_filter_cb, fi);
		if (ret && ret != -EOPNOTSUPP && ret != -EINVAL &&
		    ret != -ENOENT)
			goto err;
	}
	*out = st;
	return 0;
err:
	json_object_put(st);
	return ret;
}

json_object *tc_state_qdisc(json_object *saved, uint32_t parent)
{
	json_object *qd;
	size_t i;

	if (!json_object_object_get_ex(saved, "qdiscs", &qd))
		return NULL;
	for (i = 0; i < json_object_array_length(qd); i++) {
		json_object *q = json_object_array_get_idx(qd, i);

		if (jget(q, "parent") == parent)
			return q;
	}
	return NULL;
}

/* ------------------------------------------------------------------ */
/* Replay.                                                             */

/*
 * What a dump gives that a request does not take: htb dumps its full
 * version (3.17) in TCA_HTB_INIT and takes only the major.
 */
static void fix_opts(const char *kind, void *b, size_t n)
{
	struct nlattr *attr;
	int flags_attr = !strcmp(kind, "u32") ? TCA_U32_FLAGS :
			 !strcmp(kind, "flower") ? TCA_FLOWER_FLAGS :
			 !strcmp(kind, "matchall") ? TCA_MATCHALL_FLAGS :
			 !strcmp(kind, "bpf") ? TCA_BPF_FLAGS_GEN : -1;

	/* Filters dump state flags (not in hw...) they do not take. */
	if (flags_attr >= 0) {
		mnl_attr_for_each_payload(b, n) {
			uint32_t *v;

			if (mnl_attr_get_type(attr) != flags_attr ||
			    mnl_attr_get_payload_len(attr) < 4)
				continue;
			v = mnl_attr_get_payload(attr);
			*v &= TCA_CLS_FLAGS_SKIP_HW | TCA_CLS_FLAGS_SKIP_SW;
		}
		return;
	}
	if (strcmp(kind, "htb"))
		return;
	mnl_attr_for_each_payload(b, n) {
		struct tc_htb_glob *g;

		if (mnl_attr_get_type(attr) != TCA_HTB_INIT ||
		    mnl_attr_get_payload_len(attr) < sizeof(*g))
			continue;
		g = mnl_attr_get_payload(attr);
		if (g->version > 0xffff)
			g->version >>= 16;
	}
}

/*
 * An object's saved options ("opts", hex) into *b (malloc'ed), *n bytes:
 * -ENOENT when it has none, -E2BIG over max bytes.
 */
static int saved_opts(json_object *o, size_t max, void **b, size_t *n)
{
	const char *hex = jstr(o, "opts");
	int ret;

	if (!hex)
		return -ENOENT;
	ret = tc_unhex(hex, b, n);
	if (ret)
		return ret;
	if (*n > max) {
		free(*b);
		return -E2BIG;
	}
	return 0;
}

static int put_opts(struct nlmsghdr *nlh, json_object *o)
{
	const char *kind = jstr(o, "kind");
	void *b;
	size_t n;
	int ret;

	ret = saved_opts(o, TC_BUFSZ - 512, &b, &n);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	fix_opts(kind ? kind : "", b, n);
	mnl_attr_put(nlh, TCA_OPTIONS, n, b);
	free(b);
	return 0;
}

static int replay_qdisc(int ifindex, json_object *q)
{
	char *buf = malloc(TC_BUFSZ);
	struct nlmsghdr *nlh;
	uint32_t parent = jget(q, "parent");
	int ret, flags = NLM_F_CREATE | NLM_F_EXCL;

	if (!buf)
		return -ENOMEM;
	/* Children replace the default qdisc their class came with. */
	if (parent != TC_H_ROOT && parent != TC_H_INGRESS)
		flags = NLM_F_CREATE | NLM_F_REPLACE;
	nlh = tc_msg(buf, RTM_NEWQDISC, flags, ifindex, parent,
		     jget(q, "handle"), 0);
	mnl_attr_put_strz(nlh, TCA_KIND, jstr(q, "kind"));
	if (json_object_object_get_ex(q, "ingress_block", NULL))
		mnl_attr_put_u32(nlh, TCA_INGRESS_BLOCK,
				 jget(q, "ingress_block"));
	if (json_object_object_get_ex(q, "egress_block", NULL))
		mnl_attr_put_u32(nlh, TCA_EGRESS_BLOCK,
				 jget(q, "egress_block"));
	ret = put_opts(nlh, q);
	if (!ret)
		ret = tc_talk(nlh);
	free(buf);
	return ret;
}

static int replay_class(int ifindex, json_object *c)
{
	char *buf = malloc(TC_BUFSZ);
	struct nlmsghdr *nlh;
	int ret;

	if (!buf)
		return -ENOMEM;
	nlh = tc_msg(buf, RTM_NEWTCLASS, NLM_F_CREATE | NLM_F_EXCL, ifindex,
		     jget(c, "parent"), jget(c, "handle"), 0);
	mnl_attr_put_strz(nlh, TCA_KIND, jstr(c, "kind"));
	ret = put_opts(nlh, c);
	if (!ret)
		ret = tc_talk(nlh);
	free(buf);
	return ret;
}

/*
 * u32: the root hash table of a tcf_proto comes with it.  Its keys go to
 * "the root" (TC_U32_ROOT) by node number, whatever handle the new root
 * gets; other tables are made with their handles before their keys.
 */
static int u32_rewrite(json_object *f, uint32_t root, uint32_t *handle,
		       char *buf, size_t *len, bool *skip)
{
	struct nlattr *attr;
	void *b;
	size_t n, off = 0;
	int ret;

	*skip = false;
	*len = 0;
	ret = saved_opts(f, TC_BUFSZ / 2, &b, &n);
	if (ret)
		return ret == -ENOENT ? 0 : ret;
	mnl_attr_for_each_payload(b, n) {
		size_t alen = MNL_ALIGN(attr->nla_len);
		struct nlattr *c = (struct nlattr *)(buf + off);

		if (mnl_attr_get_type(attr) == TCA_U32_DIVISOR &&
		    *handle == root) {
			*skip = true;
			break;
		}
		/* Counters are not options. */
		if (mnl_attr_get_type(attr) == TCA_U32_PCNT)
			continue;
		memset(c, 0, alen);
		memcpy(c, attr, attr->nla_len);
		if (mnl_attr_get_type(attr) == TCA_U32_HASH &&
		    TC_U32_HTID(mnl_attr_get_u32(attr)) == TC_U32_HTID(root))
			*(uint32_t *)mnl_attr_get_payload(c) = TC_U32_ROOT;
		off += alen;
	}
	if (TC_U32_HTID(*handle) == TC_U32_HTID(root) && !*skip)
		*handle = TC_U32_NODE(*handle);
	fix_opts("u32", buf, off);
	free(b);
	*len = off;
	return 0;
}

static int replay_filter(int ifindex, json_object *f, uint32_t u32_root)
{
	char *buf = malloc(TC_BUFSZ), *opt = malloc(TC_BUFSZ);
	const char *kind = jstr(f, "kind");
	struct nlmsghdr *nlh;
	uint32_t handle = jget(f, "handle");
	size_t len = 0;
	bool skip = false;
	int ret = -ENOMEM;

	if (!buf || !opt)
		goto out;
	if (kind && !strcmp(kind, "u32")) {
		ret = u32_rewrite(f, u32_root, &handle, opt, &len, &skip);
		if (ret || skip)
			goto out;
	}
	nlh = tc_msg(buf, RTM_NEWTFILTER, NLM_F_CREATE | NLM_F_EXCL, ifindex,
		     jget(f, "parent"), handle, jget(f, "info"));
	mnl_attr_put_strz(nlh, TCA_KIND, kind ? kind : "");
	if (json_object_object_get_ex(f, "chain", NULL))
		mnl_attr_put_u32(nlh, TCA_CHAIN, jget(f, "chain"));
	if (kind && !strcmp(kind, "u32")) {
		if (len)
			mnl_attr_put(nlh, TCA_OPTIONS, len, opt);
		ret = 0;
	} else {
		ret = put_opts(nlh, f);
	}
	if (!ret)
		ret = tc_talk(nlh);
out:
	free(buf);
	free(opt);
	return ret;
}

static bool same_tp(json_object *a, json_object *b)
{
	return jget(a, "parent") == jget(b, "parent") &&
	       jget(a, "info") == jget(b, "info") &&
	       jget(a, "chain") == jget(b, "chain");
}

/* Replay the filters whose parent is in parents (or all when NULL). */
static int replay_filters(int ifindex, json_object *filters,
			  bool (*want)(uint32_t parent, void *), void *data)
{
	size_t n = json_object_array_length(filters), i, j;
	int ret;

	for (i = 0; i < n; i++) {
		json_object *f = json_object_array_get_idx(filters, i);
		const char *kind = jstr(f, "kind");
		uint32_t root = 0;

		if (!want(jget(f, "parent"), data))
			continue;
		if (kind && !strcmp(kind, "u32")) {
			/* The root table is the last table of its tp. */
			for (j = 0; j < n; j++) {
				json_object *g = json_object_array_get_idx(
					filters, j);
				const char *h = jstr(g, "opts");

				if (!same_tp(f, g) || !h)
					continue;
				if (!TC_U32_KEY(jget(g, "handle")))
					root = jget(g, "handle");
			}
		}
		ret = replay_filter(ifindex, f, root);
		if (ret)
			return ret;
	}
	return 0;
}

/* ------------------------------------------------------------------ */
/* Restore.                                                            */

struct dev_root {
	uint32_t handle;
	char kind[32];
	bool found;
};

/* The qdisc at parent (TC_H_ROOT, TC_H_INGRESS) now. */
static int current_at(int ifindex, uint32_t parent, struct dev_root *r)
{
	int ret = tc_qdisc_at(ifindex, parent, &r->handle, r->kind,
			      sizeof(r->kind));

	r->found = ret == 1;
	return ret < 0 ? ret : 0;
}

struct tree {
	uint32_t *have;		/* qdisc handles and class ids made */
	size_t n;
};

static bool tree_has(const struct tree *t, uint32_t id)
{
	size_t i;

	for (i = 0; i < t->n; i++)
		if (t->have[i] == id)
			return true;
	return false;
}

static bool want_tree(uint32_t parent, void *data)
{
	return tree_has(data, parent) ||
	       (tree_has(data, TC_H_MAJ(parent)) && !TC_H_MIN(parent));
}

static bool want_ingress(uint32_t parent, void *data)
{
	(void)data;
	return TC_H_MAJ(parent) == TC_H_MAJ(TC_H_INGRESS) ||
	       TC_H_MAJ(parent) == TC_H_CLSACT;
}

/*
 * Can an object with this parent be made now?  Its qdisc must exist, and
 * its class too when the qdisc's classes are the user's.
 */
static bool parent_ready(const struct tree *t, json_object *qdiscs,
			 uint32_t parent)
{
	size_t i;

	if (!TC_H_MIN(parent))
		return tree_has(t, parent);
	if (tree_has(t, parent))
		return true;
	for (i = 0; i < json_object_array_length(qdiscs); i++) {
		json_object *q = json_object_array_get_idx(qdiscs, i);

		if (jget(q, "handle") == TC_H_MAJ(parent) &&
		    tree_has(t, TC_H_MAJ(parent)))
			return !user_classes(jstr(q, "kind"));
	}
	return false;
}

static int rebuild_root(int ifindex, json_object *saved, json_object *root)
{
	json_object *qd, *cl, *fi;
	struct tree t = { 0 };
	size_t nq, nc, total, i;
	bool *made = NULL, progress;
	int ret;

	json_object_object_get_ex(saved, "qdiscs", &qd);
	json_object_object_get_ex(saved, "classes", &cl);
	json_object_object_get_ex(saved, "filters", &fi);
	nq = qd ? json_object_array_length(qd) : 0;
	nc = cl ? json_object_array_length(cl) : 0;
	total = nq + nc;
	t.have = calloc(total + 1, sizeof(*t.have));
	made = calloc(total + 1, sizeof(*made));
	if (!t.have || !made) {
		ret = -ENOMEM;
		goto out;
	}
	if (jget(root, "handle")) {
		ret = replay_qdisc(ifindex, root);
		if (ret)
			goto out;
	}
	t.have[t.n++] = jget(root, "handle");
	do {
		progress = false;
		for (i = 0; i < total; i++) {
			json_object *o = i < nq ?
				json_object_array_get_idx(qd, i) :
				json_object_array_get_idx(cl, i - nq);
			uint32_t parent = jget(o, "parent");

			if (made[i] || o == root)
				continue;
			/* Not under the root: ingress, clsact. */
			if (i < nq && (parent == TC_H_INGRESS ||
				       parent == TC_H_ROOT)) {
				made[i] = true;
				continue;
			}
			if (i >= nq) {
				json_object *q;
				size_t k;
				bool user = false;

				for (k = 0; k < nq; k++) {
					q = json_object_array_get_idx(qd, k);
					if (jget(q, "handle") ==
					    TC_H_MAJ(jget(o, "handle")))
						user = user_classes(
							jstr(q, "kind"));
				}
				if (!user) {
					made[i] = true;
					continue;
				}
			}
			/* A root class names TC_H_ROOT: its qdisc. */
			if (i >= nq && parent == TC_H_ROOT)
				parent = TC_H_MAJ(jget(o, "handle"));
			if (!parent_ready(&t, qd, parent))
				continue;
			/* Default children (handle 0) come by themselves. */
			if (i < nq && !jget(o, "handle"))
				ret = 0;
			else
				ret = i < nq ? replay_qdisc(ifindex, o) :
					       replay_class(ifindex, o);
			if (ret)
				goto out;
			made[i] = true;
			t.have[t.n++] = jget(o, "handle");
			progress = true;
		}
	} while (progress);
	ret = 0;
	if (fi)
		ret = replay_filters(ifindex, fi, want_tree, &t);
out:
	free(t.have);
	free(made);
	return ret;
}

int tc_state_restore_root(int ifindex, json_object *saved,
			  bool (*owned)(uint32_t handle))
{
	json_object *root = tc_state_qdisc(saved, TC_H_ROOT);
	struct dev_root cur;
	int ret;

	ret = current_at(ifindex, TC_H_ROOT, &cur);
	if (ret)
		return ret == -ENODEV ? 0 : ret;
	if (cur.found && owned && owned(cur.handle)) {
		ret = tc_qdisc_del(ifindex, TC_H_ROOT, 0);
		if (ret)
			return ret;
		ret = current_at(ifindex, TC_H_ROOT, &cur);
		if (ret)
			return ret;
	}
	if (root && jget(root, "handle") && cur.found &&
	    cur.handle == jget(root, "handle") &&
	    !strcmp(cur.kind, jstr(root, "kind") ?: ""))
		return 0;		/* already there */
	/*
	 * A root that is neither faultline's nor the saved one: someone
	 * else's, put there during the drill.  Leave it, even where the
	 * saved root was the default.
	 */
	if (cur.found && cur.handle && !(owned && owned(cur.handle)))
		return -EBUSY;
	if (!root || !jget(root, "handle"))
		return 0;		/* the default comes back by itself */
	return rebuild_root(ifindex, saved, root);
}

/* Did the saved ingress hook hold faultline's mark (a partition's clsact)? */
static bool saved_marked(json_object *saved)
{
	json_object *fi, *f;
	size_t i;

	if (!json_object_object_get_ex(saved, "filters", &fi))
		return false;
	for (i = 0; i < json_object_array_length(fi); i++) {
		f = json_object_array_get_idx(fi, i);
		if (want_ingress(jget(f, "parent"), NULL) &&
		    !strcmp(jstr(f, "kind") ?: "", "bpf") &&
		    TC_H_MAJ(jget(f, "info")) >> 16 == PART_MARK_PRIO)
			return true;
	}
	return false;
}

static int count_cb(const struct tc_obj *o, void *data)
{
	if (o->handle || o->opts)
		(*(int *)data)++;
	return 0;
}

/* The filters clsact's two hooks hold now: a count, or -errno. */
static int clsact_count(int ifindex)
{
	int n = 0, ret;

	ret = tc_dump(RTM_GETTFILTER, ifindex,
		      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_INGRESS), count_cb, &n);
	if (!ret)
		ret = tc_dump(RTM_GETTFILTER, ifindex,
			      TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_EGRESS),
			      count_cb, &n);
	return ret ? ret : n;
}

/*
 * The ingress hook as saved.  A clsact a partition added before this
 * fault's apply (marked then) that the partition, reverted first, left
 * to this fault's filter: empty now, it goes with this fault, its last
 * user.
 */
int tc_state_restore_ingress(int ifindex, json_object *saved)
{
	json_object *ing = tc_state_qdisc(saved, TC_H_INGRESS), *fi;
	struct dev_root cur;
	int ret;

	ret = current_at(ifindex, TC_H_INGRESS, &cur);
	if (ret)
		return ret == -ENODEV ? 0 : ret;
	if (!ing) {
		if (cur.found)
			return tc_qdisc_del(ifindex, TC_H_INGRESS, 0);
		return 0;
	}
	if (cur.found) {
		if (!strcmp(cur.kind, "clsact") && saved_marked(saved) &&
		    !clsact_count(ifindex))
			return tc_qdisc_del(ifindex, TC_H_INGRESS, 0);
		return 0;
	}
	ret = replay_qdisc(ifindex, ing);
	if (ret)
		return ret;
	if (json_object_object_get_ex(saved, "filters", &fi))
		ret = replay_filters(ifindex, fi, want_ingress, NULL);
	return ret;
}

/* ------------------------------------------------------------------ */
/* faultline's subtree: what it installed, and what changed since.     */

static bool jhas(json_object *o, const char *key)
{
	return json_object_object_get_ex(o, key, NULL);
}

/*
 * What a u32 filter matches and where it sends packets (TCA_U32_SEL,
 * _CLASSID, _LINK, _HASH), without its counters or its actions' stats:
 * hex, or NULL.
 */
static char *u32_conf(const char *hex)
{
	const struct nlattr *a;
	char *buf, *out = NULL;
	size_t n, off = 0;
	void *b;

	if (!hex || tc_unhex(hex, &b, &n))
		return NULL;
	buf = malloc(n + 1);
	if (!buf)
		goto out;
	for (a = b; mnl_attr_ok(a, (char *)b + n - (char *)a);
	     a = mnl_attr_next(a)) {
		switch (mnl_attr_get_type(a)) {
		case TCA_U32_CLASSID:
		case TCA_U32_SEL:
		case TCA_U32_LINK:
		case TCA_U32_HASH:
			memcpy(buf + off, a, a->nla_len);
			off += a->nla_len;
			break;
		}
	}
	out = tc_hex(buf, off);
out:
	free(buf);
	free(b);
	return out;
}

/*
 * The identity of a saved object, with what it does where that can
 * change in place (netem's options, a u32 filter's match and class), and
 * without counters.
 */
static json_object *subtree_obj(json_object *o, bool filter)
{
	json_object *j = json_object_new_object();
	const char *kind = jstr(o, "kind") ?: "";

	fl_json_add_str(j, "kind", kind);
	json_object_object_add(j, "handle",
			       json_object_new_int64(jget(o, "handle")));
	json_object_object_add(j, "parent",
			       json_object_new_int64(jget(o, "parent")));
	if (filter) {
		json_object_object_add(j, "info",
				       json_object_new_int64(jget(o, "info")));
		if (jhas(o, "chain"))
			json_object_object_add(j, "chain",
				json_object_new_int64(jget(o, "chain")));
	}
	if (!strcmp(kind, "netem") && jstr(o, "opts"))
		fl_json_add_str(j, "opts", jstr(o, "opts"));
	if (filter && !strcmp(kind, "u32")) {
		char *conf = u32_conf(jstr(o, "opts"));

		if (conf)
			fl_json_add_str(j, "conf", conf);
		free(conf);
	}
	return j;
}

static void subtree_pick(json_object *from, json_object *to, bool filter,
			 bool (*owned)(uint32_t), bool by_parent,
			 bool by_handle)
{
	size_t i;

	for (i = 0; from && i < json_object_array_length(from); i++) {
		json_object *o = json_object_array_get_idx(from, i);

		if ((by_handle && owned(jget(o, "handle"))) ||
		    (by_parent && owned(jget(o, "parent"))))
			json_object_array_add(to, subtree_obj(o, filter));
	}
}

int tc_subtree_save(int ifindex, bool (*owned)(uint32_t handle),
		    json_object **out)
{
	json_object *st = NULL, *t, *a;
	int ret;

	ret = tc_state_save(ifindex, &st);
	if (ret)
		return ret;
	t = json_object_new_object();
	a = json_object_new_array();
	json_object_object_add(t, "qdiscs", a);
	subtree_pick(json_object_object_get(st, "qdiscs"), a, false, owned,
		     true, true);
	a = json_object_new_array();
	json_object_object_add(t, "classes", a);
	subtree_pick(json_object_object_get(st, "classes"), a, false, owned,
		     false, true);
	a = json_object_new_array();
	json_object_object_add(t, "filters", a);
	subtree_pick(json_object_object_get(st, "filters"), a, true, owned,
		     true, false);
	json_object_put(st);
	*out = t;
	return 0;
}

static bool same_id(json_object *a, json_object *b, bool filter)
{
	if (!filter)
		return jget(a, "handle") == jget(b, "handle");
	return jget(a, "handle") == jget(b, "handle") &&
	       jget(a, "parent") == jget(b, "parent") &&
	       jget(a, "info") == jget(b, "info") &&
	       jget(a, "chain") == jget(b, "chain") &&
	       !strcmp(jstr(a, "kind") ?: "", jstr(b, "kind") ?: "");
}

static json_object *find_id(json_object *arr, json_object *o, bool filter)
{
	size_t i;

	for (i = 0; arr && i < json_object_array_length(arr); i++)
		if (same_id(json_object_array_get_idx(arr, i), o, filter))
			return json_object_array_get_idx(arr, i);
	return NULL;
}

/* "fa17:", "fa17:2", "root" */
static char *tc_id_str(uint32_t h, char *buf, size_t len)
{
	if (h == TC_H_ROOT)
		snprintf(buf, len, "root");
	else if (TC_H_MIN(h))
		snprintf(buf, len, "%x:%x", TC_H_MAJ(h) >> 16, TC_H_MIN(h));
	else
		snprintf(buf, len, "%x:", TC_H_MAJ(h) >> 16);
	return buf;
}

/* netem's delay (TCA_NETEM_LATENCY64, ns) in hex options; -1 unknown. */
static int64_t netem_delay(const char *hex)
{
	size_t qlen = MNL_ALIGN(sizeof(struct tc_netem_qopt)), n;
	const struct nlattr *a;
	int64_t ns = -1;
	void *b;

	if (!hex || tc_unhex(hex, &b, &n))
		return -1;
	if (n < qlen)
		goto out;
	for (a = (const struct nlattr *)((char *)b + qlen);
	     mnl_attr_ok(a, (char *)b + n - (char *)a); a = mnl_attr_next(a))
		if (mnl_attr_get_type(a) == TCA_NETEM_LATENCY64 &&
		    mnl_attr_get_payload_len(a) >= sizeof(int64_t))
			memcpy(&ns, mnl_attr_get_payload(a), sizeof(ns));
out:
	free(b);
	return ns;
}

static void diff_add(char *why, size_t len, int *n, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
static void diff_add(char *why, size_t len, int *n, const char *fmt, ...)
{
	size_t o = strlen(why);
	va_list ap;

	if (o + 3 >= len)
		return;
	if ((*n)++)
		o += snprintf(why + o, len - o, "; ");
	va_start(ap, fmt);
	vsnprintf(why + o, len - o, fmt, ap);
	va_end(ap);
}

static void diff_kind(const char *what, json_object *was, json_object *now,
		      bool filter, const char *dev, char *why, size_t len,
		      int *n)
{
	size_t i;
	char a[16], b[16];

	for (i = 0; was && i < json_object_array_length(was); i++) {
		json_object *w = json_object_array_get_idx(was, i), *c;
		const char *wk = jstr(w, "kind") ?: "?";

		c = find_id(now, w, filter);
		tc_id_str(jget(w, "handle"), a, sizeof(a));
		tc_id_str(jget(w, "parent"), b, sizeof(b));
		if (!c) {
			if (filter)
				diff_add(why, len, n, "faultline's %s filter under %s on %s (prio %u) is gone",
					 wk, b, dev, jget(w, "info") >> 16);
			else
				diff_add(why, len, n, "faultline's %s %s %s on %s is gone",
					 what, wk, a, dev);
			continue;
		}
		if (!filter && strcmp(wk, jstr(c, "kind") ?: "")) {
			diff_add(why, len, n, "%s %s on %s is %s now, faultline's was %s",
				 what, a, dev, jstr(c, "kind") ?: "?", wk);
			continue;
		}
		if (!filter && jget(w, "parent") != jget(c, "parent")) {
			char p[16];

			diff_add(why, len, n, "%s %s %s on %s is under %s now, faultline put it under %s",
				 what, wk, a, dev,
				 tc_id_str(jget(c, "parent"), p, sizeof(p)), b);
			continue;
		}
		if (filter && jstr(w, "conf") &&
		    strcmp(jstr(w, "conf"), jstr(c, "conf") ?: "")) {
			diff_add(why, len, n, "faultline's %s filter under %s on %s (prio %u) matches other packets or picks another class now",
				 wk, b, dev, jget(w, "info") >> 16);
			continue;
		}
		if (strcmp(jstr(w, "opts") ?: "", jstr(c, "opts") ?: "")) {
			int64_t dw = netem_delay(jstr(w, "opts"));
			int64_t dc = netem_delay(jstr(c, "opts"));
			char x[32], y[32];

			if (dw >= 0 && dc >= 0 && dw != dc)
				diff_add(why, len, n, "%s %s on %s has delay %s now, faultline set %s",
					 wk, a, dev,
					 fl_fmt_duration(dc, x, sizeof(x)),
					 fl_fmt_duration(dw, y, sizeof(y)));
			else
				diff_add(why, len, n, "%s %s on %s has other options now than faultline set",
					 wk, a, dev);
		}
	}
	for (i = 0; now && i < json_object_array_length(now); i++) {
		json_object *c = json_object_array_get_idx(now, i);

		if (find_id(was, c, filter))
			continue;
		tc_id_str(jget(c, "handle"), a, sizeof(a));
		tc_id_str(jget(c, "parent"), b, sizeof(b));
		if (filter)
			diff_add(why, len, n, "a filter someone added under %s on %s (%s, prio %u)",
				 b, dev, jstr(c, "kind") ?: "?",
				 jget(c, "info") >> 16);
		else
			diff_add(why, len, n, "a %s someone added under %s on %s (%s %s)",
				 what, b, dev, jstr(c, "kind") ?: "?", a);
	}
}

int tc_subtree_diff(int ifindex, const char *dev, json_object *saved,
		    bool (*owned)(uint32_t handle), char *why, size_t len)
{
	json_object *now;
	int ret, n = 0;

	if (len)
		why[0] = 0;
	ret = tc_subtree_save(ifindex, owned, &now);
	if (ret)
		return ret;
	diff_kind("qdisc", json_object_object_get(saved, "qdiscs"),
		  json_object_object_get(now, "qdiscs"), false, dev, why, len,
		  &n);
	diff_kind("class", json_object_object_get(saved, "classes"),
		  json_object_object_get(now, "classes"), false, dev, why, len,
		  &n);
	diff_kind("filter", json_object_object_get(saved, "filters"),
		  json_object_object_get(now, "filters"), true, dev, why, len,
		  &n);
	json_object_put(now);
	return n ? 1 : 0;
}
