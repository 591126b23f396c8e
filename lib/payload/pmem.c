/* SPDX-License-Identifier: MIT */
/*
 * Bookkeeping memory for the payload, taken straight from the kernel so
 * that it neither disturbs the target's malloc heap nor stays behind:
 * every block is its own mapping and is unmapped when freed.
 */
#include <stddef.h>
#include <sys/mman.h>

#include "payload.h"

static size_t in_use, peak;

static size_t round_up(size_t size)
{
	return (size + 4095) & ~(size_t)4095;
}

void *pmem_alloc(size_t size)
{
	void *p;

	size = round_up(size ? size : 1);
	p = mmap(NULL, size, PROT_READ | PROT_WRITE,
		 MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
	if (p == MAP_FAILED)
		return NULL;
	in_use += size;
	if (in_use > peak)
		peak = in_use;
	return p;
}

void *pmem_realloc(void *p, size_t old, size_t size)
{
	void *q;

	if (!p)
		return pmem_alloc(size);
	old = round_up(old);
	size = round_up(size);
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
