/* SPDX-License-Identifier: MIT */
/*
 * A C loop that keeps the GIL: called through ctypes.PyDLL (which does
 * not release it), muppy_test_spin(SECONDS) computes for SECONDS without
 * a single system call (the clock is read through the vDSO).
 */
#include <time.h>

double muppy_test_spin(double seconds);

double muppy_test_spin(double seconds)
{
	struct timespec t0, t;
	volatile double x = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	do {
		for (int i = 0; i < 100000; i++)
			x += i * 0.5;
		clock_gettime(CLOCK_MONOTONIC, &t);
	} while ((double)(t.tv_sec - t0.tv_sec) +
		 (double)(t.tv_nsec - t0.tv_nsec) / 1e9 < seconds);
	return x;
}
