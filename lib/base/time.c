/* SPDX-License-Identifier: MIT */
/* UTC timestamps as 2026-11-25T12:52:54.123Z, without the C library's
 * time zone machinery (timegm and gmtime_r depend on the environment). */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <time.h>

#include "base/base.h"

#define MS_PER_DAY INT64_C(86400000)

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
	int64_t era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
	int64_t era, doe, yoe, doy, mp;

	z += 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	*d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
	*m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
	*y = yoe + era * 400 + (*m <= 2);
}

void muppy_time_format(char *buf, size_t size, int64_t ms)
{
	int64_t days, rem, y;
	unsigned m, d;

	/* Floor division, also for times before 1970. */
	days = ms / MS_PER_DAY;
	rem = ms % MS_PER_DAY;
	if (rem < 0) {
		rem += MS_PER_DAY;
		days--;
	}
	civil_from_days(days, &y, &m, &d);
	snprintf(buf, size, "%04" PRId64 "-%02u-%02uT%02u:%02u:%02u.%03uZ",
		 y, m, d, (unsigned)(rem / 3600000),
		 (unsigned)(rem / 60000 % 60), (unsigned)(rem / 1000 % 60),
		 (unsigned)(rem % 1000));
}

/* Reads exactly n digits at *p into *v. */
static bool digits(const char **p, int n, unsigned *v)
{
	unsigned x = 0;

	while (n-- > 0) {
		if (**p < '0' || **p > '9')
			return false;
		x = x * 10 + (unsigned)(**p - '0');
		(*p)++;
	}
	*v = x;
	return true;
}

static bool expect(const char **p, char c)
{
	if (**p != c)
		return false;
	(*p)++;
	return true;
}

static unsigned days_in_month(unsigned y, unsigned m)
{
	static const unsigned char dim[12] = {
		31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31
	};
	bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

	return dim[m - 1] + (m == 2 && leap);
}

int muppy_time_parse(const char *s, int64_t *ms)
{
	unsigned y, mo, d, h, mi, sec, frac = 0;
	int nfrac = 0;
	const char *p = s;

	if (!digits(&p, 4, &y) || !expect(&p, '-') || !digits(&p, 2, &mo) ||
	    !expect(&p, '-') || !digits(&p, 2, &d) || !expect(&p, 'T') ||
	    !digits(&p, 2, &h) || !expect(&p, ':') || !digits(&p, 2, &mi) ||
	    !expect(&p, ':') || !digits(&p, 2, &sec))
		return -EINVAL;
	if (expect(&p, '.')) {
		/* 1 to 9 digits; keep the milliseconds, truncate the rest. */
		while (*p >= '0' && *p <= '9' && nfrac < 9) {
			if (nfrac < 3)
				frac = frac * 10 + (unsigned)(*p - '0');
			nfrac++;
			p++;
		}
		if (nfrac == 0)
			return -EINVAL;
		for (; nfrac < 3; nfrac++)
			frac *= 10;
	}
	if (!expect(&p, 'Z') || *p)
		return -EINVAL;
	if (mo < 1 || mo > 12 || d < 1 || d > days_in_month(y, mo) ||
	    h > 23 || mi > 59 || sec > 59)
		return -EINVAL;
	*ms = days_from_civil(y, mo, d) * MS_PER_DAY +
	      (int64_t)(h * 3600 + mi * 60 + sec) * 1000 + frac;
	return 0;
}

uint64_t muppy__now_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000 + (uint64_t)ts.tv_nsec / 1000;
}
