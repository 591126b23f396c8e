/* SPDX-License-Identifier: MIT */
/*
 * A process that spends most of its time inside malloc and free:
 *   allocbusy READYFILE
 * Two threads (main and one more) allocate, fill, check and free blocks
 * in a loop, with a little work of their own in between; run it with
 * LD_PRELOAD of spinalloc.so (which holds a lock for a while in every
 * call).  On SIGTERM it prints "allocbusy: N rounds, M bad blocks" and
 * exits 0 only if every block kept what was written into it and both
 * threads made progress.
 */
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_int stop;
static atomic_ulong rounds[2], bad;

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

static void loop(int k)
{
	unsigned char want = (unsigned char)(k + 1);

	while (!stop) {
		unsigned char *volatile p = malloc(64);

		if (!p) {
			bad++;
			continue;
		}
		memset(p, want, 64);
		for (volatile unsigned i = 0; i < 4000; i++)
			;
		for (int i = 0; i < 64; i++)
			if (p[i] != want) {
				bad++;
				break;
			}
		free(p);
		want = (unsigned char)(want + 2);
		rounds[k]++;
	}
}

static void *worker(void *arg)
{
	(void)arg;
	loop(1);
	return NULL;
}

int main(int argc, char **argv)
{
	struct sigaction sa;
	pthread_t th;
	FILE *f;

	if (argc != 2)
		return 64;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	pthread_create(&th, NULL, worker, NULL);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", 1);
	fclose(f);
	loop(0);
	pthread_join(th, NULL);
	printf("allocbusy: %lu rounds, %lu bad blocks\n",
	       (unsigned long)(rounds[0] + rounds[1]), (unsigned long)bad);
	return bad || !rounds[0] || !rounds[1];
}
