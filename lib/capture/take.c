/* SPDX-License-Identifier: MIT */
/*
 * Taking a snapshot: inject the payload, start its thread, let the target
 * go, then talk to the payload over its socketpair (lib/payload/protocol.h)
 * and wait until it has unloaded itself.
 *
 * The seized thread is away from its own code only for the remote calls
 * that load the payload and start its thread; the walk runs on the
 * payload's thread while every thread of the target runs freely.
 */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject.h"
#include "payload/protocol.h"
#include "capture/capture.h"

static uint64_t mono_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static int ms_left(uint64_t deadline_ns)
{
	uint64_t now = mono_ns();

	if (now >= deadline_ns)
		return 0;
	return (int)((deadline_ns - now + 999999) / 1000000);
}

static bool alive(pid_t pid)
{
	char st = muppy__proc_state(pid, NULL);

	return st && st != 'Z' && st != 'X';
}

/* The process exited or executed another program: says so in err. */
static bool gone(pid_t pid, const struct muppy__pyinfo *pi,
		 struct muppy_error *err)
{
	if (!alive(pid)) {
		muppy_error_clear(err);
		muppy_error_set(err, "process %d exited during the snapshot",
				(int)pid);
		return true;
	}
	if (muppy__pyinfo_exec_happened(pid, pi)) {
		muppy_error_clear(err);
		muppy_error_set(err, "process %d executed another program "
				"during the snapshot", (int)pid);
		return true;
	}
	return false;
}

/* The payload's end closed without an answer: an exit or an exec in
 * progress kills it before /proc shows why; look for a moment. */
static bool gone_soon(pid_t pid, const struct muppy__pyinfo *pi,
		      struct muppy_error *err)
{
	for (int i = 0; i < 100; i++) {
		if (gone(pid, pi, err))
			return true;
		usleep(5000);
	}
	return false;
}

/* A copy of descriptor fd of the process pidfd pins. */
static int take_fd(int pidfd, int fd, struct muppy_error *err)
{
	int r = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);

	if (r < 0) {
		r = -errno;
		if (r == -ENOSYS)
			muppy_error_set(err, "this kernel has no pidfd_getfd "
					"(Linux 5.6 or later needed)");
		else
			muppy__error_errno(err, -r, "pidfd_getfd");
	}
	return r;
}

/*
 * Signals that end or stop muppy-snap are blocked while a thread of the
 * target may be stopped or in the middle of a remote call; they take
 * effect only while muppy-snap waits (ppoll with the caller's mask, or a
 * look at the pending signals between attempts), when the target runs
 * freely.  SIGKILL and SIGSTOP cannot be blocked: the remote calls restore
 * the thread by themselves (inject.h).
 */
static void block_signals(sigset_t *old)
{
	static const int sigs[] = { SIGINT, SIGTERM, SIGHUP, SIGQUIT, SIGPIPE,
				    SIGUSR1, SIGUSR2, SIGALRM, SIGTSTP,
				    SIGTTIN, SIGTTOU };
	sigset_t set;

	sigemptyset(&set);
	for (size_t i = 0; i < ARRAY_SIZE(sigs); i++)
		sigaddset(&set, sigs[i]);
	pthread_sigmask(SIG_BLOCK, &set, old);
}

