/* SPDX-License-Identifier: MIT */
/*
 * A malloc of its own for LD_PRELOAD, as jemalloc or tcmalloc would be:
 * every call takes one spin lock and holds it a while (so that a thread
 * interrupted at random is most likely inside), then uses glibc's.  A
 * thread that enters it again while inside (what a remote dlopen from a
 * thread stopped in here does) would deadlock on the lock: instead it
 * appends a line to $SPINALLOC_REPORT and goes on.
 */
#include <fcntl.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

extern void *__libc_malloc(size_t n);
extern void *__libc_calloc(size_t n, size_t m);
extern void *__libc_realloc(void *p, size_t n);
extern void __libc_free(void *p);

static atomic_flag lock = ATOMIC_FLAG_INIT;
static __thread int inside;

static void report(void)
{
	static const char msg[] = "re-entered from the same thread\n";
	const char *path = getenv("SPINALLOC_REPORT");
	int fd;

	if (!path)
		return;
	fd = (int)syscall(SYS_open, path, O_WRONLY | O_CREAT | O_APPEND, 0600);
	if (fd >= 0) {
		syscall(SYS_write, fd, msg, sizeof(msg) - 1);
		syscall(SYS_close, fd);
	}
}

/* 1 when this thread took the lock. */
static int enter(void)
{
	volatile unsigned i;

	if (inside) {
		report();
		return 0;
	}
	inside = 1;
	while (atomic_flag_test_and_set_explicit(&lock, memory_order_acquire))
		;
	for (i = 0; i < 20000; i++) /* hold it a while */
		;
	return 1;
}

static void leave(int took)
{
	if (!took)
		return;
	atomic_flag_clear_explicit(&lock, memory_order_release);
	inside = 0;
}

__attribute__((visibility("default"))) void *malloc(size_t n)
{
	int took = enter();
	void *p = __libc_malloc(n);

	leave(took);
	return p;
}

__attribute__((visibility("default"))) void *calloc(size_t n, size_t m)
{
	int took = enter();
	void *p = __libc_calloc(n, m);

	leave(took);
	return p;
}

__attribute__((visibility("default"))) void *realloc(void *q, size_t n)
{
	int took = enter();
	void *p = __libc_realloc(q, n);

	leave(took);
	return p;
}

__attribute__((visibility("default"))) void free(void *q)
{
	int took = enter();

	__libc_free(q);
	leave(took);
}
