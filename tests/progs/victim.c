/* SPDX-License-Identifier: MIT */
/*
 * A target that checks itself while it is being injected:
 *   victim [-s SECONDS] [-r READYFILE]
 * Threads: vector/FPU registers held across a spin loop (ymm0-15, MXCSR,
 * x87 control word) plus errno after a failing call; sleeps that must not
 * end early (nor a second late)
 * (clock_nanosleep, nanosleep) with an alternate signal stack that must
 * stay put; a reader blocked in read() on a pipe fed numbered records;
 * malloc/free hammering threads; a SIGUSR1 counter.  On SIGTERM or after
 * SECONDS it prints its counts and "OK" or the first failure; exit status
 * 0 only if every check passed.
 */
#include <errno.h>
#include <fenv.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <sys/syscall.h>
#include <unistd.h>

#define NMALLOC 3
#define SLEEP_NS 20000000L /* 20 ms */
/* How late a sleep may end: an injection that takes this thread holds it
 * (longer on a loaded machine, where the hammering threads starve it
 * too).  tests/inject/restart.test checks relative waits exactly. */
#define SLEEP_SLACK_NS 1000000000L

static atomic_int stop;
static volatile sig_atomic_t usr1;
static pthread_mutex_t fail_lock = PTHREAD_MUTEX_INITIALIZER;
static char failure[512];
static atomic_ulong n_fp, n_sleep, n_pipe, n_malloc, n_errno;
static int pipefd[2];

__attribute__((format(printf, 1, 2))) static void fail(const char *fmt, ...)
{
	va_list ap;

	pthread_mutex_lock(&fail_lock);
	if (!failure[0]) {
		va_start(ap, fmt);
		vsnprintf(failure, sizeof(failure), fmt, ap);
		va_end(ap);
	}
	pthread_mutex_unlock(&fail_lock);
}

static int64_t now_ns(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/*
 * ymm0-15 loaded with a pattern, a spin and a raw nanosleep system call
 * (absolute, where injections land: the thread is then blocked, a
 * preferred safe point) with nothing in memory, then stored back.
 */
static void spin_ymm(const uint8_t *in, uint8_t *out, long iters,
		     const struct timespec *ts)
{
	__asm__ volatile(
		"vmovdqu 0(%0), %%ymm0\n\t"   "vmovdqu 32(%0), %%ymm1\n\t"
		"vmovdqu 64(%0), %%ymm2\n\t"  "vmovdqu 96(%0), %%ymm3\n\t"
		"vmovdqu 128(%0), %%ymm4\n\t" "vmovdqu 160(%0), %%ymm5\n\t"
		"vmovdqu 192(%0), %%ymm6\n\t" "vmovdqu 224(%0), %%ymm7\n\t"
		"vmovdqu 256(%0), %%ymm8\n\t" "vmovdqu 288(%0), %%ymm9\n\t"
		"vmovdqu 320(%0), %%ymm10\n\t" "vmovdqu 352(%0), %%ymm11\n\t"
		"vmovdqu 384(%0), %%ymm12\n\t" "vmovdqu 416(%0), %%ymm13\n\t"
		"vmovdqu 448(%0), %%ymm14\n\t" "vmovdqu 480(%0), %%ymm15\n\t"
		"1: pause\n\t"
		"dec %2\n\t"
		"jnz 1b\n\t"
		/* clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, ts, NULL):
		 * restarted as is, so the injector prefers such threads */
		"mov $230, %%eax\n\t"
		"mov $1, %%edi\n\t"
		"mov $1, %%esi\n\t"
		"mov %3, %%rdx\n\t"
		"xor %%r10d, %%r10d\n\t"
		"syscall\n\t"
		"vmovdqu %%ymm0, 0(%1)\n\t"   "vmovdqu %%ymm1, 32(%1)\n\t"
		"vmovdqu %%ymm2, 64(%1)\n\t"  "vmovdqu %%ymm3, 96(%1)\n\t"
		"vmovdqu %%ymm4, 128(%1)\n\t" "vmovdqu %%ymm5, 160(%1)\n\t"
		"vmovdqu %%ymm6, 192(%1)\n\t" "vmovdqu %%ymm7, 224(%1)\n\t"
		"vmovdqu %%ymm8, 256(%1)\n\t" "vmovdqu %%ymm9, 288(%1)\n\t"
		"vmovdqu %%ymm10, 320(%1)\n\t" "vmovdqu %%ymm11, 352(%1)\n\t"
		"vmovdqu %%ymm12, 384(%1)\n\t" "vmovdqu %%ymm13, 416(%1)\n\t"
		"vmovdqu %%ymm14, 448(%1)\n\t" "vmovdqu %%ymm15, 480(%1)\n\t"
		"vzeroupper\n\t"
		: "+r"(in), "+r"(out), "+r"(iters)
		: "r"(ts)
		: "rax", "rdi", "rsi", "rdx", "r10", "rcx", "r11",
		  "xmm0", "xmm1", "xmm2", "xmm3", "xmm4", "xmm5", "xmm6",
		  "xmm7", "xmm8", "xmm9", "xmm10", "xmm11", "xmm12", "xmm13",
		  "xmm14", "xmm15", "memory", "cc");
}

/*
 * glibc gives a thread its malloc arena at its first malloc, and never
 * unmaps arenas.  Every thread allocates once at start, so an injected
 * dlopen does not create one (the mappings must stay identical).
 */
static void own_arena(void)
{
	void *volatile p = malloc(64); /* volatile: not optimised away */

	free(p);
}

static void *fp_thread(void *arg)
{
	uint8_t in[512], out[512];
	volatile double three = 3.0;
	double third;
	unsigned short cw = 0xe7f, cw2; /* double precision, toward zero */
	int avx = __builtin_cpu_supports("avx");
	unsigned seed = 1;
	size_t i;

	(void)arg;
	own_arena();
	fesetround(FE_TOWARDZERO);
	third = 1.0 / three;
	__asm__ volatile("fldcw %0" : : "m"(cw));
	while (!stop) {
		for (i = 0; i < sizeof(in); i++)
			in[i] = (uint8_t)(rand_r(&seed) >> 7);
		errno = 0;
		if (close(-1) != -1 || errno != EBADF)
			fail("close(-1) did not fail with EBADF");
		if (avx) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_nsec += 2000000;
			if (ts.tv_nsec >= 1000000000) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000;
			}
			spin_ymm(in, out, 20000, &ts);
			if (memcmp(in, out, sizeof(in))) {
				for (i = 0; i < sizeof(in) && in[i] == out[i]; i++)
					;
				fail("ymm%zu changed during the spin (byte %zu)", i / 32, i % 32);
			}
		} else {
			struct timespec ts = { 0, 2000000 };

			for (volatile long k = 0; k < 20000; k++)
				;
			syscall(SYS_nanosleep, &ts, NULL);
		}
		if (errno != EBADF)
			fail("errno changed from EBADF to %d in the FP thread", errno);
		if (fegetround() != FE_TOWARDZERO)
			fail("MXCSR rounding mode changed");
		if (1.0 / three != third)
			fail("division result changed (rounding)");
		__asm__ volatile("fnstcw %0" : "=m"(cw2));
		if (cw2 != cw)
			fail("x87 control word changed: %#x", cw2);
		n_fp++;
		n_errno++;
	}
	return NULL;
}

