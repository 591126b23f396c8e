/* SPDX-License-Identifier: MIT */
/*
 * An exec after the attach, and the injector's memory accesses:
 *   pinexec victim READYFILE   a process of two threads that, on SIGUSR1,
 *                              executes "sleep 30" from its handler
 *   pinexec PID                attaches to PID (one thread seized), reads
 *                              a word of libc's data, sends SIGUSR1, waits
 *                              until the process runs another program,
 *                              then writes that word back: the write must
 *                              fail, not land in the new program
 *   pinexec -u PID             the same with the memory unpinned first
 *                              (what the guard stops: the write lands
 *                              when the new program has that page)
 * Prints what happened; exit 0 when the write failed, 1 when it was done.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <sys/wait.h>

#include "inject/inject.h"
#include "inject/inject_int.h"
#include "ready.h"

static void on_usr1(int sig)
{
	char *argv[] = { "sleep", "30", NULL };

	(void)sig;
	execv("/bin/sleep", argv);
	_exit(3);
}

static void *idle(void *arg)
{
	(void)arg;
	for (;;)
		pause();
	return NULL;
}

static int victim(const char *ready)
{
	pthread_t th;

	signal(SIGUSR1, on_usr1);
	pthread_create(&th, NULL, idle, NULL);
	if (write_ready(ready))
		return 1;
	for (;;)
		pause();
}

static int exe_is(pid_t pid, const char *want)
{
	char path[64], buf[256];
	ssize_t n;

	snprintf(path, sizeof(path), "/proc/%d/exe", (int)pid);
	n = readlink(path, buf, sizeof(buf) - 1);
	if (n < 0)
		return 0;
	buf[n] = '\0';
	return strstr(buf, want) != NULL;
}

int main(int argc, char **argv)
{
	struct muppy__target *t = NULL;
	struct muppy_error err;
	uint64_t addr, word;
	pid_t pid;
	int ret, i, unpin = argc == 3 && !strcmp(argv[1], "-u");

	if (argc == 3 && !strcmp(argv[1], "victim"))
		return victim(argv[2]);
	if (argc != 2 + unpin)
		return 64;
	pid = (pid_t)atoi(argv[1 + unpin]);
	muppy_error_clear(&err);
	ret = muppy__target_attach(&t, pid, 5000, &err);
	if (!ret)
		ret = muppy__target_libsym(t, "libc.so.6", "environ", &addr, &err);
	if (!ret)
		ret = muppy__mem_read(pid, addr, &word, sizeof(word));
	if (ret) {
		fprintf(stderr, "pinexec: %s (%s)\n", err.msg, strerror(-ret));
		return 99;
	}
	printf("attached to %d, thread %d seized; environ at %#llx\n", (int)pid,
	       (int)muppy__target_pid(t), (unsigned long long)addr);
	kill(pid, SIGUSR1);
	/* Reaping the seized thread, which the exec kills, lets the exec go
	 * on: the kernel waits for the tracer (as muppy-snap does, waiting
	 * for its next stop). */
	for (i = 0; i < 500 && !exe_is(pid, "sleep"); i++) {
		int st;

		while (waitpid(-1, &st, __WALL | WNOHANG) > 0)
			;
		usleep(10000);
	}
	if (i == 500) {
		fprintf(stderr, "pinexec: process %d did not execute sleep\n", (int)pid);
		return 99;
	}
	if (unpin)
		muppy__mem_unpin(pid);
	ret = muppy__mem_write(pid, addr, &word, sizeof(word));
	/* the detach's own unpin then finds nothing to undo */
	printf("after the exec: the write %s (%s)\n", ret ? "failed" : "was done",
	       ret ? strerror(-ret) : "into the new program");
	muppy__target_detach(t);
	return ret ? 0 : 1;
}
