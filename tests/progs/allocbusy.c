/* SPDX-License-Identifier: MIT */
/*
 * A process that spends most of its time inside malloc and free:
 *   allocbusy READYFILE
 * Two threads (main and one more) allocate and free in a loop, with a
 * little work of their own in between; run it with LD_PRELOAD of
 * spinalloc.so (which holds a lock for a while in every call).
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>

static void loop(void)
{
	volatile unsigned i;

	for (;;) {
		void *volatile p = malloc(64);

		free(p);
		for (i = 0; i < 4000; i++)
			;
	}
}

static void *worker(void *arg)
{
	(void)arg;
	loop();
	return NULL;
}

int main(int argc, char **argv)
{
	pthread_t th;
	FILE *f;

	if (argc != 2)
		return 64;
	pthread_create(&th, NULL, worker, NULL);
	f = fopen(argv[1], "w");
	if (!f)
		return 1;
	fprintf(f, "%d\n", 1);
	fclose(f);
	loop();
}
