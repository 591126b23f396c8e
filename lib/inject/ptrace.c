/* SPDX-License-Identifier: MIT */
/*
 * The ptrace primitives under attach.c and remote.c: waiting for a
 * thread's stop within a deadline, detaching (reaping a tracee that is
 * being killed), and the threads seized that never stopped, detached
 * once they do (muppy__inject_reap()).
 */
#include <errno.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdbool.h>
#include <sys/ptrace.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "inject/inject_int.h"

#define MAX_LEFT 256

/*
 * Threads we seized that did not stop in time (an uninterruptible sleep
 * entered after we looked at its state, a call that never returned).
 * PTRACE_DETACH needs a stopped tracee, so such a thread stays traced
 * with our interrupt pending and would stop, for good, as soon as it
 * leaves that sleep.  They are kept here and detached as soon as they do
 * stop: at every attach and at every muppy__inject_reap().  When
 * muppy-snap exits, the kernel (exit_ptrace -> __ptrace_detach ->
 * __ptrace_unlink) detaches them and clears the pending trap, so they
 * never outlive us.
 */
static pthread_mutex_t left_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t left[MAX_LEFT];
static size_t nleft;

void muppy__leave(pid_t tid)
{
	pthread_mutex_lock(&left_lock);
	if (nleft < MAX_LEFT)
		left[nleft++] = tid;
	pthread_mutex_unlock(&left_lock);
}

void muppy__inject_reap(void)
{
	size_t i = 0;
	int status;

	pthread_mutex_lock(&left_lock);
	while (i < nleft) {
		pid_t tid = left[i], r;
		bool done = false;

		r = waitpid(tid, &status, __WALL | WNOHANG);
		if (r < 0 || (r == tid && (WIFEXITED(status) || WIFSIGNALED(status)))) {
			done = true; /* gone, or no longer ours */
		} else if (r == tid && WIFSTOPPED(status)) {
			/* a signal-delivery stop keeps its signal */
			int sig = WSTOPSIG(status);

			if (status >> 16 || sig == (SIGTRAP | 0x80))
				sig = 0;
			done = ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig) == 0 ||
			       errno == ESRCH;
		} else if (ptrace(PTRACE_DETACH, tid, 0, 0) == 0) {
			done = true; /* stopped, its stop already reported */
		}
		if (done)
			left[i] = left[--nleft];
		else
			i++;
	}
	pthread_mutex_unlock(&left_lock);
}

int muppy__wait_stop(pid_t tid, int *status, uint64_t deadline_us)
{
	unsigned spins = 0;

	/*
	 * Polled, so that a deadline needs neither signals nor threads.  A
	 * call makes many syscall stops in a row, each a round trip: yield
	 * first, then sleep in short steps.
	 */
	for (;;) {
		pid_t r = waitpid(tid, status, __WALL | WNOHANG);

		if (r == tid)
			return 0;
		if (r < 0)
			return errno == ECHILD ? -ESRCH : -errno;
		if (muppy__now_us() >= deadline_us)
			return -ETIMEDOUT;
		if (spins++ < 50) {
			sched_yield();
		} else {
			struct timespec ts = { 0, spins < 1000 ? 20000 : 500000 };

			nanosleep(&ts, NULL);
		}
	}
}

void muppy__detach(pid_t tid, int sig)
{
	int status;

	if (ptrace(PTRACE_DETACH, tid, 0, (void *)(long)sig) == 0 || errno != ESRCH)
		return;
	/*
	 * Not in a stop: being killed (an exit, or an exec killing the
	 * other threads).  Its tracer must reap it: an exec waits for that,
	 * and anyone attaching meanwhile (PTRACE_SEIZE) waits for the exec,
	 * uninterruptibly but for SIGKILL.
	 */
	for (int i = 0; i < 2000; i++) {
		pid_t r = waitpid(tid, &status, __WALL | WNOHANG);

		if (r < 0 || (r == tid && (WIFEXITED(status) || WIFSIGNALED(status))))
			return;
		if (r == tid && ptrace(PTRACE_DETACH, tid, 0, 0) == 0)
			return;
		usleep(100);
	}
}
