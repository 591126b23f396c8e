/* SPDX-License-Identifier: MIT */
/* The test programs' ready file: their pid, once they are set up. */
#ifndef MUPPY_TESTS_READY_H
#define MUPPY_TESTS_READY_H

#include <stdio.h>
#include <unistd.h>

/* Writes "PID\n" to path; 0, or -1 if it cannot. */
static inline int write_ready(const char *path)
{
	FILE *f = fopen(path, "w");

	if (!f)
		return -1;
	fprintf(f, "%d\n", (int)getpid());
	return fclose(f) ? -1 : 0;
}

#endif
