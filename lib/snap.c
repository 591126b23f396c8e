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
#include <errno.h>
#include <fcntl.h>
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
#include "inject/inject_int.h"
#include "payload/protocol.h"
#include "snap_int.h"

enum muppy_exit muppy_exit_code(int err)
{
	switch (err) {
	case 0:
		return MUPPY_EXIT_OK;
	case -ESRCH:
		return MUPPY_EXIT_NOPROC;
	case -EPERM:
	case -EACCES:
		return MUPPY_EXIT_PERM;
	case -ENOEXEC:
	case -EPROTONOSUPPORT:
		return MUPPY_EXIT_UNSUPPORTED;
	case -ETIMEDOUT:
		return MUPPY_EXIT_TIMEOUT;
	case -EOWNERDEAD:
		return MUPPY_EXIT_GONE;
	case -EBUSY:
	case -EAGAIN:
		return MUPPY_EXIT_BUSY;
	default:
		return MUPPY_EXIT_ERROR;
	}
}

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

/* A copy of the target's descriptor fd, taken through a pidfd. */
static int take_fd(pid_t pid, int fd, struct muppy_error *err)
{
	int pidfd = (int)syscall(SYS_pidfd_open, pid, 0);
	int r;

	if (pidfd < 0) {
		r = -errno;
		muppy_error_set(err, "pidfd_open: %s", strerror(errno));
		return r;
	}
	r = (int)syscall(SYS_pidfd_getfd, pidfd, fd, 0);
	if (r < 0) {
		r = -errno;
		muppy_error_set(err, "pidfd_getfd: %s (Linux 5.6 or later "
				"needed)", strerror(errno));
	}
	close(pidfd);
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

	muppy_error_set(err, "process %d: %.*s", (int)pid,
			(int)sizeof(rep->message), rep->message);
	return r;
}

/* The rows that follow the reply. */
static int read_rows(int sock, const struct muppy_reply *rep,
		     struct muppy_snapshot *s, uint64_t deadline_ns,
		     const sigset_t *wait_mask)
{
	char *name = NULL;
	size_t cap = 0;
	int r = 0;

	for (uint32_t i = 0; i < rep->ntypes && r == 0; i++) {
		struct __attribute__((packed)) {
			uint64_t count, bytes;
			uint32_t len;
		} rec;

		r = recv_all(sock, &rec, sizeof(rec), deadline_ns, wait_mask);
		if (r < 0)
			break;
		if (rec.len > cap) {
			char *p = realloc(name, rec.len);

			if (!p) {
				r = -ENOMEM;
				break;
			}
			name = p;
			cap = rec.len;
		}
		r = recv_all(sock, name, rec.len, deadline_ns, wait_mask);
		if (r == 0)
			r = muppy_snapshot_add_raw(s, name, rec.len, rec.count,
						   rec.bytes);
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
	s->gc_freed = rep->gc_freed;
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
	int r;

	if (send(sock, &req, sizeof(req), MSG_NOSIGNAL) != sizeof(req)) {
		r = -errno;
		muppy_error_set(err, "process %d: cannot talk to the payload: "
				"%s", (int)pid, strerror(errno));
		return r;
	}
	/* The rows are sent right after the reply: allow 10 s for them. */
	r = recv_all(sock, rep, sizeof(*rep), deadline_ns, wait_mask);
	if (r == 0 && rep->magic != MUPPY_PROTO_MAGIC)
		r = -EPROTO;
	if (r == 0 && rep->status != MUPPY_ST_OK)
		return status_error(rep, pid, err);
	if (r == 0)
		r = read_rows(sock, rep, s, mono_ns() + 10000000000u, wait_mask);
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
		muppy_error_set(err, "process %d: cannot create the GIL of this "
				"Python 3.6 process: %s", (int)pid,
				strerror(io.status));
		return -EPROTONOSUPPORT;
	}
	return 0;
}