/* Reads exactly len bytes before the deadline; -EINTR on a signal. */
static int recv_all(int sock, void *buf, size_t len, uint64_t deadline_ns,
		    const sigset_t *wait_mask)
{
	char *p = buf;

	while (len) {
		struct pollfd pfd = { .fd = sock, .events = POLLIN };
		ssize_t n;
		int ms = ms_left(deadline_ns);

		struct timespec ts = { ms / 1000, (long)(ms % 1000) * 1000000 };

		if (ms == 0)
			return -ETIMEDOUT;
		n = ppoll(&pfd, 1, &ts, wait_mask);
		if (n < 0 && errno == EINTR)
			return -EINTR;
		if (n <= 0)
			continue;
		n = recv(sock, p, len, MSG_DONTWAIT);
		if (n == 0)
			return -EPIPE;
		if (n < 0) {
			if (errno == EAGAIN || errno == EINTR)
				continue;
			return -errno;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

static int status_error(const struct muppy_reply *rep, pid_t pid,
			struct muppy_error *err)
{
	static const int codes[] = {
		[MUPPY_ST_NOT_PYTHON] = -ENOEXEC,
		[MUPPY_ST_NOT_READY] = -EAGAIN,
		[MUPPY_ST_UNSUPPORTED] = -EPROTONOSUPPORT,
		[MUPPY_ST_TIMEOUT] = -ETIMEDOUT,
		[MUPPY_ST_NOMEM] = -ENOMEM,
		[MUPPY_ST_INTERNAL] = -EPROTO,
		[MUPPY_ST_BUSY] = -EBUSY,
	};
	int r = rep->status < ARRAY_SIZE(codes) && codes[rep->status]
		? codes[rep->status] : -EPROTO;
	/* the payload's text, as the target left it: escaped */
	char *e = muppy_escape(rep->message, strnlen(rep->message,
						     sizeof(rep->message)));

	muppy_error_set(err, "process %d: %s", (int)pid, e ? e : "?");
	free(e);
	return r;
}

/* One record of the answer (protocol.h); its name follows. */
struct __attribute__((packed)) answer_rec {
	uint64_t count, bytes;
	uint32_t len;
};

/* The answer's row count, within MUPPY_ANSWER_TYPES_MAX: 0 or -EMSGSIZE. */
static int check_types(pid_t pid, uint32_t ntypes, struct muppy_error *err)
{
	if (ntypes <= MUPPY_ANSWER_TYPES_MAX)
		return 0;
	muppy_error_set(err, "process %d: its answer has %" PRIu32 " types, "
			"more than the %u muppy-snap takes; nothing was read "
			"(a hostile or broken process)", (int)pid, ntypes,
			MUPPY_ANSWER_TYPES_MAX);
	return -EMSGSIZE;
}

/*
 * A record header, within the limits of protocol.h; *total counts the
 * bytes of the records so far, this one's included.  0 or -EMSGSIZE.
 */
static int check_rec(pid_t pid, const struct answer_rec *rec,
		     const char *what, uint64_t *total, struct muppy_error *err)
{
	static const char why[] = "(a hostile or broken process)";

	*total += sizeof(*rec) + (uint64_t)rec->len;
	if (rec->len > MUPPY_ANSWER_NAME_MAX)
		muppy_error_set(err, "process %d: its answer has a %s name "
				"of %" PRIu32 " bytes, more than the %u KiB "
				"muppy-snap takes %s", (int)pid, what, rec->len,
				MUPPY_ANSWER_NAME_MAX >> 10, why);
	else if (*total > MUPPY_ANSWER_BYTES_MAX)
		muppy_error_set(err, "process %d: its answer is over the %u "
				"MiB muppy-snap takes %s", (int)pid,
				MUPPY_ANSWER_BYTES_MAX >> 20, why);
	else if (rec->count > (uint64_t)MUPPY_MAX_VALUE ||
		 rec->bytes > (uint64_t)MUPPY_MAX_VALUE)
		muppy_error_set(err, "process %d: its answer has a count above "
				"%" PRId64 " %s", (int)pid, MUPPY_MAX_VALUE,
				why);
	else
		return 0;
	return -EMSGSIZE;
}

/* Where the answer comes from: the socket, or a copy of the target's
 * memory (muppy_payload_here). */
struct src {
	int sock;               /* -1: buf */
	uint64_t deadline_ns;
	const sigset_t *wait_mask;
	const char *buf;
	size_t len, off;
};

static int src_read(struct src *in, void *dst, size_t n)
{
	if (in->sock >= 0)
		return recv_all(in->sock, dst, n, in->deadline_ns,
				in->wait_mask);
	if (n > in->len - in->off)
		return -EPROTO;
	memcpy(dst, in->buf + in->off, n);
	in->off += n;
	return 0;
}

/* len bytes into *buf (grown as needed). */
static int src_take(struct src *in, char **buf, size_t *cap, size_t len)
{
	if (len > *cap || !*buf) {
		char *p = realloc(*buf, len ? len : 1);

		if (!p)
			return -ENOMEM;
		*buf = p;
		*cap = len ? len : 1;
	}
	return src_read(in, *buf, len);
}

/* The rows that follow the reply, within the limits of protocol.h. */
static int read_rows(struct src *in, pid_t pid, const struct muppy_reply *rep,
		     struct muppy_snapshot *s, uint64_t *total,
		     struct muppy_error *err)
{
	char *name = NULL;
	size_t cap = 0;
	int r = check_types(pid, rep->ntypes, err);

	for (uint32_t i = 0; r == 0 && i < rep->ntypes; i++) {
		struct answer_rec rec;

		r = src_read(in, &rec, sizeof(rec));
		if (r == 0)
			r = check_rec(pid, &rec, "type", total, err);
		if (r == 0)
			r = src_take(in, &name, &cap, rec.len);
		if (r == 0)
			r = muppy_snapshot_add_raw(s, name, rec.len, rec.count,
						   rec.bytes);
	}
	free(name);
	return r;
}

/* Something of the answer above a limit: -EMSGSIZE. */
static int too_much(pid_t pid, const char *what, struct muppy_error *err)
{
	muppy_error_set(err, "process %d: its answer has %s (a hostile or "
			"broken process)", (int)pid, what);
	return -EMSGSIZE;
}

/* One path of an owners section; *all counts the steps of the answer's
 * paths so far, this one's included. */
static int read_path(struct src *in, pid_t pid, struct muppy_owners *own,
		     uint64_t *total, uint64_t *all, struct muppy_error *err)
{
	struct __attribute__((packed)) { uint64_t id; uint32_t nsteps; } h;
	char **steps = NULL;
	size_t *lens = NULL, n = 0;
	int r = src_read(in, &h, sizeof(h));

	if (r == 0 && (h.nsteps < 2 || h.nsteps > MUPPY_OWNERS_STEPS_MAX))
		r = too_much(pid, "a path of a bad length", err);
	if (r == 0 && (*all += h.nsteps) > MUPPY_OWNERS_ALL_STEPS_MAX)
		r = too_much(pid, "paths of more steps in all than muppy-snap "
			     "takes", err);
	*total += sizeof(h);
	if (r == 0 && (!(steps = calloc(h.nsteps, sizeof(*steps))) ||
		       !(lens = calloc(h.nsteps, sizeof(*lens)))))
		r = -ENOMEM;
	for (; r == 0 && n < h.nsteps; n++) {
		uint32_t len;
		size_t cap = 0;

		r = src_read(in, &len, sizeof(len));
		*total += sizeof(len) + (uint64_t)len;
		if (r == 0 && (len > MUPPY_ANSWER_NAME_MAX ||
			       *total > MUPPY_ANSWER_BYTES_MAX))
			r = too_much(pid, "a path step or an answer too long",
				     err);
		if (r == 0)
			r = src_take(in, &steps[n], &cap, len);
		lens[n] = len;
	}
	if (r == 0)
		r = muppy_owners_add_path(own, h.id, h.nsteps,
					  (const void *const *)steps, lens);
	for (size_t i = 0; i < n && steps; i++)
		free(steps[i]);
	free(steps);
	free(lens);
	return r;
}

/* The owners sections after the rows: one per type asked for. */
static int read_owners(struct src *in, pid_t pid, const struct muppy_reply *rep,
		       const struct muppy_snap_opts *o, struct muppy_snapshot *s,
		       uint64_t *total, struct muppy_error *err)
{
	uint64_t all = 0;
	char *name = NULL;
	size_t cap = 0;
	int r = 0;

	if (rep->nowners != o->nowners) {
		muppy_error_set(err, "process %d: its answer has %" PRIu32
				" owners sections for %zu types asked for (a "
				"hostile or broken process)", (int)pid,
				rep->nowners, o->nowners);
		return -EMSGSIZE;
	}
	for (size_t i = 0; r == 0 && i < o->nowners; i++) {
		struct muppy_owners_rec rec;
		struct muppy_owners *own = NULL;
		char *type = NULL;
		size_t tlen;

		r = src_read(in, &rec, sizeof(rec));
		*total += sizeof(rec);
		if (r == 0 && (rec.nholders > MUPPY_OWNERS_HOLDERS_MAX ||
			       rec.npaths > o->paths ||
			       rec.count > (uint64_t)MUPPY_MAX_VALUE ||
			       rec.bytes > (uint64_t)MUPPY_MAX_VALUE ||
			       rec.shared > rec.count ||
			       rec.unreachable > rec.count))
			r = too_much(pid, "an owners section out of bounds",
				     err);
		if (r == 0 && muppy_unescape(o->owners[i], &type, &tlen) < 0)
			r = -EINVAL;
		if (r == 0)
			r = muppy_snapshot_add_owners(s, type, tlen, rec.count,
						      rec.bytes, rec.shared,
						      rec.unreachable, &own);
		free(type);
		for (uint32_t j = 0; r == 0 && j < rec.nholders; j++) {
			struct answer_rec h;

			r = src_read(in, &h, sizeof(h));
			if (r == 0)
				r = check_rec(pid, &h, "holder", total, err);
			if (r == 0 && h.count > rec.count)
				r = too_much(pid, "a holder of more objects "
					     "than the type has", err);
			if (r == 0)
				r = src_take(in, &name, &cap, h.len);
			if (r == 0)
				r = muppy_owners_add_holder(own, name, h.len,
							    h.count, h.bytes);
		}
		for (uint32_t j = 0; r == 0 && j < rec.npaths; j++)
			r = read_path(in, pid, own, total, &all, err);
	}
	free(name);
	return r;
}

/* What the payload said about the walk (protocol 2). */
static int fill_walk_facts(struct muppy_snapshot *s,
			   const struct muppy_reply *rep)
{
	const uint64_t max = MUPPY_MAX_VALUE;

	s->frozen_known = true;
	s->frozen = rep->frozen > max ? max : rep->frozen;
	s->frozen_missed = s->frozen > 0 &&
			   (rep->flags & MUPPY_RF_FROZEN_MISSED);
	s->layout = rep->flags & MUPPY_RF_GENERIC ? MUPPY_LAYOUT_GENERIC :
		    MUPPY_LAYOUT_VERIFIED;
	s->interpreters = rep->interpreters;
	return muppy_snapshot_set_raw(&s->checks_failed, rep->failed,
				      strnlen(rep->failed,
					      sizeof(rep->failed)));
}

/* pid, command line, executable, RSS: read from /proc after the walk. */
static int fill_header(struct muppy_snapshot *s, pid_t pid,
		       const struct muppy_reply *rep)
{
	char path[64], buf[65536];
	struct timespec now;
	ssize_t n;
	long rss;
	int fd, r;

	clock_gettime(CLOCK_REALTIME, &now);
	s->pid = pid;
	s->time_ms = (int64_t)now.tv_sec * 1000 + now.tv_nsec / 1000000;
	s->gc = rep->gc_ran != 0;
	s->gc_freed = rep->gc_freed > (uint64_t)MUPPY_MAX_VALUE ?
		      (uint64_t)MUPPY_MAX_VALUE : rep->gc_freed;
	s->hold_us = rep->hold_ns / 1000;
	r = fill_walk_facts(s, rep);
	if (r < 0)
		return r;
	rss = muppy__status_field(pid, "VmRSS");
	s->rss = rss > 0 ? (uint64_t)rss * 1024 : 0;

	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	n = fd >= 0 ? read(fd, buf, sizeof(buf)) : -1;
	if (fd >= 0)
		close(fd);
	if (n < 0)
		n = 0;
	while (n > 0 && buf[n - 1] == '\0')
		n--;
	for (ssize_t i = 0; i < n; i++)
		if (buf[i] == '\0')
			buf[i] = ' ';
	r = muppy_snapshot_set_raw(&s->cmdline, buf, (size_t)n);
	if (r < 0)
		return r;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf));
	r = muppy_snapshot_set_raw(&s->executable, buf, n > 0 ? (size_t)n : 0);
	if (r < 0)
		return r;
	r = muppy_snapshot_set_raw(&s->python, rep->version,
				   strnlen(rep->version, sizeof(rep->version)));
	if (r < 0)
		return r;
	return muppy_snapshot_set_raw(&s->implementation, "cpython", 7);
}

/* Waits until the payload thread has gone and its library is unmapped. */
static int wait_gone(pid_t pid, int tid, const char *memfd_name,
		     struct muppy_error *err)
{
	uint64_t end = mono_ns() + 2000000000u;
	char path[64];

	snprintf(path, sizeof(path), "/proc/%d/task/%d", (int)pid, tid);
	for (;;) {
		struct muppy__maps maps;
		bool mapped = true;

		if (access(path, F_OK) != 0 &&
		    muppy__maps_read(pid, &maps, NULL) == 0) {
			mapped = muppy__maps_has_substr(&maps, memfd_name);
			muppy__maps_free(&maps);
			if (!mapped)
				return 0;
		}
		if (!alive(pid))
			return 0;
		if (muppy__stop_pending()) {
			muppy_error_set(err, "interrupted");
			return -EINTR;
		}
		if (mono_ns() > end) {
			muppy_error_set(err, "process %d: the payload %s has "
					"not unloaded itself within 2 s",
					(int)pid, mapped ? "library" : "thread");
			return -EBUSY;
		}
		usleep(1000);
	}
}

/* The owners part of a request, from o (checked by muppy_snap_take). */
static void owners_req(const struct muppy_snap_opts *o,
		       struct muppy_owners_req *req)
{
	size_t off = 0;

	memset(req, 0, sizeof(*req));
	req->paths = o->paths;
	for (size_t i = 0; i < o->nowners; i++) {
		char *raw;
		size_t len;

		if (muppy_unescape(o->owners[i], &raw, &len) < 0)
			continue;
		if (off + len + 1 <= sizeof(req->names)) {
			memcpy(req->names + off, raw, len);
			off += len + 1;
			req->ntypes++;
		}
		free(raw);
	}
}

/* Whether o's owners fit a request: 0, or -EINVAL with why. */
static int owners_check(const struct muppy_snap_opts *o,
			struct muppy_error *err)
{
	size_t total = 0;

	if (o->nowners > MUPPY_OWNERS_TYPES_MAX) {
		muppy_error_set(err, "--owners: at most %u types",
				MUPPY_OWNERS_TYPES_MAX);
		return -EINVAL;
	}
	if (o->nowners && o->paths > MUPPY_OWNERS_PATHS_MAX) {
		muppy_error_set(err, "--paths: at most %u",
				MUPPY_OWNERS_PATHS_MAX);
		return -EINVAL;
	}
	for (size_t i = 0; i < o->nowners; i++) {
		char *raw;
		size_t len;
		bool nul;

		if (muppy_unescape(o->owners[i], &raw, &len) < 0) {
			muppy_error_set(err, "--owners: '%s' is not a type name "
					"as snapshots write it (escaped)",
					o->owners[i]);
			return -EINVAL;
		}
		nul = memchr(raw, '\0', len) != NULL;
		free(raw);
		if (nul || len == 0) {
			muppy_error_set(err, "--owners: a type name may not be "
					"empty or hold a NUL byte");
			return -EINVAL;
		}
		total += len + 1;
		/* canonical (muppy_unescape took it): one spelling a type;
		 * a type asked twice would get a second, empty section */
		for (size_t j = 0; j < i; j++)
			if (!strcmp(o->owners[i], o->owners[j])) {
				muppy_error_set(err, "--owners: '%s' is named "
						"twice", o->owners[i]);
				return -EINVAL;
			}
	}
	if (total > MUPPY_OWNERS_NAMES_MAX) {
		muppy_error_set(err, "--owners: the type names are longer than "
				"%u bytes in all", MUPPY_OWNERS_NAMES_MAX);
		return -EINVAL;
	}
	return 0;
}

static int converse(pid_t pid, const struct muppy__pyinfo *pi, int sock,
		    const struct muppy_snap_opts *o, uint64_t deadline_ns,
		    const sigset_t *wait_mask, struct muppy_snapshot *s,
		    struct muppy_reply *rep, struct muppy_error *err)
{
	struct muppy_request req = {
		.magic = MUPPY_PROTO_MAGIC,
		.version = MUPPY_PROTO_VERSION,
		.flags = o->gc ? MUPPY_REQ_GC : 0,
		.timeout_ns = ms_left(deadline_ns) * UINT64_C(1000000),
	};
	struct src in = { .sock = sock, .wait_mask = wait_mask };
	uint64_t total = 0;
	int r;

	owners_req(o, &req.owners);
	if (send(sock, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		r = -errno;
		muppy__error_errno(err, errno, "process %d: cannot talk to "
				   "the payload", (int)pid);
		return r;
	}
	r = recv_all(sock, rep, sizeof(*rep), deadline_ns, wait_mask);
	if (r == 0 && rep->magic != MUPPY_PROTO_MAGIC)
		r = -EPROTO;
	if (r == 0 && rep->status != MUPPY_ST_OK)
		return status_error(rep, pid, err);
	/* The rows are sent right after the reply: allow 10 s for them. */
	in.deadline_ns = mono_ns() + 10000000000u;
	if (r == 0)
		r = read_rows(&in, pid, rep, s, &total, err);
	if (r == 0)
		r = read_owners(&in, pid, rep, o, s, &total, err);
	if (r == -ETIMEDOUT)
		muppy_error_set(err, "process %d: the interpreter was not free "
				"within %.1f s (a thread may hold the GIL in a "
				"long C call); try a larger --timeout", (int)pid,
				o->timeout_ms / 1000.0);
	else if ((r == -EPIPE || r == -ECONNRESET) && gone_soon(pid, pi, err))
		r = -EOWNERDEAD;
	else if (r == -EINTR)
		muppy_error_set(err, "interrupted");
	else if (r < 0)
		muppy_error_set(err, "process %d: the payload ended without an "
				"answer (%s)", (int)pid, strerror(-r));
	return r;
}

/* Python 3.6 without a GIL yet: create it (see protocol.h). */
static int init_threads(struct muppy__target *t, const struct muppy__lib *lib,
			pid_t pid, struct muppy_error *err)
{
	struct muppy_threads_io io = { 0 };
	uint64_t arg = MUPPY__SCRATCH, fn;
	struct muppy__stats ts;
	int r;

	r = muppy__target_sym(t, lib, MUPPY_PAYLOAD_INIT_THREADS, &fn, err);
	if (r < 0)
		return r;
	muppy__target_stats(t, &ts);
	io.in_syscall = ts.in_syscall;
	r = muppy__target_call(t, fn, &arg, 1, &io, sizeof(io), &io,
			       sizeof(io), err);
	if (r < 0)
		return r;
	if (io.status == EAGAIN || io.status == ENOENT)
		return -EINPROGRESS; /* not this moment, or not this thread */
	if (io.status) {
		muppy__error_errno(err, io.status, "process %d: cannot create the GIL of this "
				   "Python 3.6 process", (int)pid);
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/* The thread ids of a process, sorted; 0 terminates; NULL on error. */
static pid_t *task_ids(pid_t pid, size_t *n)
{
	char path[64];
	struct dirent *d;
	pid_t *v = NULL;
	size_t cap = 0;
	DIR *dir;

	*n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	dir = opendir(path);
	if (!dir)
		return NULL;
	while ((d = readdir(dir))) {
		pid_t tid = (pid_t)atoi(d->d_name);

		if (tid <= 0)
			continue;
		if (*n == cap) {
			pid_t *p = realloc(v, (cap = cap ? cap * 2 : 64) *
					   sizeof(*v));

			if (!p) {
				free(v);
				closedir(dir);
				return NULL;
			}
			v = p;
		}
		v[(*n)++] = tid;
	}
	closedir(dir);
	return v;
}

/* Whether a thread appeared that is not in before[nbefore]. */
static bool new_thread(pid_t pid, const pid_t *before, size_t nbefore)
{
	size_t n, i, k;
	pid_t *now = task_ids(pid, &n);
	bool found = now == NULL; /* cannot tell: assume it started */

	for (i = 0; now && i < n && !found; i++) {
		for (k = 0; k < nbefore && before[k] != now[i]; k++)
			;
		found = k == nbefore;
	}
	free(now);
	return found;
}

/* A number from a small file, or -1 ("max" and errors alike). */
static long long number_in(const char *path)
{
	char buf[64];
	long long v;

	if (muppy__proc_read(path, buf, sizeof(buf)) < 0 ||
	    sscanf(buf, "%lld", &v) != 1)
		return -1;
	return v;
}

/*
 * A cgroup directory under base, or one of its ancestors, whose
 * pids.current reached its pids.max: into why, true if found.  The path
 * comes from the target's /proc/PID/cgroup (untrusted): ".." is refused.
 */
static bool pids_full(const char *base, const char *path, size_t len,
		      char *why, size_t size)
{
	char file[4096 + 128];

	if (len == 0 || path[0] != '/' || len > 4096 ||
	    memmem(path, len, "/..", 3))
		return false;
	for (size_t end = len; ; ) {
		long long max, cur;

		snprintf(file, sizeof(file), "%s%.*s/pids.max", base, (int)end,
			 path);
		max = number_in(file);
		snprintf(file, sizeof(file), "%s%.*s/pids.current", base,
			 (int)end, path);
		cur = number_in(file);
		if (max >= 0 && cur >= max) {
			char *e = muppy_escape(path, end);

			snprintf(why, size, "its pids limit is reached (pids.max "
				 "%lld in %s%s)", max, base, e ? e : "");
			free(e);
			return true;
		}
		while (end > 0 && path[--end] != '/')
			;
		if (end == 0)
			return false;
	}
}

/*
 * Why the process could not start a thread, as far as /proc tells: a
 * cgroup on its path whose pids limit is reached (v2, or v1's pids
 * controller), or its soft RLIMIT_NPROC.
 */
static void thread_limit(pid_t pid, char *why, size_t size)
{
	char path[64], buf[8192], *line, *save = NULL;
	long long nproc = -1;
	const char *p;

	snprintf(path, sizeof(path), "/proc/%d/cgroup", (int)pid);
	if (muppy__proc_read(path, buf, sizeof(buf)) >= 0) {
		for (line = strtok_r(buf, "\n", &save); line;
		     line = strtok_r(NULL, "\n", &save)) {
			const char *ctl = strchr(line, ':'), *cg;

			cg = ctl ? strchr(ctl + 1, ':') : NULL;
			if (!cg)
				continue;
			if (cg == ctl + 1 && strncmp(line, "0:", 2) == 0 &&
			    (pids_full("/sys/fs/cgroup", cg + 1,
				       strlen(cg + 1), why, size) ||
			     pids_full("/sys/fs/cgroup/unified", cg + 1,
				       strlen(cg + 1), why, size)))
				return;
			if ((size_t)(cg - ctl - 1) == 4 &&
			    !strncmp(ctl + 1, "pids", 4) &&
			    pids_full("/sys/fs/cgroup/pids", cg + 1,
				      strlen(cg + 1), why, size))
				return;
		}
	}
	snprintf(path, sizeof(path), "/proc/%d/limits", (int)pid);
	if (muppy__proc_read(path, buf, sizeof(buf)) >= 0 &&
	    (p = strstr(buf, "\nMax processes")))
		sscanf(p + 15, "%lld", &nproc);
	if (nproc >= 0)
		snprintf(why, size, "its user may be at its process limit "
			 "(RLIMIT_NPROC %lld), or another limit of the system "
			 "was reached", nproc);
	else
		snprintf(why, size, "a limit on processes or threads was "
			 "reached (no pids.max of its cgroups is full and it "
			 "has no RLIMIT_NPROC)");
}

/* The process could not start a thread: say why. */
static int no_thread(pid_t pid, struct muppy_error *err)
{
	char why[512];

	thread_limit(pid, why, sizeof(why));
	muppy_error_set(err, "process %d cannot start a thread: %s; the "
			"payload was unloaded", (int)pid, why);
	return -EUSERS;
}

static uint64_t min_ms(uint64_t a, uint64_t b)
{
	return a < b ? a : b;
}

/*
 * The threads that cannot be holding the GIL: those blocked waiting on a
 * futex (the GIL's own waiters, and other locks' that C code holding the
 * GIL would not wait on).  Into skip[], at most max; returns how many.
 */
static size_t not_candidates(pid_t pid, pid_t *skip, size_t max)
{
	size_t n = 0, ntid;
	pid_t *tids = task_ids(pid, &ntid);

	for (size_t i = 0; tids && i < ntid && n < max; i++) {
		char path[96], buf[256];
		struct muppy__stat st;
		long nr = -1;

		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid,
			 (int)tids[i]);
		if (muppy__stat_read(path, &st) < 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%d/task/%d/syscall",
			 (int)pid, (int)tids[i]);
		if (muppy__proc_read(path, buf, sizeof(buf)) >= 0)
			nr = strtol(buf, NULL, 10);
		if (st.state == 'S' && nr == SYS_futex)
			skip[n++] = tids[i];
	}
	free(tids);
	return n;
}

/* Every thread of the process but tid, into skip[] (at most max). */
static size_t all_but(pid_t pid, pid_t tid, pid_t *skip, size_t max)
{
	size_t n = 0, ntid;
	pid_t *tids = task_ids(pid, &ntid);

	for (size_t i = 0; tids && i < ntid && n < max; i++)
		if (tids[i] != tid)
			skip[n++] = tids[i];
	free(tids);
	return n;
}

/* muppy_payload_here() on the seized thread (protocol.h). */
static int here(struct muppy__target *t, const struct muppy__lib *lib,
		const struct muppy_snap_opts *o, uint64_t deadline,
		struct muppy_here_io *io, struct muppy_error *err)
{
	uint64_t arg = MUPPY__SCRATCH, fn;
	struct muppy__stats ts;
	int r;

	r = muppy__target_sym(t, lib, MUPPY_PAYLOAD_HERE, &fn, err);
	if (r < 0)
		return r;
	muppy__target_stats(t, &ts);
	memset(io, 0, sizeof(*io));
	io->in_syscall = ts.in_syscall;
	io->flags = o->gc ? MUPPY_REQ_GC : 0;
	io->timeout_ns = ms_left(deadline) * UINT64_C(1000000);
	io->pc = ts.pc;
	owners_req(o, &io->owners);
	/* the walk runs in this call: as long as the snapshot may take */
	muppy__target_set_call_timeout(t, ms_left(deadline) + 1000);
	r = muppy__target_call(t, fn, &arg, 1, io, sizeof(*io), io,
			       sizeof(*io), err);
	muppy__target_set_call_timeout(t, 0);
	return r;
}

/*
 * What muppy_payload_here() left in the target's memory: rep and rows,
 * within the limits of protocol.h.
 */
static int read_here(struct muppy__target *t, const struct muppy__lib *lib,
		     const struct muppy_here_io *io,
		     const struct muppy_snap_opts *o, struct muppy_reply *rep,
		     struct muppy_snapshot *s, struct muppy_error *err)
{
	pid_t pid = muppy__target_pid(t);
	uint64_t arg = 0, fn, total = 0;
	struct src in = { .sock = -1 };
	char *buf = NULL;
	int r;

	r = muppy__mem_read(pid, io->reply, rep, sizeof(*rep));
	if (r == 0 && rep->magic != MUPPY_PROTO_MAGIC)
		r = -EPROTO;
	if (r == 0 && rep->status != MUPPY_ST_OK)
		r = status_error(rep, pid, err);
	if (r == 0)
		r = check_types(pid, rep->ntypes, err);
	if (r == 0 && io->records_len > MUPPY_ANSWER_BYTES_MAX) {
		muppy_error_set(err, "process %d: its answer is %" PRIu64
				" bytes, over the %u MiB muppy-snap takes; "
				"nothing was read (a hostile or broken "
				"process)", (int)pid, io->records_len,
				MUPPY_ANSWER_BYTES_MAX >> 20);
		r = -EMSGSIZE;
	}
	if (r == 0 && !(buf = malloc(io->records_len + 1)))
		r = -ENOMEM;
	if (r == 0)
		r = muppy__mem_read(pid, io->records, buf, io->records_len);
	in.buf = buf;
	in.len = r == 0 ? io->records_len : 0;
	if (r == 0)
		r = read_rows(&in, pid, rep, s, &total, err);
	if (r == 0)
		r = read_owners(&in, pid, rep, o, s, &total, err);
	free(buf);
	if (r == 0 && in.off != in.len)
		r = -EPROTO;
	if (r == -EPROTO || (r < 0 && r != -ENOMEM && rep->status == 0))
		muppy_error_set(err, "process %d: the payload's answer could "
				"not be read", (int)pid);
	/* its memory back, whatever was read */
	if ((muppy__target_sym(t, lib, MUPPY_PAYLOAD_HERE_DONE, &fn, NULL) < 0 ||
	     muppy__target_call(t, fn, &arg, 0, NULL, 0, NULL, 0, NULL) < 0) &&
	    r >= 0) {
		muppy_error_set(err, "process %d: cannot free the payload's "
				"memory", (int)pid);
		r = -EIO;
	}
	return r;
}

/* The seized thread's mapping, for a message: "libfoo.so" or "?". */
static void object_at(pid_t pid, uint64_t pc, char *buf, size_t size)
{
	struct muppy__maps maps;

	snprintf(buf, size, "?");
	if (muppy__maps_read(pid, &maps, NULL) < 0)
		return;
	for (size_t i = 0; i < maps.n; i++) {
		const struct muppy__map *m = &maps.v[i];

		if (pc >= m->start && pc < m->end && m->path[0]) {
			const char *b = strrchr(m->path, '/');

			char *e = muppy_escape(b ? b + 1 : m->path,
					       strlen(b ? b + 1 : m->path));

			snprintf(buf, size, "%s", e ? e : "?");
			free(e);
			break;
		}
	}
	muppy__maps_free(&maps);
}

/*
 * Seizes a thread, loads the payload and asks it where the GIL is
 * (muppy_payload_here, protocol.h).  Three endings:
 *   1  the seized thread held the GIL in a system call: the walk ran
 *      there, *rep and s are filled, the payload is unloaded;
 *   0  the payload's thread runs, *sock is muppy-snap's end of its
 *      socket pair, and the target runs freely again; from then on the
 *      payload unloads itself whatever happens;
 *  <0  an error, the payload unloaded (-EINPROGRESS: try again a little
 *      later; *why then says what held the interpreter).
 * A thread that does not hold the GIL is let go and the next one asked,
 * while the process has others: the holder may be any of them.
 */
#define MAX_ASKED 1024

static int start_payload(pid_t pid, int pidfd,
			 const struct muppy__pyinfo *pi,
			 const void *image, size_t len,
			 const struct muppy_snap_opts *o, uint64_t deadline,
			 struct muppy__lib *lib, int *sock,
			 struct muppy_reply *rep, struct muppy_snapshot *s,
			 char *why, size_t whylen,
			 struct muppy_snap_stats *stats, struct muppy_error *err)
{
	struct muppy_start_out so = { .status = -1, .sock = -1 };
	uint64_t arg = MUPPY__SCRATCH, start;
	struct muppy__target *t = NULL;
	pid_t asked[MAX_ASKED], *before = NULL;
	struct muppy_here_io io;
	struct muppy__stats ts;
	bool loaded = false, probing = false, asked_all = false;
	pid_t holder = 0;
	size_t nasked = 0, nbefore;
	int r;

again:
	if (why[0] && ms_left(deadline) == 0) {
		/* gave up on a holder in C: unload through any thread */
		r = muppy__target_attach(&t, pid, 1000, err);
		if (r < 0)
			goto out_nolib;
		r = -EINPROGRESS; /* the caller says why */
		goto out_unload;
	}
	/* asking more threads is quick, or it is not done */
	r = muppy__target_attach_other(&t, pid, probing ?
				       (int)min_ms(ms_left(deadline), 200) :
				       ms_left(deadline), asked, nasked, err);
	if (probing && (r == -ETIMEDOUT || r == -ECHILD)) {
		err->msg[0] = '\0'; /* not an error: any thread will do */
		if (holder && r == -ETIMEDOUT) { /* not stoppable now */
			usleep(10000);
			goto again;
		}
		holder = 0; /* if any, it ended: the GIL is to be had */
		why[0] = '\0';
		r = -ECHILD;
	}
	if (r == -ECHILD || (r < 0 && loaded && r != -ESRCH)) {
		/* every thread asked: any will do; and the payload, loaded,
		 * must be unloaded through some thread */
		int r2 = muppy__target_attach(&t, pid, ms_left(deadline) + 1000,
					      err);

		if (r == -ECHILD || r2 < 0)
			r = r2;
		else
			goto out_unload;
		asked_all = true;
	}
	if (r < 0)
		goto out_nolib;
	/* the process the probe looked at, running the same program: not
	 * another that got its pid, nor what it executed since */
	if (muppy__pyinfo_changed(pid, pi, err) ||
	    muppy__pidfd_exited(pidfd)) {
		muppy_error_set(err, "process %d exited since muppy-snap first "
				"looked at it; nothing was injected", (int)pid);
		r = -EOWNERDEAD;
		goto out_detach;
	}
	muppy__target_set_deadline(t, deadline / 1000);
	if (!loaded) {
		r = muppy__target_load(t, image, len, lib, err);
		if (r < 0)
			goto out_detach;
		loaded = true;
	}
	/* the last step before calling into it (inject.h, "Leftovers") */
	r = muppy__target_claim(t, lib, err);
	if (r < 0)
		goto out_unload;
	r = muppy__target_sym(t, lib, MUPPY_PAYLOAD_START, &start, err);
	if (r < 0)
		goto out_unload;
	if (pi->major == 0 || (pi->major == 3 && pi->minor == 6)) {
		r = init_threads(t, lib, pid, err);
		if (r < 0)
			goto out_unload;
	}
	r = here(t, lib, o, deadline, &io, err);
	if (r < 0)
		goto out_detach; /* unknown where it stopped: keep it */
	/* every call returned: killed now, we leave it removable */
	if (io.state != MUPPY_HERE_DONE) {
		r = muppy__target_unclaim(t, lib, err);
		if (r < 0)
			goto out_unload;
	}
	muppy__target_stats(t, &ts);
	switch (io.state) {
	case MUPPY_HERE_DONE:
		stats->here = true;
		r = read_here(t, lib, &io, o, rep, s, err);
		r = r < 0 ? r : 1;
		goto out_unload;
	case MUPPY_HERE_IN_C: {
		char obj[128];

		object_at(pid, ts.pc, obj, sizeof(obj));
		/* another muppy-snap's payload, walking: it lets go soon */
		if (!strncmp(obj, "memfd:muppy-snap:", 17))
			break;
		snprintf(why, whylen, "thread %d holds the GIL, running C "
			 "code of %s outside any system call", (int)ts.tid,
			 obj);
		if (ms_left(deadline) == 0) {
			r = -EINPROGRESS; /* the caller says why */
			goto out_unload;
		}
		/* ask it again in a while, and it alone, the payload
		 * loaded: no thread of ours before it lets go */
		holder = ts.tid;
		probing = true;
		nasked = all_but(pid, holder, asked, MAX_ASKED);
		stats->stopped_us += ts.away_us;
		muppy__target_detach(t);
		t = NULL;
		usleep(10000);
		goto again;
	}
	case MUPPY_HERE_NOT_HOLDER:
		if (holder == ts.tid) {
			/* it let go: the GIL goes round, our thread gets it */
			holder = 0;
			why[0] = '\0';
			break;
		}
		if (why[0] && ms_left(deadline) == 0) {
			r = -EINPROGRESS;
			goto out_unload;
		}
		if (io.gil == MUPPY_GIL_FREE || asked_all ||
		    ms_left(deadline) == 0 ||
		    muppy__status_field(pid, "Threads") <= 1)
			break;
		if (!probing) { /* ask only threads that could hold it */
			probing = true;
			nasked = not_candidates(pid, asked, MAX_ASKED - 1);
		}
		if (nasked < MAX_ASKED) {
			asked[nasked++] = ts.tid;
			stats->stopped_us += ts.away_us;
			muppy__target_detach(t);
			t = NULL;
			goto again;
		}
		break;
	default: /* running the interpreter's code, or unusable */
		break;
	}
	before = task_ids(pid, &nbefore);
	r = muppy__target_claim(t, lib, err);
	if (r < 0)
		goto out_unload; /* nothing called yet */
	r = muppy__target_call(t, start, &arg, 1, &so, sizeof(so), &so,
			       sizeof(so), err);
	if (r < 0)
		goto out_detach; /* unknown whether its thread runs: keep it */
	if (so.status != 0 || so.thread == 0) {
		muppy__error_errno(err, so.status, "process %d: the payload could not start "
				   "its thread", (int)pid);
		r = -(so.status ? so.status : EIO);
		goto out_unload;
	}
	/* pthread_create stores the thread before its clone(): no new
	 * task means the clone failed (a pids or process limit) */
	if (before && !new_thread(pid, before, nbefore)) {
		uint64_t fn;

		r = no_thread(pid, err);
		if (muppy__target_sym(t, lib, MUPPY_PAYLOAD_UNSTART, &fn, err) < 0 ||
		    muppy__target_call(t, fn, &arg, 0, NULL, 0, NULL, 0, err) < 0)
			goto out_detach; /* unknown what stays: keep it */
		goto out_unload;
	}
	/* From here on the payload unloads itself, whatever happens to us. */
	*sock = take_fd(pidfd, so.sock, err);
	r = *sock < 0 ? *sock : 0;
	goto out_detach;

out_unload:
	if (muppy__target_unload(t, lib, NULL) < 0 && r >= 0) {
		muppy_error_set(err, "process %d: cannot unload the payload",
				(int)pid);
		r = -EBUSY;
	}
out_detach:
	muppy__target_stats(t, &ts);
	muppy__target_detach(t);
	stats->stopped_us += ts.away_us;
	stats->tid = ts.tid;
out_nolib:
	free(before);
	return r;
}

void muppy_snap_reap(void)
{
	muppy__inject_reap();
}

int muppy_snap_take(int pid, const struct muppy_snap_opts *o,
		    struct muppy_snapshot **out, struct muppy_snap_stats *st,
		    struct muppy_error *err)
{
	uint64_t t0 = mono_ns();
	uint64_t deadline = t0 + (uint64_t)o->timeout_ms * 1000000u;
	struct muppy_snap_stats stats = { 0 };
	struct muppy_snapshot *s = NULL;
	struct muppy__pyinfo pi;
	struct muppy_reply rep;
	struct muppy__lib lib;
	void *image = NULL;
	sigset_t wait_mask;
	char why[256];
	size_t len;
	int sock = -1, pidfd, r;

	*out = NULL;
	r = owners_check(o, err);
	if (r < 0)
		return r;
	if (pid == getpid()) {
		muppy_error_set(err, "process %d is muppy-snap itself", pid);
		return -ENOEXEC;
	}
	/* Pinned from the first look to the last: a pid reused meanwhile
	 * is not this process (the pidfd's is gone). */
	pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	if (pidfd < 0) {
		r = -errno;
		if (r == -ENOSYS)
			muppy_error_set(err, "this kernel has no pidfd_open "
					"(Linux 5.6 or later needed)");
		else if (r == -ESRCH)
			muppy_error_set(err, "no process %d", pid);
		else if (r == -EINVAL)
			muppy_error_set(err, "no process %d (a thread's id "
					"is not one)", pid);
		else
			muppy__error_errno(err, -r, "pidfd_open of process %d",
					   pid);
		return r == -EINVAL ? -ESRCH : r;
	}
	r = muppy__pyinfo_probe(pid, &pi, deadline / 1000, err);
	if (r < 0)
		goto out_pidfd;
	r = muppy__read_image(o->payload, &image, &len, err);
	if (r < 0)
		goto out_pidfd;
	s = muppy_snapshot_new();
	if (!s) {
		r = -ENOMEM;
		goto out_free;
	}
	block_signals(&wait_mask);
	why[0] = '\0';
	while ((r = start_payload(pid, pidfd, &pi, image, len, o, deadline, &lib,
				  &sock, &rep, s, why, sizeof(why), &stats,
				  err)) == -EINPROGRESS) {
		if (muppy__stop_pending()) {
			muppy_error_set(err, "interrupted");
			r = -EINTR;
			break;
		}
		if (ms_left(deadline) == 0) {
			if (why[0])
				muppy_error_set(err, "process %d: the interpreter "
						"was not free within %.1f s: %s; "
						"nothing of muppy-snap stayed in "
						"the process", pid,
						o->timeout_ms / 1000.0, why);
			else
				muppy_error_set(err, "process %d: its Python 3.6 "
						"main thread was never at a point "
						"where its GIL could be created",
						pid);
			r = -ETIMEDOUT;
			break;
		}
		usleep(why[0] ? 10000 : 2000);
	}
	if (r < 0)
		goto out;

	if (r == 0) { /* the payload's own thread */
		r = converse(pid, &pi, sock, o, deadline, &wait_mask, s, &rep,
			     err);
		close(sock);
	}
	if (r < 0)
		goto out;
	r = fill_header(s, pid, &rep);
	if (r == 0 && (r = muppy_snapshot_finish(s)) == -EOVERFLOW) {
		muppy_error_set(err, "process %d: the counts of its answer "
				"add up to more than %" PRId64 " (a hostile or "
				"broken process)", pid, MUPPY_MAX_VALUE);
		r = -EMSGSIZE;
	}
	if (r == 0 && !stats.here)
		r = wait_gone(pid, rep.tid, lib.name, err);
	if (r < 0)
		goto out;
	stats.hold_us = rep.hold_ns / 1000;
	stats.walk_us = rep.walk_ns / 1000;
	stats.mem_peak = rep.mem_peak;
	stats.total_us = (mono_ns() - t0) / 1000;
	if (st)
		*st = stats;
	*out = s;
	s = NULL;
out:
	/* Pending signals take effect now, the target untouched. */
	pthread_sigmask(SIG_SETMASK, &wait_mask, NULL);
	/* Whatever went wrong, a process that exited or executed another
	 * program meanwhile is the best explanation. */
	if (r < 0 && r != -EINTR && r != -EOWNERDEAD &&
	    /* The probe found CPython: "not that" now means it changed. */
	    (r == -ENOEXEC || r == -ESRCH ? gone_soon(pid, &pi, err) :
	     gone(pid, &pi, err)))
		r = -EOWNERDEAD;
out_free:
	muppy_snapshot_free(s);
	free(image);
out_pidfd:
	close(pidfd);
	return r;
}
