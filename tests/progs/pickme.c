/* SPDX-License-Identifier: MIT */
/*
 * Threads an injection must not pick, next to one it may:
 *   pickme READYFILE
 * - "handler": in a SIGUSR2 handler on its alternate signal stack,
 *   blocked in read();
 * - "epoll": in epoll_wait() with no timeout, which an interrupt (even a
 *   ptrace stop) ends with EINTR: counted;
 * - main: blocked in read() on a pipe, the good choice.
 * READYFILE gets "handler TID\nepoll TID\n" once all are in place.  On
 * SIGTERM it prints "eintr N" and exits 0.
 */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

static atomic_int tid_handler, tid_epoll, in_handler;
static atomic_long eintr;
static int block_pipe[2];
static volatile sig_atomic_t term;

static void on_usr2(int sig)
{
	char c;

	(void)sig;
	tid_handler = gettid();
	in_handler = 1;
	while (read(block_pipe[0], &c, 1) < 0 && errno == EINTR)
		;
}

/* A thread's first malloc creates its arena: not during an injection. */
static void own_arena(void)
{
	void *volatile p = malloc(64);

	free(p);
}

static void *handler_thread(void *arg)
{
	static char altstack[64 * 1024];
	stack_t ss = { .ss_sp = altstack, .ss_size = sizeof(altstack) };

	(void)arg;
	own_arena();
	sigaltstack(&ss, NULL);
	for (;;)
		pause(); /* until SIGUSR2, which never returns */
	return NULL;
}

static void *epoll_thread(void *arg)
{
	struct epoll_event ev;
	int ep = epoll_create1(0);

	(void)arg;
	own_arena();
	tid_epoll = gettid();
	for (;;)
		if (epoll_wait(ep, &ev, 1, -1) < 0 && errno == EINTR)
			eintr++;
	return NULL;
}

static void on_term(int sig)
{
	(void)sig;
	term = 1;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t th, te;
	sigset_t set;
	int main_pipe[2];
	char c;
	FILE *f;

	if (argc != 2 || pipe(block_pipe) || pipe(main_pipe))
		return 64;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr2;
	sa.sa_flags = SA_ONSTACK;
	sigaction(SIGUSR2, &sa, NULL);
	sa.sa_handler = on_term;
	sa.sa_flags = 0; /* read() in main ends with EINTR */
	sigaction(SIGTERM, &sa, NULL);
	sigemptyset(&set);
	sigaddset(&set, SIGTERM);
	pthread_sigmask(SIG_BLOCK, &set, NULL);
	pthread_create(&th, NULL, handler_thread, NULL);
	pthread_create(&te, NULL, epoll_thread, NULL);
	pthread_sigmask(SIG_UNBLOCK, &set, NULL);
	while (!tid_epoll)
		usleep(1000);
	pthread_kill(th, SIGUSR2);
	while (!in_handler)
		usleep(1000);
	usleep(100000);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "handler %d\nepoll %d\n", tid_handler, tid_epoll);
	fclose(f);
	while (!term)
		if (read(main_pipe[0], &c, 1) < 0 && errno != EINTR)
			return 1;
	printf("eintr %ld\n", (long)eintr);
	return 0;
}
