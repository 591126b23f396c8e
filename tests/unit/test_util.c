/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/base/time.c and units.c: timestamps and byte sizes. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

struct time_case {
	const char *text;
	int rc;
	int64_t ms;
	const char *canonical; /* muppy_time_format(ms); NULL = text */
};

static const struct time_case time_cases[] = {
	{ "1970-01-01T00:00:00.000Z", 0, 0, NULL },
	{ "2026-11-25T12:52:54.123Z", 0, INT64_C(1795611174123), NULL },
	{ "2026-11-25T12:52:54Z", 0, INT64_C(1795611174000),
	  "2026-11-25T12:52:54.000Z" },
	{ "2026-11-25T12:52:54.1Z", 0, INT64_C(1795611174100),
	  "2026-11-25T12:52:54.100Z" },
	{ "2026-11-25T12:52:54.12Z", 0, INT64_C(1795611174120),
	  "2026-11-25T12:52:54.120Z" },
	{ "2026-11-25T12:52:54.123999999Z", 0, INT64_C(1795611174123),
	  "2026-11-25T12:52:54.123Z" },
	{ "2000-02-29T23:59:59.999Z", 0, INT64_C(951868799999), NULL },
	{ "1969-12-31T23:59:59.999Z", 0, -1, NULL },
	{ "1900-01-01T00:00:00.000Z", 0, INT64_C(-2208988800000), NULL },
	{ "0000-01-01T00:00:00.000Z", 0, MUPPY__TIME_MIN_MS, NULL },
	{ "9999-12-31T23:59:59.999Z", 0, MUPPY__TIME_MAX_MS, NULL },
	{ "2038-01-19T03:14:08.000Z", 0, INT64_C(2147483648000), NULL },
	{ "", -EINVAL, 0, NULL },
	{ "2026-11-25", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:54.123", -EINVAL, 0, NULL },    /* no Z */
	{ "2026-11-25T12:52:54.123z", -EINVAL, 0, NULL },
	{ "2026-11-25 12:52:54.123Z", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:54.Z", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:54.1234567890Z", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:54.123Z ", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:54+00:00", -EINVAL, 0, NULL },
	{ "26-11-25T12:52:54Z", -EINVAL, 0, NULL },
	{ "+2026-11-25T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-00-25T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-13-25T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-11-00T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-11-31T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-02-29T12:52:54Z", -EINVAL, 0, NULL },
	{ "1900-02-29T12:52:54Z", -EINVAL, 0, NULL },
	{ "2026-11-25T24:00:00Z", -EINVAL, 0, NULL },
	{ "2026-11-25T12:60:54Z", -EINVAL, 0, NULL },
	{ "2026-11-25T12:52:60Z", -EINVAL, 0, NULL },
	{ "2026-1l-25T12:52:54Z", -EINVAL, 0, NULL },
};

static void test_time(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(time_cases); i++) {
		const struct time_case *c = &time_cases[i];
		int64_t ms = 42;
		char buf[32];
		int rc = muppy_time_parse(c->text, &ms);

		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->text,
				 rc, c->rc);
		if (rc < 0) {
			assert_int_equal(ms, 42);
			continue;
		}
		assert_int_equal(ms, c->ms);
		muppy_time_format(buf, sizeof(buf), ms);
		assert_string_equal(buf, c->canonical ? c->canonical : c->text);
	}
}

/* Format and parse agree on every day of the supported range. */
static void test_time_days(void **state)
{
	const int64_t day = INT64_C(86400000);
	int64_t ms, back;
	char buf[32];

	(void)state;
	for (ms = MUPPY__TIME_MIN_MS; ms <= MUPPY__TIME_MAX_MS;
	     ms += 5 * day + 3723001) {
		muppy_time_format(buf, sizeof(buf), ms);
		assert_int_equal(muppy_time_parse(buf, &back), 0);
		assert_int_equal(back, ms);
	}
}

static void test_time_short_buffer(void **state)
{
	char buf[11];

	(void)state;
	muppy_time_format(buf, sizeof(buf), 0);
	assert_string_equal(buf, "1970-01-01");
}

struct size_case {
	const char *text;
	int rc;
	uint64_t v;
};

