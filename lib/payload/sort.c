/* SPDX-License-Identifier: MIT */
/*
 * Sorting without glibc's qsort(), which takes a buffer from malloc() for
 * anything above a kilobyte: the payload leaves the target's malloc heap
 * alone (pmem.c).  A radix sort for the large arrays keyed by an address,
 * a heapsort, in place, for the rest.
 */
#include <string.h>

#include "payload.h"

static inline uintptr_t key_at(const char *base, size_t i, size_t size,
			       size_t off)
{
	uintptr_t k;

	memcpy(&k, base + i * size + off, sizeof(k));
	return k;
}

/* Heapsort: in place, nothing allocated. */
static void sift(char *b, size_t root, size_t n, size_t size,
		 int (*cmp)(const void *, const void *, void *), void *ctx,
		 char *tmp)
{
	for (;;) {
		size_t child = 2 * root + 1;

		if (child >= n)
			return;
		if (child + 1 < n &&
		    cmp(b + child * size, b + (child + 1) * size, ctx) < 0)
			child++;
		if (cmp(b + root * size, b + child * size, ctx) >= 0)
			return;
		memcpy(tmp, b + root * size, size);
		memcpy(b + root * size, b + child * size, size);
		memcpy(b + child * size, tmp, size);
		root = child;
	}
}

void psort(void *base, size_t n, size_t size,
	   int (*cmp)(const void *, const void *, void *), void *ctx)
{
	char *b = base, tmp[64];

	if (n < 2 || size > sizeof(tmp))
		return;
	for (size_t i = n / 2; i-- > 0;)
		sift(b, i, n, size, cmp, ctx, tmp);
	for (size_t end = n - 1; end > 0; end--) {
		memcpy(tmp, b, size);
		memcpy(b, b + end * size, size);
		memcpy(b + end * size, tmp, size);
		sift(b, 0, end, size, cmp, ctx, tmp);
	}
}

static int cmp_key(const void *a, const void *b, void *ctx)
{
	size_t off = *(const size_t *)ctx;
	uintptr_t x, y;

	memcpy(&x, (const char *)a + off, sizeof(x));
	memcpy(&y, (const char *)b + off, sizeof(y));
	return x < y ? -1 : x > y;
}

/*
 * Stable LSD radix sort, a byte a pass, of n elements of size bytes by
 * the address at byte off of each; passes over bytes that are the same
 * in every key are skipped.  Inlined for each element size used, so that
 * the copies are plain moves.
 */
static inline __attribute__((always_inline)) void
radix(char *base, char *tmp, size_t n, const size_t size, const size_t off)
{
	char *a = base, *b = tmp;
	size_t count[256];
	uintptr_t all_or = 0, all_and = ~(uintptr_t)0;

	for (size_t i = 0; i < n; i++) {
		uintptr_t k = key_at(a, i, size, off);

		all_or |= k;
		all_and &= k;
	}
	for (unsigned shift = 0; shift < 8 * sizeof(uintptr_t); shift += 8) {
		size_t sum = 0;
		char *t;

		if (!(((all_or ^ all_and) >> shift) & 0xff))
			continue; /* this byte is the same in every key */
		memset(count, 0, sizeof(count));
		for (size_t i = 0; i < n; i++)
			count[(key_at(a, i, size, off) >> shift) & 0xff]++;
		for (size_t d = 0; d < 256; d++) {
			size_t c = count[d];

			count[d] = sum;
			sum += c;
		}
		for (size_t i = 0; i < n; i++) {
			size_t d = (key_at(a, i, size, off) >> shift) & 0xff;

			memcpy(b + count[d]++ * size, a + i * size, size);
		}
		t = a;
		a = b;
		b = t;
	}
	if (a != base) /* an odd number of passes: the result is in tmp */
		memcpy(base, a, n * size);
}

size_t pfind_by_addr(const void *base, size_t n, size_t size,
		     uintptr_t key)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (key_at(base, mid, size, 0) < key)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Without memory for the copy it heapsorts. */
void psort_by_addr(void *base, size_t n, size_t size, size_t off)
{
	char *tmp;

	if (n < 2)
		return;
	tmp = n > 64 ? pmem_alloc_filled(n * size) : NULL;
	if (!tmp) {
		psort(base, n, size, cmp_key, &off);
		return;
	}
	if (size == 16 && off == 0)
		radix(base, tmp, n, 16, 0);
	else if (size == 12 && off == 0)
		radix(base, tmp, n, 12, 0);
	else
		radix(base, tmp, n, size, off);
	pmem_free(tmp, n * size);
}