static void *sleep_thread(void *arg)
{
	static char alt[64 * 1024];
	stack_t ss = { .ss_sp = alt, .ss_size = sizeof(alt) }, cur;
	struct timespec req = { 0, SLEEP_NS };
	int64_t t0, dt;
	unsigned k = 0;
	int r;

	(void)arg;
	own_arena();
	if (sigaltstack(&ss, NULL))
		fail("sigaltstack: %s", strerror(errno));
	while (!stop) {
		t0 = now_ns();
		if (k++ & 1) {
			while ((r = clock_nanosleep(CLOCK_MONOTONIC, 0, &req, NULL)) == EINTR)
				;
		} else {
			struct timespec rem = req;

			while ((r = nanosleep(&rem, &rem)) == -1 && errno == EINTR)
				;
		}
		dt = now_ns() - t0;
		if (r)
			fail("sleep failed: %d", r);
		if (dt < SLEEP_NS || dt >= SLEEP_NS + SLEEP_SLACK_NS)
			fail("a %ld ms sleep took %.3f ms", SLEEP_NS / 1000000, dt / 1e6);
		if (sigaltstack(NULL, &cur) || cur.ss_sp != alt ||
		    cur.ss_size != sizeof(alt) || cur.ss_flags != 0)
			fail("alternate signal stack changed (sp %p size %zu flags %d)",
			     cur.ss_sp, cur.ss_size, cur.ss_flags);
		n_sleep++;
	}
	return NULL;
}

struct rec {
	uint64_t seq, check;
};

