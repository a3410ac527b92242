// SPDX-License-Identifier: GPL-2.0-only
/*
 * The syscall fault's programs (bpf/syscall_load.c loads them).  Each
 * route has its programs; the loader turns on those the chosen routes need:
 *   - cgroup sock_addr hooks (connect, bind, UDP sendmsg), which fail the
 *     call with bpf_set_retval() and return 0 (reject);
 *   - BPF LSM programs and fmod_ret programs on the security_* functions,
 *     which return -errno;
 *   - tp_btf/sched_process_fork, which adds children of targeted thread
 *     groups to fl_targets.
 *   - route 1, the syscall's own entry: fmod_ret programs on __x64_sys_*,
 *     which return -errno and skip the syscall, or kprobes on them that
 *     call bpf_override_return(); SF_ENTRY_SLOTS of each, one per call,
 *     whose target the loader sets (entry_nr[] says which call a slot
 *     fails);
 * Every program goes through one decision: the target, the call, the
 * peer or path filter, the `when` counter (per thread and per call, like
 * strace's), the probability and the errno weights; an injection is
 * counted and sent to user space on the fl_events ring buffer.  Revert
 * turns them all off through the sf_ctl map, from any process.
 */
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#include "bpf/sysfault.h"

#define AF_INET		2
#define AF_INET6	10

/* Settings, written by the loader before load. */
const volatile __u32 target_kind;	/* enum sf_target */
const volatile __u64 cg_id;
const volatile __u32 cg_level;
const volatile __u32 cg_attached;	/* cgroup programs sit on the target */
const volatile __u32 follow_forks;
const volatile __u64 prob = 1ULL << 32;	/* chance, out of 2^32 */
const volatile __u32 has_when;
const volatile __u64 when_after;
const volatile __u64 when_every = 1;
const volatile __u64 when_times;	/* 0: no limit */
const volatile __u32 nerrs = 1;
const volatile __s32 errs[SF_MAX_ERRNOS] = { 5 };
const volatile __u32 cum[SF_MAX_ERRNOS];	/* cumulative weights, 2^32 */
const volatile __u32 nports;
const volatile __u16 ports[SF_MAX_PORTS];
const volatile __u32 ncidrs;
const volatile struct sf_cidr cidrs[SF_MAX_CIDRS];
const volatile __u32 path_len;		/* 0: no path filter */
const volatile char path[SF_PATH_LEN];
const volatile __u8 calls[SF_MAX_NR];	/* 1: this syscall is chosen */
const volatile __s32 entry_nr[SF_ENTRY_SLOTS];	/* route 1: slot -> call */
const volatile __s32 nr_connect = -1, nr_bind = -1, nr_sendto = -1,
		     nr_sendmsg = -1;

/* Injections per syscall, and events the ring buffer had no room for. */
__u64 injected[SF_MAX_NR];
__u64 dropped;

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, __u32);		/* tgid */
	__type(value, __u8);
} fl_targets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, __u64);		/* tid << 32 | syscall */
	__type(value, __u64);		/* matching calls so far */
} fl_counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} fl_events SEC(".maps");

/*
 * The off switch: revert sets key 0 to 1, by the map's id, from whichever
 * process replays the record, and every program lets calls pass.
 */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} sf_ctl SEC(".maps");