/*
 * Seizes a thread, loads the payload and starts its thread.  On success
 * *sock is muppy-snap's end of the payload's socket pair and the target
 * runs freely again; from then on the payload unloads itself whatever
 * happens.  -EINPROGRESS: try again a little later.
 */
static int start_payload(pid_t pid, const struct muppy__pyinfo *pi,
			 const void *image, size_t len, uint64_t deadline,
			 struct muppy__lib *lib, int *sock,
			 struct muppy_snap_stats *stats, struct muppy_error *err)
{
	struct muppy_start_out so = { .status = -1, .sock = -1 };
	uint64_t arg = MUPPY__SCRATCH, start;
	struct muppy__target *t = NULL;
	struct muppy__stats ts;
	int r;

	r = muppy__target_attach(&t, pid, ms_left(deadline), err);
	if (r < 0)
		return r;
	r = muppy__target_load(t, image, len, lib, err);
	if (r < 0)
		goto out_detach;
	r = muppy__target_sym(t, lib, MUPPY_PAYLOAD_START, &start, err);
	if (r < 0)
		goto out_unload;
	/* the last step before calling into it (inject.h, "Leftovers") */
	r = muppy__target_claim(t, lib, err);
	if (r < 0)
		goto out_unload;
	if (pi->major == 0 || (pi->major == 3 && pi->minor == 6)) {
		r = init_threads(t, lib, pid, err);
		if (r < 0)
			goto out_unload;
	}
	r = muppy__target_call(t, start, &arg, 1, &so, sizeof(so), &so,
			       sizeof(so), err);
	if (r < 0)
		goto out_detach; /* unknown whether its thread runs: keep it */
	if (so.status != 0 || so.thread == 0) {
		muppy_error_set(err, "process %d: the payload could not start "
				"its thread: %s", (int)pid, strerror(so.status));
		r = -(so.status ? so.status : EIO);
		goto out_unload;
	}
	/* From here on the payload unloads itself, whatever happens to us. */
	*sock = take_fd(pid, so.sock, err);
	r = *sock < 0 ? *sock : 0;
	goto out_detach;

out_unload:
	if (muppy__target_unload(t, lib, NULL) < 0 && r != -EINPROGRESS)
		muppy_error_set(err, "process %d: cannot unload the payload",
				(int)pid);
out_detach:
	muppy__target_stats(t, &ts);
	muppy__target_detach(t);
	stats->stopped_us += ts.away_us;
	stats->tid = ts.tid;
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
	size_t len;
	int sock = -1, r;

	*out = NULL;
	if (pid == getpid()) {
		muppy_error_set(err, "process %d is muppy-snap itself", pid);
		return -ENOEXEC;
	}
	r = muppy__pyinfo_probe(pid, &pi, err);
	if (r < 0)
		return r;
	r = muppy__read_image(o->payload, &image, &len, err);
	if (r < 0)
		return r;
	s = muppy_snapshot_new();
	if (!s) {
		r = -ENOMEM;
		goto out_free;
	}
	block_signals(&wait_mask);
	while ((r = start_payload(pid, &pi, image, len, deadline, &lib, &sock,
				  &stats, err)) == -EINPROGRESS) {
		if (muppy__stop_pending()) {
			muppy_error_set(err, "interrupted");
			r = -EINTR;
			break;
		}
		if (ms_left(deadline) == 0) {
			muppy_error_set(err, "process %d: its Python 3.6 main "
					"thread was never at a point where its GIL "
					"could be created", pid);
			r = -ETIMEDOUT;
			break;
		}
		usleep(2000);
	}
	if (r < 0)
		goto out;

	r = converse(pid, &pi, sock, o, deadline, &wait_mask, s, &rep, err);
	close(sock);
	if (r < 0)
		goto out;
	r = fill_header(s, pid, &rep);
	if (r == 0)
		r = muppy_snapshot_finish(s);
	if (r == 0)
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
	    (r == -ENOEXEC ? gone_soon(pid, &pi, err) : gone(pid, &pi, err)))
		r = -EOWNERDEAD;
out_free:
	muppy_snapshot_free(s);
	free(image);
	return r;
}