static void *reader_thread(void *arg)
{
	struct rec r;
	uint64_t want = 0;
	size_t got;
	ssize_t n;

	(void)arg;
	own_arena();
	for (;;) {
		for (got = 0; got < sizeof(r); got += (size_t)n) {
			n = read(pipefd[0], (char *)&r + got, sizeof(r) - got);
			if (n < 0 && errno == EINTR) {
				n = 0;
				continue;
			}
			if (n <= 0) {
				if (n < 0)
					fail("read: %s", strerror(errno));
				else if (got)
					fail("pipe: partial record at EOF");
				return NULL;
			}
		}
		if (r.seq != want || r.check != ~r.seq)
			fail("pipe record %llu: got seq %llu", (unsigned long long)want,
			     (unsigned long long)r.seq);
		want = r.seq + 1;
		n_pipe++;
	}
}

static void *writer_thread(void *arg)
{
	struct timespec ts = { 0, 2000000 };
	struct rec r;
	uint64_t seq = 0;

	(void)arg;
	own_arena();
	while (!stop) {
		r.seq = seq++;
		r.check = ~r.seq;
		if (write(pipefd[1], &r, sizeof(r)) != sizeof(r))
			fail("write: %s", strerror(errno));
		nanosleep(&ts, NULL);
	}
	close(pipefd[1]);
	return NULL;
}

static void *malloc_thread(void *arg)
{
	unsigned seed = (unsigned)(uintptr_t)arg;
	unsigned char *blk[64] = { 0 };
	size_t sz[64] = { 0 }, i, j;

	while (!stop) {
		i = (size_t)rand_r(&seed) % 64;
		if (blk[i]) {
			for (j = 0; j < sz[i]; j++)
				if (blk[i][j] != (unsigned char)(i + sz[i]))
					fail("heap block corrupted");
			free(blk[i]);
		}
		sz[i] = 16 + (size_t)rand_r(&seed) % 4000;
		blk[i] = malloc(sz[i]);
		if (!blk[i]) {
			fail("malloc failed");
			break;
		}
		memset(blk[i], (int)(i + sz[i]), sz[i]);
		if (++n_malloc % 100 == 0) {
			/* busy, but leave the CPUs some air: timing checks */
			struct timespec ts = { 0, 100000 };

			nanosleep(&ts, NULL);
		}
	}
	for (i = 0; i < 64; i++)
		free(blk[i]);
	return NULL;
}

static void on_usr1(int sig)
{
	(void)sig;
	usr1++;
}

static void on_term(int sig)
{
	(void)sig;
	stop = 1;
}

int main(int argc, char **argv)
{
	pthread_t th[4 + NMALLOC];
	struct sigaction sa;
	const char *ready = NULL;
	int64_t end;
	int secs = 30, opt, i, n = 0;
	FILE *f;

	while ((opt = getopt(argc, argv, "s:r:")) != -1) {
		switch (opt) {
		case 's': secs = atoi(optarg); break;
		case 'r': ready = optarg; break;
		default:
			fprintf(stderr, "usage: victim [-s SECONDS] [-r READYFILE]\n");
			return 64;
		}
	}
	/* arenas grow in big steps: no growth while we compare mappings */
	mallopt(M_TOP_PAD, 8 << 20);
	memset(&sa, 0, sizeof(sa));
	sa.sa_flags = SA_RESTART;
	sa.sa_handler = on_usr1;
	sigaction(SIGUSR1, &sa, NULL);
	sa.sa_handler = on_term;
	sigaction(SIGTERM, &sa, NULL);
	if (pipe(pipefd))
		return 99;
	pthread_create(&th[n++], NULL, fp_thread, NULL);
	pthread_create(&th[n++], NULL, sleep_thread, NULL);
	pthread_create(&th[n++], NULL, reader_thread, NULL);
	pthread_create(&th[n++], NULL, writer_thread, NULL);
	for (i = 0; i < NMALLOC; i++)
		pthread_create(&th[n++], NULL, malloc_thread, (void *)(uintptr_t)(i + 7));
	if (ready) {
		f = fopen(ready, "w");
		if (f) {
			fprintf(f, "ready %d\n", (int)getpid());
			fclose(f);
		}
	}
	end = now_ns() + (int64_t)secs * 1000000000;
	while (!stop && now_ns() < end) {
		struct timespec ts = { 0, 10000000 };

		nanosleep(&ts, NULL);
	}
	stop = 1;
	for (i = 0; i < n; i++)
		pthread_join(th[i], NULL);
	printf("victim: fp %lu, errno %lu, sleeps %lu, pipe records %lu, malloc %lu, usr1 %d\n",
	       (unsigned long)n_fp, (unsigned long)n_errno, (unsigned long)n_sleep,
	       (unsigned long)n_pipe, (unsigned long)n_malloc, (int)usr1);
	if (!n_fp || !n_sleep || !n_pipe || !n_malloc)
		fail("a checking thread made no progress");
	if (failure[0]) {
		printf("FAIL: %s\n", failure);
		return 1;
	}
	printf("OK\n");
	return 0;
}
