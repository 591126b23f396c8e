/* SPDX-License-Identifier: MIT */
/*
 * A single thread in pause() with a SIGUSR1 handler installed without
 * SA_RESTART: every signal it handles must end one pause() with EINTR,
 * injections or not.
 *   pausesig READYFILE
 * On SIGTERM prints "handled N returned M" and exits 0 if N == M.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "ready.h"

static volatile sig_atomic_t handled, term;

static void on_usr1(int sig)
{
	(void)sig;
	handled++;
}

static void on_term(int sig)
{
	(void)sig;
	term = 1;
	handled++;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	long returned = 0;

	if (argc != 2)
		return 64;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_usr1; /* no SA_RESTART */
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (write_ready(argv[1]))
		return 1;
	while (!term)
		if (pause() < 0 && errno == EINTR)
			returned++;
	printf("handled %ld returned %ld\n", (long)handled, returned);
	return handled == returned ? 0 : 1;
}
