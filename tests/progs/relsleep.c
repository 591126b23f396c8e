/* SPDX-License-Identifier: MIT */
/*
 * A single thread, without signal handlers, that only waits with relative
 * timeouts: the calls the kernel resumes through restart_syscall and its
 * restart_block when they are interrupted (nanosleep, relative
 * clock_nanosleep, poll, FUTEX_WAIT).  An injection must not end any of
 * them early or with EINTR.
 *   relsleep SECONDS READYFILE
 * Prints "waits N eintr N early N" and "OK" or "FAIL"; exits 0 only if
 * no wait failed, ended early or returned EINTR.
 */
#include <errno.h>
#include <linux/futex.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#include "ready.h"

#define WAIT_NS 30000000L /* 30 ms */

static long long now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1000000000LL + ts.tv_nsec;
}

/* One wait of WAIT_NS by the call kind k: 0 on a timeout, else errno. */
static int wait_once(int k, int pipe_rd)
{
	struct timespec ts = { 0, WAIT_NS };
	static int word;
	struct pollfd pfd = { .fd = pipe_rd, .events = POLLIN };
	int r;

	switch (k) {
	case 0:
		return syscall(SYS_nanosleep, &ts, NULL) ? errno : 0;
	case 1:
		return clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, NULL);
	case 2:
		r = poll(&pfd, 1, WAIT_NS / 1000000);
		return r < 0 ? errno : r ? EIO : 0;
	default:
		r = (int)syscall(SYS_futex, &word, FUTEX_WAIT_PRIVATE, 0, &ts, NULL, 0);
		return r == 0 ? EIO : errno == ETIMEDOUT ? 0 : errno;
	}
}

int main(int argc, char **argv)
{
	long long end, t0, dt;
	long waits = 0, eintr = 0, early = 0, other = 0;
	int p[2], k = 0, r;

	if (argc != 3 || pipe(p))
		return 64;
	if (write_ready(argv[2]))
		return 1;
	end = now_ns() + atoll(argv[1]) * 1000000000LL;
	while (now_ns() < end) {
		t0 = now_ns();
		r = wait_once(k, p[0]);
		dt = now_ns() - t0;
		waits++;
		if (r == EINTR)
			eintr++;
		else if (r)
			other++;
		else if (dt < WAIT_NS - 1000000) /* poll counts whole ms */
			early++;
		if (r || dt < WAIT_NS - 1000000)
			fprintf(stderr, "relsleep: wait %d ended after %.3f ms: %s\n",
				k, dt / 1e6, r ? strerror(r) : "early");
		k = (k + 1) % 4;
	}
	printf("waits %ld eintr %ld early %ld\n", waits, eintr, early);
	printf(eintr || early || other ? "FAIL\n" : "OK\n");
	return eintr || early || other;
}