static const struct size_case size_cases[] = {
	{ "0", 0, 0 },
	{ "123", 0, 123 },
	{ "123B", 0, 123 },
	{ "10k", 0, 10240 },
	{ "10K", 0, 10240 },
	{ "10KB", 0, 10240 },
	{ "10KiB", 0, 10240 },
	{ "1.5M", 0, 1572864 },
	{ "1.5MiB", 0, 1572864 },
	{ "2GiB", 0, UINT64_C(2147483648) },
	{ "2g", 0, UINT64_C(2147483648) },
	{ "1T", 0, UINT64_C(1) << 40 },
	{ "1P", 0, UINT64_C(1) << 50 },
	{ "7E", 0, UINT64_C(7) << 60 },
	{ "0.5k", 0, 512 },
	{ "0.1k", 0, 102 },           /* rounded down to whole bytes */
	{ "1.0009765625k", 0, 1025 },
	{ "007", 0, 7 },
	{ "9223372036854775807", 0, UINT64_C(9223372036854775807) },
	{ "7.99999999999999999999E", 0, UINT64_C(9223372036854775806) },
	{ "9223372036854775808", -ERANGE, 0 },
	{ "99999999999999999999", -ERANGE, 0 },
	{ "8E", -ERANGE, 0 },
	{ "8589934592G", -ERANGE, 0 },
	{ "", -EINVAL, 0 },
	{ "k", -EINVAL, 0 },
	{ "B", -EINVAL, 0 },
	{ "-1", -EINVAL, 0 },
	{ "+1", -EINVAL, 0 },
	{ " 1", -EINVAL, 0 },
	{ "1 ", -EINVAL, 0 },
	{ "1 k", -EINVAL, 0 },
	{ "1.5", -EINVAL, 0 },        /* a fraction of a byte */
	{ "1.", -EINVAL, 0 },
	{ ".5k", -EINVAL, 0 },
	{ "1x", -EINVAL, 0 },
	{ "1kk", -EINVAL, 0 },
	{ "1kib", -EINVAL, 0 },
	{ "1KiBB", -EINVAL, 0 },
	{ "0x10", -EINVAL, 0 },
	{ "1e3", -EINVAL, 0 },
};

static void test_parse_size(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(size_cases); i++) {
		const struct size_case *c = &size_cases[i];
		uint64_t v = 42;
		int rc = muppy_parse_size(c->text, &v);

		if (rc != c->rc)
			fail_msg("case %zu '%s': rc %d, want %d", i, c->text,
				 rc, c->rc);
		assert_int_equal(v, rc == 0 ? c->v : 42);
	}
}

struct human_case {
	uint64_t bytes;
	const char *text;
};

static const struct human_case human_cases[] = {
	{ 0, "0 B" },
	{ 1, "1 B" },
	{ 512, "512 B" },
	{ 1023, "1023 B" },
	{ 1024, "1.0 KiB" },
	{ 1536, "1.5 KiB" },
	{ 1075, "1.0 KiB" },           /* 1.0498 */
	{ 1076, "1.1 KiB" },           /* 1.0508, rounds half up */
	{ 1048063, "1023.5 KiB" },
	{ 1048524, "1023.9 KiB" },
	{ 1048525, "1.0 MiB" },        /* would print as 1024.0 KiB */
	{ 1048576, "1.0 MiB" },
	{ 12582912, "12.0 MiB" },
	{ UINT64_C(1) << 30, "1.0 GiB" },
	{ UINT64_C(5) << 40, "5.0 TiB" },
	{ UINT64_C(1) << 50, "1.0 PiB" },
	{ UINT64_C(9223372036854775807), "8.0 EiB" },
	{ UINT64_MAX, "16.0 EiB" },
};

static void test_human_bytes(void **state)
{
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(human_cases); i++) {
		muppy_human_bytes(buf, sizeof(buf), human_cases[i].bytes);
		if (strcmp(buf, human_cases[i].text) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf,
				 human_cases[i].text);
	}
}

struct delta_case {
	int64_t bytes;
	const char *text;
};

static const struct delta_case delta_cases[] = {
	{ 0, "0 B" },
	{ 1, "+1 B" },
	{ -512, "-512 B" },
	{ 1536, "+1.5 KiB" },
	{ -1536, "-1.5 KiB" },
	{ INT64_MAX, "+8.0 EiB" },
	{ INT64_MIN, "-8.0 EiB" },
};

static void test_human_delta(void **state)
{
	char buf[32];
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(delta_cases); i++) {
		muppy_human_delta(buf, sizeof(buf), delta_cases[i].bytes);
		if (strcmp(buf, delta_cases[i].text) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf,
				 delta_cases[i].text);
	}
	muppy_human_delta(buf, 4, -1536);
	assert_string_equal(buf, "-1.");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_time),
		cmocka_unit_test(test_time_days),
		cmocka_unit_test(test_time_short_buffer),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_human_bytes),
		cmocka_unit_test(test_human_delta),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
