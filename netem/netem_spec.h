/* SPDX-License-Identifier: GPL-2.0-only */
/*
 * netem/: the parsed specs of the netem and partition faults (f->priv),
 * shared by the parsers, the plans and the apply code; and the netem
 * engine's ops, which netem/netem.c puts in its table.
 */
#ifndef FAULTLINE_NETEM_SPEC_H
#define FAULTLINE_NETEM_SPEC_H

#include "core/faultline.h"

/* tc handles faultline owns: "fa17:" for its root, "fa18:" for netem. */
#define NETEM_HANDLE_ROOT	0xfa170000U
#define NETEM_HANDLE_NETEM	0xfa180000U
#define NETEM_CLASS_MATCHED	0xfa170002U	/* fa17:2, the matched subset */
/* netem's own default queue, the floor of limit: auto. */
#define NETEM_DEFAULT_LIMIT	1000U

enum netem_dir {
	NETEM_EGRESS,
	NETEM_INGRESS,
	NETEM_BOTH,
};

enum netem_dist {
	NETEM_DIST_NONE,	/* not given: the kernel's uniform jitter */
	NETEM_DIST_UNIFORM,
	NETEM_DIST_NORMAL,
	NETEM_DIST_PARETO,
	NETEM_DIST_PARETONORMAL,
};

enum netem_loss_model {
	NETEM_LOSS_NONE,
	NETEM_LOSS_RANDOM,	/* loss: 2% */
	NETEM_LOSS_GEMODEL,	/* Gilbert-Elliott: p, r, 1-h, 1-k */
	NETEM_LOSS_STATE,	/* 4-state Markov: p13, p31, p32, p23, p14 */
};

/* Protocols a match (or a partition's keep) can name. */
enum netem_proto {
	NETEM_PROTO_ANY = -1,
	NETEM_PROTO_TCP = 6,
	NETEM_PROTO_UDP = 17,
	NETEM_PROTO_ICMP = 1,
	NETEM_PROTO_ICMPV6 = 58,
	NETEM_PROTO_SCTP = 132,
};

struct netem_match {
	struct fl_cidr *to, *from;
	size_t nto, nfrom;
	uint16_t *ports;
	size_t nports;
	int protocol;			/* enum netem_proto */
};

struct netem_spec {
	char *device;
	enum netem_dir direction;
	bool has_match;
	struct netem_match match;

	bool has_delay, has_jitter, has_correlation;
	uint64_t delay_ns, jitter_ns;
	double correlation;		/* percent, applies to every impairment */
	enum netem_dist distribution;

	enum netem_loss_model loss_model;
	double loss;			/* RANDOM: percent */
	/* GEMODEL: p, r, 1-h, 1-k; STATE: p13, p31, p32, p23, p14 (percent). */
	double lp[5];

	bool has_duplicate, has_corrupt;
	double duplicate, corrupt;

	bool has_reorder;
	double reorder;			/* percent */
	uint32_t reorder_gap;		/* 0: not given */

	bool has_rate;
	uint64_t rate_bps;

	bool has_slot;
	uint64_t slot_min_ns, slot_max_ns;

	bool ecn;
	bool has_seed;
	uint64_t seed;

	bool limit_auto;		/* the default */
	uint32_t limit;			/* packets, when !limit_auto */
};

/* The device: key, an interface name (1 to 15 characters, no '/', ':'). */
int netem_get_device(const struct fl_node *v, char **out, struct fl_diag *d);

/* The packet limit netem gets for limit: auto on a link of link_bps. */
uint32_t netem_auto_limit(const struct netem_spec *s, uint64_t link_bps);

/* Names as the file gives them: directions, distributions (from
 * NETEM_DIST_UNIFORM), a loss model's keys ("model", then its
 * probabilities in the order of lp[]), protocols ("any" for none). */
extern const char *const netem_dir_names[];
extern const char *const netem_dist_names[];
extern const char *const netem_gemodel_keys[];
extern const char *const netem_state_keys[];
const char *netem_proto_name(int proto);

/* The netem engine's ops (netem/netem.c has the table): netem/plan.c, */
int netem_check(const struct fl_fault *f, char *why, size_t len);
int netem_describe(const struct fl_fault *f, json_object *out);
int netem_resources(const struct fl_fault *f, json_object *out);
int netem_claims(const struct fl_fault *f, json_object *out);
/*
 * One claim (see claims in struct fl_engine): object "dev:DEV:HOOK",
 * what for people, share or NULL, and whether it nests.
 */
void netem_claim(json_object *out, const char *dev, const char *hook,
		 const char *share, bool nests, const char *fmt, ...)
	__attribute__((format(printf, 6, 7)));
/* and netem/apply.c. */
int netem_apply(const struct fl_fault *f, struct fl_undo *u, void **rt);
int netem_live(void *rt, json_object *out);
int netem_observe(void *rt, json_object *out);
int netem_revert(json_object *state);

/* A partition's "keep: [tcp/22]" entry: never cut. */
struct partition_keep {
	int protocol;			/* enum netem_proto */
	uint16_t port_lo, port_hi;	/* 0, 0 for icmp */
};

struct partition_group {
	struct fl_cidr *hosts;
	size_t n;
};

struct partition_spec {
	struct partition_group *groups;
	size_t ngroups;
	bool one_way;
	struct partition_keep *keep;
	size_t nkeep;
};

#endif
