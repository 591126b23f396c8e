/* SPDX-License-Identifier: MIT */
/*
 * Bookkeeping memory for the payload, taken straight from the kernel so
 * that it neither disturbs the target's malloc heap nor stays behind:
 * every block is its own mapping and is unmapped when freed.
 *
 * All of it together stays below a quarter of the memory the machine has
 * available when the payload starts (at least 64 MiB): beyond, a request
 * fails and the snapshot is refused as out of memory, rather than the
 * kernel's OOM killer choosing a victim (the target has the most).
 */
#include <fcntl.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "payload.h"

static size_t in_use, peak, cap;

/* MemAvailable of /proc/meminfo, in bytes; 0 when it cannot be read. */
static size_t available(void)
{
	char buf[4096], *p;
	unsigned long long kb;
	int fd = open("/proc/meminfo", O_RDONLY | O_CLOEXEC);
	ssize_t n = fd >= 0 ? read(fd, buf, sizeof(buf) - 1) : -1;

	if (fd >= 0)
		close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	p = strstr(buf, "MemAvailable:");
	if (!p || sscanf(p + 13, "%llu", &kb) != 1)
		return 0;
	return (size_t)kb * 1024;
}

void pmem_limit(void)
{
	size_t avail = available();

	cap = avail / 4 > ((size_t)64 << 20) ? avail / 4 : (size_t)64 << 20;
#ifdef MUPPY_PAYLOAD_CHECK
	/* tests/snap/owners-memcap.test: a cap of this many KiB */
	const char *v = getenv("MUPPY_PAYLOAD_MEMCAP_KB");

	if (v && *v)
		cap = (size_t)strtoull(v, NULL, 10) * 1024;
#endif
}

static bool over(size_t more)
{
	return cap && in_use + more > cap;
}

static size_t round_up(size_t size)
{
	return (size + 4095) & ~(size_t)4095;
}

static void *map(size_t size, int flags)
{
	void *p;

	size = round_up(size ? size : 1);
	if (over(size))
		return NULL;
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE | flags, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	in_use += size;
	if (in_use > peak)
		peak = in_use;
	return p;
}

void *pmem_alloc(size_t size)
{
	return map(size, 0);
}

/* Page faults are dear in a virtual machine: memory that will be
 * written at once comes in with its pages. */
void *pmem_alloc_filled(size_t size)
{
	return map(size, MAP_POPULATE);
}

void pmem_ahead(void *base, size_t used, size_t elem, size_t capacity)
{
	const size_t step = (size_t)2 << 20;
	size_t at = used / step * step;

	/* small arrays fault in page by page: what they waste counts */
	if (used % step < elem && at < capacity && at >= 2 * step)
		madvise((char *)base + at, capacity - at < step ?
			capacity - at : step, MADV_POPULATE_WRITE);
}

void *pmem_realloc(void *p, size_t old, size_t size)
{
	void *q;

	if (!p)
		return pmem_alloc(size);
	old = round_up(old);
	size = round_up(size);
	if (size > old && over(size - old))
		return NULL;
	q = mremap(p, old, size, MREMAP_MAYMOVE);
	if (q == MAP_FAILED)
		return NULL;
	in_use = in_use - old + size;
	if (in_use > peak)
		peak = in_use;
	return q;
}

void pmem_free(void *p, size_t size)
{
	if (!p)
		return;
	size = round_up(size ? size : 1);
	munmap(p, size);
	in_use -= size;
}

size_t pmem_peak(void)
{
	return peak;
}
