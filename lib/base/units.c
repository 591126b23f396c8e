/* SPDX-License-Identifier: MIT */
/* Byte sizes: parsing "1.5M" and printing "1.5 KiB"; all units binary. */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

static const char units[] = "kmgtpe"; /* 2^10 .. 2^60 */

/* The power of 1024 of a unit suffix ("", "B", "k", "KiB", "MB"...). */
static int unit_shift(const char *p)
{
	const char *u;
	int shift = 0;

	if (*p && (u = strchr(units, *p | 0x20)) != NULL) {
		shift = 10 * (int)(u - units + 1);
		p++;
		if (*p == 'i' && p[1] == 'B')
			p += 2;
		else if (*p == 'B')
			p++;
	} else if (*p == 'B') {
		p++;
	}
	return *p ? -1 : shift;
}

int muppy_parse_size(const char *s, uint64_t *out)
{
	const uint64_t max = MUPPY_MAX_VALUE;
	uint64_t whole = 0, frac = 0, scale = 1, mult, v;
	const char *p = s;
	int shift;

	if (*p < '0' || *p > '9')
		return -EINVAL;
	for (; *p >= '0' && *p <= '9'; p++) {
		if (whole > (max - (uint64_t)(*p - '0')) / 10)
			return -ERANGE;
		whole = whole * 10 + (uint64_t)(*p - '0');
	}
	if (*p == '.') {
		p++;
		if (*p < '0' || *p > '9')
			return -EINVAL;
		/* Up to 18 fractional digits count; the rest are dropped. */
		for (; *p >= '0' && *p <= '9'; p++) {
			if (scale < UINT64_C(1000000000000000000)) {
				frac = frac * 10 + (uint64_t)(*p - '0');
				scale *= 10;
			}
		}
	}
	shift = unit_shift(p);
	if (shift < 0 || (shift == 0 && scale > 1))
		return -EINVAL; /* unknown unit, or a fraction of a byte */
	mult = UINT64_C(1) << shift;
	if (whole > max / mult)
		return -ERANGE;
	v = whole * mult;
	/* frac / scale of mult, rounded down, without overflowing. */
	if (scale > 1) {
		uint64_t part = (uint64_t)((unsigned __int128)frac * mult / scale);

		if (part > max - v)
			return -ERANGE;
		v += part;
	}
	*out = v;
	return 0;
}

void muppy_human_bytes(char *buf, size_t size, uint64_t bytes)
{
	static const char *const names[] = {
		"KiB", "MiB", "GiB", "TiB", "PiB", "EiB"
	};
	uint64_t div, tenths;
	size_t u;

	if (bytes < 1024) {
		snprintf(buf, size, "%" PRIu64 " B", bytes);
		return;
	}
	/* Tenths of the unit, rounded half up; move up at 1024.0. */
	for (u = 0; u < ARRAY_SIZE(names); u++) {
		div = UINT64_C(1) << (10 * (u + 1));
		tenths = bytes / div * 10 + ((bytes % div) * 10 + div / 2) / div;
		if (tenths < 10240 || u + 1 == ARRAY_SIZE(names))
			break;
	}
	snprintf(buf, size, "%" PRIu64 ".%" PRIu64 " %s", tenths / 10,
		 tenths % 10, names[u]);
}

void muppy_human_delta(char *buf, size_t size, int64_t bytes)
{
	uint64_t mag = bytes < 0 ? -(uint64_t)bytes : (uint64_t)bytes;
	char tmp[32];

	muppy_human_bytes(tmp, sizeof(tmp), mag);
	snprintf(buf, size, "%s%s", bytes > 0 ? "+" : bytes < 0 ? "-" : "",
		 tmp);
}