struct scratch {
	struct sf_event ev;
	char full[SF_PATH_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} fl_scratch SEC(".maps");

static __always_inline struct scratch *scratch_get(void)
{
	__u32 zero = 0;
	struct scratch *s = bpf_map_lookup_elem(&fl_scratch, &zero);

	if (s) {
		s->ev.family = 0;
		s->ev.port = 0;
		s->ev.path[0] = 0;
	}
	return s;
}

static __always_inline bool chosen(long nr)
{
	return nr >= 0 && nr < SF_MAX_NR && calls[nr];
}

/* By thread-group id, or by cgroup ancestry. */
static __always_inline bool targeted(bool cgroup_prog)
{
	__u32 tgid;

	if (target_kind == SF_TARGET_CGROUP) {
		if (cgroup_prog && cg_attached)
			return true;
		return bpf_get_current_ancestor_cgroup_id(cg_level) == cg_id;
	}
	tgid = bpf_get_current_pid_tgid() >> 32;
	return bpf_map_lookup_elem(&fl_targets, &tgid) != NULL;
}

static __always_inline bool peer_match(struct sf_event *ev)
{
	bool ok;
	int i, b;

	if (nports) {
		ok = false;
		for (i = 0; i < SF_MAX_PORTS; i++)
			if (i < nports && ports[i] == ev->port)
				ok = true;
		if (!ok)
			return false;
	}
	if (!ncidrs)
		return true;
	for (i = 0; i < SF_MAX_CIDRS; i++) {
		int bits;

		if (i >= ncidrs)
			break;
		if (cidrs[i].family != ev->family)
			continue;
		ok = true;
		bits = cidrs[i].prefix;
		for (b = 0; b < 16; b++) {
			__u8 mask;

			if (bits <= 0)
				break;
			mask = bits >= 8 ? 0xff : (0xff << (8 - bits)) & 0xff;
			if ((ev->addr[b] ^ cidrs[i].addr[b]) & mask)
				ok = false;
			bits -= 8;
		}
		if (ok)
			return true;
	}
	return false;
}

/* full holds a path of n bytes (with its NUL): under the prefix? */
static __always_inline bool path_match(const char *full, long n)
{
	int i;

	if (!path_len)
		return true;
	if (n <= 0)
		return false;
	for (i = 0; i < SF_PATH_LEN; i++) {
		if (i >= path_len)
			break;
		if (full[i] != path[i])
			return false;
	}
	if (path_len == 1)		/* "/" */
		return true;
	if (path_len >= SF_PATH_LEN)
		return false;
	return full[path_len & (SF_PATH_LEN - 1)] == '/' ||
	       full[path_len & (SF_PATH_LEN - 1)] == 0;
}

/*
 * The decision, after the target, call and filters matched: `when`,
 * probability and errno.  Returns a positive errno, or 0 to let it pass.
 */
static __always_inline int decide(long nr, struct sf_event *ev)
{
	__u64 id = bpf_get_current_pid_tgid(), n = 1, k, *cnt;
	__u32 r, zero = 0, *off;
	int err, i;

	off = bpf_map_lookup_elem(&sf_ctl, &zero);
	if (off && *off)
		return 0;
	if (has_when) {
		__u64 key = (id << 32) | (__u32)nr;

		cnt = bpf_map_lookup_elem(&fl_counts, &key);
		if (cnt) {
			n = *cnt + 1;
			*cnt = n;
		} else {
			bpf_map_update_elem(&fl_counts, &key, &n, BPF_ANY);
		}
		if (n <= when_after)
			return 0;
		k = n - when_after - 1;
		if (when_every > 1 && k % when_every)
			return 0;
		if (when_times && k / when_every >= when_times)
			return 0;
	}
	if (prob < (1ULL << 32) && bpf_get_prandom_u32() >= prob)
		return 0;
	err = errs[0];
	if (nerrs > 1) {
		r = bpf_get_prandom_u32();
		for (i = 0; i < SF_MAX_ERRNOS; i++) {
			if (i >= nerrs)
				break;
			err = errs[i];
			if (r <= cum[i])
				break;
		}
	}
	ev->ts = bpf_ktime_get_ns();
	ev->pid = id >> 32;
	ev->tid = (__u32)id;
	ev->nr = nr;
	ev->err = err;
	bpf_get_current_comm(ev->comm, sizeof(ev->comm));
	if (nr >= 0 && nr < SF_MAX_NR)
		__sync_fetch_and_add(&injected[nr], 1);
	if (bpf_ringbuf_output(&fl_events, ev, sizeof(*ev), 0))
		__sync_fetch_and_add(&dropped, 1);
	return err;
}

/* ------------------------------------------------------------------ */
/* Route 3: cgroup sock_addr hooks.                                    */

static __always_inline int sock_addr(struct bpf_sock_addr *ctx, long nr,
				     bool v6)
{
	struct scratch *s;
	struct sf_event *ev;
	int err;

	if (!chosen(nr) || !targeted(true))
		return 1;
	s = scratch_get();
	if (!s)
		return 1;
	ev = &s->ev;
	ev->family = v6 ? AF_INET6 : AF_INET;
	ev->port = bpf_ntohs(ctx->user_port);
	if (v6) {
		__u32 a[4];

		a[0] = ctx->user_ip6[0];
		a[1] = ctx->user_ip6[1];
		a[2] = ctx->user_ip6[2];
		a[3] = ctx->user_ip6[3];
		__builtin_memcpy(ev->addr, a, 16);
	} else {
		__u32 a = ctx->user_ip4;

		__builtin_memset(ev->addr, 0, 16);
		__builtin_memcpy(ev->addr, &a, 4);
	}
	if (!peer_match(ev))
		return 1;
	err = decide(nr, ev);
	if (!err)
		return 1;
	bpf_set_retval(-err);
	return 0;
}

static __always_inline long send_nr(void)
{
	return chosen(nr_sendmsg) ? nr_sendmsg : nr_sendto;
}

/* One program per hook and family: sf_connect4 for cgroup/connect4, ... */
#define SOCK_ADDR_PROG(hook, nr, v6)				\
SEC("cgroup/" #hook)						\
int sf_##hook(struct bpf_sock_addr *ctx)			\
{								\
	return sock_addr(ctx, nr, v6);				\
}

SOCK_ADDR_PROG(connect4, nr_connect, false)
SOCK_ADDR_PROG(connect6, nr_connect, true)
SOCK_ADDR_PROG(bind4, nr_bind, false)
SOCK_ADDR_PROG(bind6, nr_bind, true)
SOCK_ADDR_PROG(sendmsg4, send_nr(), false)
SOCK_ADDR_PROG(sendmsg6, send_nr(), true)

/* ------------------------------------------------------------------ */
/* Following forks: children of targeted thread groups join them.      */

SEC("tp_btf/sched_process_fork")
int BPF_PROG(sf_fork, struct task_struct *parent, struct task_struct *child)
{
	__u32 ptgid = parent->tgid, ctgid = child->tgid;
	__u8 one = 1;

	if (!follow_forks || ptgid == ctgid)
		return 0;
	if (bpf_map_lookup_elem(&fl_targets, &ptgid))
		bpf_map_update_elem(&fl_targets, &ctgid, &one, BPF_ANY);
	return 0;
}

/* ------------------------------------------------------------------ */
/* Route 2: LSM hooks, as BPF LSM or fmod_ret on security_*.           */

/* The syscall the current task is in. */
static __always_inline long cur_nr(void)
{
#if defined(__TARGET_ARCH_x86)
	struct pt_regs *regs;

	regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	return regs ? (long)BPF_CORE_READ(regs, orig_ax) : -1;
#else
	return -1;
#endif
}

/* The start of a hook: the target and the call; NULL: let it pass. */
static __always_inline struct scratch *hook_start(long *nr)
{
	*nr = cur_nr();
	if (!chosen(*nr) || !targeted(false))
		return NULL;
	return scratch_get();
}

static __always_inline void addr_from_sockaddr(struct sf_event *ev,
					       struct sockaddr *sa)
{
	__u16 fam = BPF_CORE_READ(sa, sa_family);

	__builtin_memset(ev->addr, 0, 16);
	if (fam == AF_INET) {
		struct sockaddr_in *in = (void *)sa;

		ev->family = AF_INET;
		ev->port = bpf_ntohs(BPF_CORE_READ(in, sin_port));
		bpf_probe_read_kernel(ev->addr, 4, &in->sin_addr);
	} else if (fam == AF_INET6) {
		struct sockaddr_in6 *in6 = (void *)sa;

		ev->family = AF_INET6;
		ev->port = bpf_ntohs(BPF_CORE_READ(in6, sin6_port));
		bpf_probe_read_kernel(ev->addr, 16, &in6->sin6_addr);
	}
}

/* A connected socket's peer. */
static __always_inline void addr_from_sock(struct sf_event *ev,
					   struct socket *sock)
{
	struct sock *sk = BPF_CORE_READ(sock, sk);
	__u16 fam;

	__builtin_memset(ev->addr, 0, 16);
	if (!sk)
		return;
	fam = BPF_CORE_READ(sk, __sk_common.skc_family);
	ev->port = bpf_ntohs(BPF_CORE_READ(sk, __sk_common.skc_dport));
	if (fam == AF_INET) {
		ev->family = AF_INET;
		bpf_probe_read_kernel(ev->addr, 4,
				      &sk->__sk_common.skc_daddr);
	} else if (fam == AF_INET6) {
		ev->family = AF_INET6;
		bpf_probe_read_kernel(ev->addr, 16,
				      &sk->__sk_common.skc_v6_daddr);
	}
}

/* A file's path, for the path filter and the event. */
static __always_inline bool file_match(struct scratch *s, struct file *file)
{
	long n;

	n = bpf_d_path((struct path *)&file->f_path, s->full,
		       sizeof(s->full));
	if (!path_match(s->full, n))
		return false;
	bpf_probe_read_kernel_str(s->ev.path, sizeof(s->ev.path), s->full);
	return true;
}

/* Open calls, and read and write through fmod_ret: the path filter. */
static __always_inline int on_file(struct file *file)
{
	struct scratch *s;
	long nr;

	s = hook_start(&nr);
	if (!s || !file_match(s, file))
		return 0;
	return -decide(nr, &s->ev);
}

/* No path: bpf_d_path is not allowed in the lsm/file_permission hook. */
static __always_inline int on_plain(void)
{
	struct scratch *s;
	long nr;

	s = hook_start(&nr);
	if (!s)
		return 0;
	return -decide(nr, &s->ev);
}

/*
 * Socket calls: the peer filter, on the address passed to the call (sa),
 * else the socket's peer.
 */
static __always_inline int on_peer(struct sockaddr *sa, struct socket *sock)
{
	struct scratch *s;
	long nr;

	s = hook_start(&nr);
	if (!s)
		return 0;
	if (sa)
		addr_from_sockaddr(&s->ev, sa);
	else
		addr_from_sock(&s->ev, sock);
	if (!peer_match(&s->ev))
		return 0;
	return -decide(nr, &s->ev);
}

/* lsm/HOOK and fmod_ret/security_FUNC, with the same body. */
#define SF_HOOK(name, lsmsec, fmodsec, args, call)			\
SEC(lsmsec)								\
int BPF_PROG(sf_lsm_##name, args) { return call; }			\
SEC(fmodsec)								\
int BPF_PROG(sf_fmod_##name, args) { return call; }

#define A(...) __VA_ARGS__

SF_HOOK(file_open, "lsm.s/file_open", "fmod_ret/security_file_open",
	struct file *file, on_file(file))
SF_HOOK(file_permission, "lsm/file_permission",
	"fmod_ret/security_file_permission",
	A(struct file *file, int mask), on_plain())
SF_HOOK(mmap_file, "lsm/mmap_file", "fmod_ret/security_mmap_file",
	struct file *file, on_plain())
SF_HOOK(path_truncate, "lsm/path_truncate", "fmod_ret/security_path_truncate",
	const struct path *p, on_plain())
SF_HOOK(inode_unlink, "lsm/inode_unlink", "fmod_ret/security_inode_unlink",
	struct inode *dir, on_plain())
SF_HOOK(inode_rename, "lsm/inode_rename", "fmod_ret/security_inode_rename",
	struct inode *dir, on_plain())
SF_HOOK(inode_mkdir, "lsm/inode_mkdir", "fmod_ret/security_inode_mkdir",
	struct inode *dir, on_plain())
SF_HOOK(inode_rmdir, "lsm/inode_rmdir", "fmod_ret/security_inode_rmdir",
	struct inode *dir, on_plain())
SF_HOOK(socket_create, "lsm/socket_create", "fmod_ret/security_socket_create",
	A(int family, int type, int protocol, int kern),
	kern ? 0 : on_plain())
SF_HOOK(socket_connect, "lsm/socket_connect",
	"fmod_ret/security_socket_connect",
	A(struct socket *sock, struct sockaddr *address, int addrlen),
	on_peer(address, NULL))
SF_HOOK(socket_bind, "lsm/socket_bind", "fmod_ret/security_socket_bind",
	A(struct socket *sock, struct sockaddr *address, int addrlen),
	on_peer(address, NULL))
SF_HOOK(socket_sendmsg, "lsm/socket_sendmsg",
	"fmod_ret/security_socket_sendmsg",
	A(struct socket *sock, struct msghdr *msg, int size),
	on_peer(BPF_CORE_READ(msg, msg_name), sock))
SF_HOOK(socket_recvmsg, "lsm/socket_recvmsg",
	"fmod_ret/security_socket_recvmsg",
	A(struct socket *sock, struct msghdr *msg, int size, int flags),
	on_peer(NULL, sock))
SF_HOOK(socket_accept, "lsm/socket_accept", "fmod_ret/security_socket_accept",
	A(struct socket *sock, struct socket *newsock), on_peer(NULL, sock))
SF_HOOK(socket_listen, "lsm/socket_listen", "fmod_ret/security_socket_listen",
	A(struct socket *sock, int backlog), on_plain())
SF_HOOK(task_alloc, "lsm/task_alloc", "fmod_ret/security_task_alloc",
	struct task_struct *task, on_plain())
SF_HOOK(bprm_check_security, "lsm/bprm_check_security",
	"fmod_ret/security_bprm_check", struct linux_binprm *bprm, on_plain())

/* fmod_ret on security_file_permission may read the path. */
SEC("fmod_ret/security_file_permission")
int BPF_PROG(sf_fmod_file_permission_path, struct file *file, int mask)
{
	return on_file(file);
}

/* ------------------------------------------------------------------ */
/* Route 1: the syscall's own entry, __x64_sys_<call>.                 */

/*
 * A positive errno for the call in this slot, or 0.  No path or peer
 * filter here: at the entry they are still user memory, so the loader
 * only uses this route for calls without one.
 */
static __always_inline int on_entry(int slot)
{
	struct scratch *s;
	long nr = entry_nr[slot];

	if (!chosen(nr) || !targeted(false))
		return 0;
	s = scratch_get();
	if (!s)
		return 0;
	return decide(nr, &s->ev);
}

/*
 * fmod_ret: a non-zero return skips the syscall and becomes its result,
 * all 64 bits of it: the program returns a long (BPF_PROG's int would
 * come back zero-extended, -EIO as 4294967291, which libc takes for a
 * success, or for an int call for -1 with a stale errno).  ctx[1] is
 * what an earlier program returned.  The section names no function: the
 * loader sets it per slot.
 */
#define SF_ENTRY(i)							\
SEC("?fmod_ret")							\
long sf_fmod_sys##i(unsigned long long *ctx)				\
{									\
	long ret = (long)ctx[1];					\
									\
	return ret ? ret : -(long)on_entry(i);				\
}									\
SEC("?kprobe")								\
int sf_kprobe_sys##i(struct pt_regs *ctx)				\
{									\
	int err = on_entry(i);						\
									\
	if (err)							\
		bpf_override_return(ctx, -err);				\
	return 0;							\
}

SF_ENTRY(0) SF_ENTRY(1) SF_ENTRY(2) SF_ENTRY(3)
SF_ENTRY(4) SF_ENTRY(5) SF_ENTRY(6) SF_ENTRY(7)
SF_ENTRY(8) SF_ENTRY(9) SF_ENTRY(10) SF_ENTRY(11)
SF_ENTRY(12) SF_ENTRY(13) SF_ENTRY(14) SF_ENTRY(15)
SF_ENTRY(16) SF_ENTRY(17) SF_ENTRY(18) SF_ENTRY(19)
SF_ENTRY(20) SF_ENTRY(21) SF_ENTRY(22) SF_ENTRY(23)
SF_ENTRY(24) SF_ENTRY(25) SF_ENTRY(26) SF_ENTRY(27)
SF_ENTRY(28) SF_ENTRY(29) SF_ENTRY(30) SF_ENTRY(31)

char LICENSE[] SEC("license") = "GPL";
