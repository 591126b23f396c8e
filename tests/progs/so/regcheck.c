/* SPDX-License-Identifier: MIT */
/*
 * State a thread keeps across a system call, checked after each one:
 * called through ctypes.CDLL (the GIL let go), muppy_test_regs(SECONDS,
 * WHY, LEN) loops for SECONDS with xmm0-15 holding a pattern across a
 * raw clock_nanosleep (absolute: where injections prefer to land), the
 * MXCSR and x87 control words set to round toward zero, and errno set
 * by a failed close(-1).  It returns the number of rounds, or -1 with
 * what changed in WHY.  The thread's own modes are put back on return.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

long muppy_test_regs(double seconds, const char *stop, char *why, long len);

/* xmm0-15 from in, a raw sleep until *ts, xmm0-15 to out. */
static void hold_xmm(const uint8_t *in, uint8_t *out, const struct timespec *ts)
{
	__asm__ volatile(
		"movdqu 0(%0), %%xmm0\n\t"    "movdqu 16(%0), %%xmm1\n\t"
		"movdqu 32(%0), %%xmm2\n\t"   "movdqu 48(%0), %%xmm3\n\t"
		"movdqu 64(%0), %%xmm4\n\t"   "movdqu 80(%0), %%xmm5\n\t"
		"movdqu 96(%0), %%xmm6\n\t"   "movdqu 112(%0), %%xmm7\n\t"
		"movdqu 128(%0), %%xmm8\n\t"  "movdqu 144(%0), %%xmm9\n\t"
		"movdqu 160(%0), %%xmm10\n\t" "movdqu 176(%0), %%xmm11\n\t"
		"movdqu 192(%0), %%xmm12\n\t" "movdqu 208(%0), %%xmm13\n\t"
		"movdqu 224(%0), %%xmm14\n\t" "movdqu 240(%0), %%xmm15\n\t"
		/* clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL) */
		"mov $230, %%eax\n\t"
		"mov $1, %%edi\n\t"
		"mov $1, %%esi\n\t"
		"mov %2, %%rdx\n\t"
		"xor %%r10d, %%r10d\n\t"
		"syscall\n\t"
		"movdqu %%xmm0, 0(%1)\n\t"    "movdqu %%xmm1, 16(%1)\n\t"
		"movdqu %%xmm2, 32(%1)\n\t"   "movdqu %%xmm3, 48(%1)\n\t"
		"movdqu %%xmm4, 64(%1)\n\t"   "movdqu %%xmm5, 80(%1)\n\t"
		"movdqu %%xmm6, 96(%1)\n\t"   "movdqu %%xmm7, 112(%1)\n\t"
		"movdqu %%xmm8, 128(%1)\n\t"  "movdqu %%xmm9, 144(%1)\n\t"
		"movdqu %%xmm10, 160(%1)\n\t" "movdqu %%xmm11, 176(%1)\n\t"
		"movdqu %%xmm12, 192(%1)\n\t" "movdqu %%xmm13, 208(%1)\n\t"
		"movdqu %%xmm14, 224(%1)\n\t" "movdqu %%xmm15, 240(%1)\n\t"
		: "+r"(in), "+r"(out)
		: "r"(ts)
		: "rax", "rdi", "rsi", "rdx", "r10", "rcx", "r11",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15", "memory", "cc");
}

static double elapsed(const struct timespec *t0)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)(t.tv_sec - t0->tv_sec) +
	       (double)(t.tv_nsec - t0->tv_nsec) / 1e9;
}

static long rounds(double seconds, const char *stop, char *why, long len)
{
	uint8_t in[256], out[256];
	unsigned seed = 1;
	uint32_t mxcsr;
	uint16_t cw;
	struct timespec t0, ts;
	long n = 0;

	clock_gettime(CLOCK_MONOTONIC, &t0);
	while (elapsed(&t0) < seconds && access(stop, F_OK) != 0) {
		for (size_t i = 0; i < sizeof(in); i++)
			in[i] = (uint8_t)(rand_r(&seed) >> 7);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_nsec += 2000000;
		if (ts.tv_nsec >= 1000000000) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000;
		}
		errno = 0;
		if (close(-1) != -1 || errno != EBADF) {
			snprintf(why, (size_t)len, "close(-1) did not fail with EBADF");
			return -1;
		}
		hold_xmm(in, out, &ts);
		if (errno != EBADF) {
			snprintf(why, (size_t)len, "errno changed from EBADF to %d", errno);
			return -1;
		}
		for (size_t i = 0; i < sizeof(in); i++)
			if (in[i] != out[i]) {
				snprintf(why, (size_t)len, "xmm%zu changed (byte %zu)",
					 i / 16, i % 16);
				return -1;
			}
		__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
		__asm__ volatile("fnstcw %0" : "=m"(cw));
		if ((mxcsr & 0x6000) != 0x6000 || (cw & 0xc00) != 0xc00) {
			snprintf(why, (size_t)len, "rounding mode changed: "
				 "MXCSR %#x, x87 control word %#x", mxcsr, cw);
			return -1;
		}
		n++;
	}
	return n;
}

long muppy_test_regs(double seconds, const char *stop, char *why, long len)
{
	uint32_t mxcsr, mxcsr_tz;
	uint16_t cw, cw_tz;
	long n;

	__asm__ volatile("stmxcsr %0" : "=m"(mxcsr));
	__asm__ volatile("fnstcw %0" : "=m"(cw));
	mxcsr_tz = mxcsr | 0x6000; /* round toward zero */
	cw_tz = (uint16_t)(cw | 0xc00);
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr_tz));
	__asm__ volatile("fldcw %0" : : "m"(cw_tz));
	n = rounds(seconds, stop, why, len);
	__asm__ volatile("ldmxcsr %0" : : "m"(mxcsr));
	__asm__ volatile("fldcw %0" : : "m"(cw));
	return n;
}
