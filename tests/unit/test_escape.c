/* SPDX-License-Identifier: MIT */
/* Unit tests for lib/base/escape.c: escaping untrusted text and its inverse. */
#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "muppy_int.h"

/* Raw bytes (with their length, they may hold NUL) and the escaped form. */
struct esc_case {
	const char *raw;
	size_t len;
	const char *escaped;
};

#define C(raw, esc) { raw, sizeof(raw) - 1, esc }

static const struct esc_case esc_cases[] = {
	C("", ""),
	C("dict", "dict"),
	C("__main__.Leak", "__main__.Leak"),
	C("sp ace#\"'", "sp ace#\"'"),
	/* Short forms. */
	C("a\\b", "a\\\\b"),
	C("\t\n\r", "\\t\\n\\r"),
	/* C0 controls, NUL and DEL as \xHH, lowercase. */
	C("\0", "\\x00"),
	C("\x01\x1b[31m\x1f", "\\x01\\x1b[31m\\x1f"),
	C("\x7f", "\\x7f"),
	C("\x0b\x0c", "\\x0b\\x0c"),
	/* Valid UTF-8 passes. */
	C("caf\xc3\xa9", "caf\xc3\xa9"),
	C("\xe6\x97\xa5\xe6\x9c\xac", "\xe6\x97\xa5\xe6\x9c\xac"),
	C("\xf0\x9f\x90\x8d", "\xf0\x9f\x90\x8d"),      /* U+1F40D */
	C("\xc2\xa0", "\xc2\xa0"),                      /* U+00A0 NBSP */
	C("\xf4\x8f\xbf\xbf", "\xf4\x8f\xbf\xbf"),      /* U+10FFFF */
	C("\xe2\x80\xaf", "\xe2\x80\xaf"),              /* U+202F */
	/* C1 controls U+0080..U+009F, byte by byte. */
	C("\xc2\x80", "\\xc2\\x80"),
	C("\xc2\x85", "\\xc2\\x85"),
	C("\xc2\x9f", "\\xc2\\x9f"),
	/* Line and paragraph separators, bidi controls, BOM. */
	C("\xe2\x80\xa8", "\\xe2\\x80\\xa8"),
	C("\xe2\x80\xa9", "\\xe2\\x80\\xa9"),
	C("\xe2\x80\x8e\xe2\x80\x8f", "\\xe2\\x80\\x8e\\xe2\\x80\\x8f"),
	C("\xe2\x80\xaa", "\\xe2\\x80\\xaa"),
	C("\xe2\x80\xae", "\\xe2\\x80\\xae"),
	C("\xe2\x81\xa6", "\\xe2\\x81\\xa6"),
	C("\xe2\x81\xa9", "\\xe2\\x81\\xa9"),
	C("\xef\xbb\xbf", "\\xef\\xbb\\xbf"),
	/* Characters that show as nothing (default-ignorable), each range's
	 * ends, and their neighbours, which pass. */
	C("\xc2\xac\xc2\xad\xc2\xae", "\xc2\xac\\xc2\\xad\xc2\xae"), /* SHY */
	C("\xcd\x8f", "\\xcd\\x8f"),                  /* U+034F CGJ */
	C("\xd8\x9b\xd8\x9c\xd8\x9d",                   /* U+061C ALM */
	  "\xd8\x9b\\xd8\\x9c\xd8\x9d"),
	C("\xe1\x85\x9f\xe1\x85\xa0",                   /* Hangul fillers */
	  "\\xe1\\x85\\x9f\\xe1\\x85\\xa0"),
	C("\xe1\x9e\xb4\xe1\x9e\xb5", "\\xe1\\x9e\\xb4\\xe1\\x9e\\xb5"),
	C("\xe1\xa0\x8b\xe1\xa0\x8e\xe1\xa0\x8f",      /* Mongolian */
	  "\\xe1\\xa0\\x8b\\xe1\\xa0\\x8e\\xe1\\xa0\\x8f"),
	C("\xe2\x80\x8a", "\xe2\x80\x8a"),              /* U+200A passes */
	C("\xe2\x80\x8b", "\\xe2\\x80\\x8b"),          /* U+200B ZWSP */
	C("\xe2\x80\x8c\xe2\x80\x8d",                   /* ZWNJ, ZWJ */
	  "\\xe2\\x80\\x8c\\xe2\\x80\\x8d"),
	C("\xe2\x80\x90", "\xe2\x80\x90"),              /* U+2010 passes */
	C("\xe2\x81\x9f", "\xe2\x81\x9f"),              /* U+205F passes */
	C("\xe2\x81\xa0", "\\xe2\\x81\\xa0"),          /* word joiner */
	C("\xe2\x81\xa4\xe2\x81\xa5",                   /* U+2064, U+2065 */
	  "\\xe2\\x81\\xa4\\xe2\\x81\\xa5"),
	C("\xe2\x81\xaa\xe2\x81\xaf",                   /* U+206A..U+206F */
	  "\\xe2\\x81\\xaa\\xe2\\x81\\xaf"),
	C("\xe2\x81\xb0", "\xe2\x81\xb0"),              /* U+2070 passes */
	C("\xe3\x85\xa4", "\\xe3\\x85\\xa4"),          /* U+3164 */
	C("\xef\xb8\x80\xef\xb8\x8f",                   /* VS1, VS16 */
	  "\\xef\\xb8\\x80\\xef\\xb8\\x8f"),
	C("\xef\xb8\x90", "\xef\xb8\x90"),              /* U+FE10 passes */
	C("\xef\xbe\xa0", "\\xef\\xbe\\xa0"),          /* U+FFA0 */
	C("\xef\xbf\xb0\xef\xbf\xb9\xef\xbf\xbb",      /* U+FFF0..U+FFFB */
	  "\\xef\\xbf\\xb0\\xef\\xbf\\xb9\\xef\\xbf\\xbb"),
	C("\xef\xbf\xbc", "\xef\xbf\xbc"),              /* U+FFFC passes */
	C("\xf0\x9b\xb2\xa0", "\\xf0\\x9b\\xb2\\xa0"),  /* U+1BCA0 */
	C("\xf0\x9d\x85\xb3\xf0\x9d\x85\xba",           /* U+1D173..A */
	  "\\xf0\\x9d\\x85\\xb3\\xf0\\x9d\\x85\\xba"),
	C("\xf0\x9d\x85\xbb", "\xf0\x9d\x85\xbb"),      /* U+1D17B */
	C("\xf3\xa0\x80\x81\xf3\xa0\x81\x81",           /* tags: LANG, A */
	  "\\xf3\\xa0\\x80\\x81\\xf3\\xa0\\x81\\x81"),
	C("\xf3\xa0\x87\xaf\xf3\xa0\xbf\xbf",           /* U+E01EF, E0FFF */
	  "\\xf3\\xa0\\x87\\xaf\\xf3\\xa0\\xbf\\xbf"),
	C("\xf3\xa1\x80\x80", "\xf3\xa1\x80\x80"),      /* U+E1000 */
	C("\xf3\x9f\xbf\xbf", "\xf3\x9f\xbf\xbf"),      /* U+DFFFF */
	/* Invalid UTF-8: each offending byte. */
	C("\xff", "\\xff"),
	C("\x80", "\\x80"),
	C("a\xc3", "a\\xc3"),                           /* truncated at end */
	C("\xc3(", "\\xc3("),                           /* bad continuation */
	C("\xe2\x82", "\\xe2\\x82"),                    /* truncated 3-byte */
	C("\xe2\x82x", "\\xe2\\x82x"),
	C("\xc0\x80", "\\xc0\\x80"),                    /* overlong NUL */
	C("\xc1\xbf", "\\xc1\\xbf"),                    /* overlong */
	C("\xe0\x80\xaf", "\\xe0\\x80\\xaf"),           /* overlong '/' */
	C("\xf0\x80\x80\xaf", "\\xf0\\x80\\x80\\xaf"),
	C("\xed\xa0\x80", "\\xed\\xa0\\x80"),           /* surrogate D800 */
	C("\xed\xbf\xbf", "\\xed\\xbf\\xbf"),
	C("\xf4\x90\x80\x80", "\\xf4\\x90\\x80\\x80"),  /* U+110000 */
	C("\xf5\x80\x80\x80", "\\xf5\\x80\\x80\\x80"),
	C("\xfe\xfe", "\\xfe\\xfe"),
	/* The last valid code points before the excluded ranges. */
	C("\xed\x9f\xbf", "\xed\x9f\xbf"),              /* U+D7FF */
	C("\xee\x80\x80", "\xee\x80\x80"),              /* U+E000 */
	C("\xc2\xa1", "\xc2\xa1"),                      /* after C1 */
};

static void test_escape(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(esc_cases); i++) {
		const struct esc_case *c = &esc_cases[i];
		char *e = muppy_escape(c->raw, c->len);
		char *back = NULL;
		size_t blen = 0;

		assert_non_null(e);
		if (strcmp(e, c->escaped) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, e,
				 c->escaped);
		assert_true(muppy_is_escaped(e, strlen(e)));
		assert_int_equal(muppy_unescape(e, &back, &blen), 0);
		assert_int_equal(blen, c->len);
		assert_memory_equal(back, c->raw, c->len);
		assert_int_equal(back[blen], '\0');
		free(back);
		free(e);
	}
}

/* Escaped text that must be rejected, and how far it is canonical. */
struct bad_case {
	const char *s;
	size_t good; /* muppy__escaped_len() */
};

static const struct bad_case bad_cases[] = {
	{ "\\x41", 0 },            /* 'A' is written raw */
	{ "ab\\x7e", 2 },          /* '~' too */
	{ "\\x1B", 0 },            /* uppercase hex */
	{ "\\x1", 0 },             /* short */
	{ "x\\", 1 },              /* trailing backslash */
	{ "\\q", 0 },              /* unknown escape */
	{ "\\\"", 0 },
	{ "\\0", 0 },
	{ "\\x09", 0 },            /* tab has a short form */
	{ "\\x5c", 0 },            /* so has backslash */
	{ "\\x0a", 0 },
	{ "a\tb", 1 },             /* raw control */
	{ "\x1b[m", 0 },
	{ "\x7f", 0 },
	{ "\xff", 0 },             /* raw invalid UTF-8 */
	{ "ok\xc3", 2 },
	{ "\xc0\x80", 0 },
	{ "\xed\xa0\x80", 0 },
	{ "\xc2\x85", 0 },         /* raw C1 control */
	{ "\xe2\x80\xae", 0 },     /* raw bidi control */
	{ "\xef\xbb\xbf", 0 },     /* raw BOM */
	{ "a\xe2\x80\x8b", 1 },    /* raw ZWSP */
	{ "\xf3\xa0\x81\x81", 0 }, /* raw tag character */
	{ "\xef\xb8\x8f", 0 },     /* raw variation selector */
	{ "caf\\xc3\\xa9", 3 },    /* valid UTF-8 must be raw */
	{ "\\xc3\xa9", 0 },        /* half escaped, half raw */
	{ "\xc3\\xa9", 0 },
	{ "\\xe2\\x80\\xae\xe2\x80\xae", 12 },
	{ "\\xc2\x85", 0 },
};

static void test_reject(void **state)
{
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *c = &bad_cases[i];
		char *out = (char *)"untouched";
		size_t len = 7;

		if (muppy_is_escaped(c->s, strlen(c->s)))
			fail_msg("case %zu: '%s' accepted", i, c->s);
		if (muppy__escaped_len(c->s, strlen(c->s)) != c->good)
			fail_msg("case %zu: escaped_len %zu, want %zu", i,
				 muppy__escaped_len(c->s, strlen(c->s)),
				 c->good);
		assert_int_equal(muppy_unescape(c->s, &out, &len), -EINVAL);
		assert_string_equal(out, "untouched");
		assert_int_equal(len, 7);
	}
}

/* is_escaped() looks at exactly len bytes, NUL or not. */
static void test_length(void **state)
{
	(void)state;
	assert_true(muppy_is_escaped("ab\\t", 2));
	assert_false(muppy_is_escaped("ab\\t", 3));
	assert_true(muppy_is_escaped("", 0));
	assert_false(muppy_is_escaped("a\0b", 3));
	assert_true(muppy_is_escaped("caf\xc3\xa9", 5));
	assert_false(muppy_is_escaped("caf\xc3\xa9", 4));
}

/*
 * Every byte string of length up to 3 over a set of interesting bytes
 * round-trips, and its escaped form is accepted.
 */
static void test_exhaustive(void **state)
{
	static const unsigned char alphabet[] = {
		0x00, 0x09, 0x1b, 'a', '\\', 'x', 0x7f, 0x80, 0x85, 0xa0,
		0xae, 0xbf, 0xc2, 0xc3, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xff,
		0x8b, 0xad, 0xf3,
	};
	const size_t n = sizeof(alphabet);
	unsigned char buf[3];
	size_t len, i, k, total;

	(void)state;
	for (len = 0; len <= 3; len++) {
		for (total = 1, i = 0; i < len; i++)
			total *= n;
		for (k = 0; k < total; k++) {
			size_t x = k, blen;
			char *e, *back;

			for (i = 0; i < len; i++, x /= n)
				buf[i] = alphabet[x % n];
			e = muppy_escape(buf, len);
			assert_non_null(e);
			assert_true(muppy_is_escaped(e, strlen(e)));
			assert_int_equal(muppy_unescape(e, &back, &blen), 0);
			assert_int_equal(blen, len);
			assert_memory_equal(back, buf, len);
			free(back);
			free(e);
		}
	}
}

/* Random strings: escaped ones round-trip, and everything is decided. */
static void test_random(void **state)
{
	static const char pool[12] = "\\x0a9fce28\x80\xe2";
	unsigned seed = 12345;
	unsigned char buf[16];
	char text[16 + 1];
	size_t iter, i, len, blen;

	(void)state;
	for (iter = 0; iter < 200000; iter++) {
		char *e, *back;

		len = rand_r(&seed) % sizeof(buf);
		for (i = 0; i < len; i++) {
			unsigned r = (unsigned)rand_r(&seed);

			if (r % 3)
				buf[i] = (unsigned char)pool[r % 12];
			else
				buf[i] = (unsigned char)(r >> 8);
		}
		/* As raw bytes. */
		e = muppy_escape(buf, len);
		assert_non_null(e);
		assert_int_equal(muppy_unescape(e, &back, &blen), 0);
		assert_int_equal(blen, len);
		assert_memory_equal(back, buf, len);
		free(back);
		free(e);
		/* As escaped text: accepted exactly when it round-trips. */
		for (i = 0; i < len; i++)
			text[i] = buf[i] ? (char)buf[i] : 'z';
		text[len] = '\0';
		if (muppy_unescape(text, &back, &blen) == 0) {
			e = muppy_escape(back, blen);
			assert_non_null(e);
			assert_string_equal(e, text);
			free(e);
			free(back);
		}
	}
}

/*
 * Text of older writers, with the invisible characters they did
 * not escape raw: read as the escaped form of today.
 */
static void test_compat(void **state)
{
	static const struct {
		const char *s;
		size_t good;        /* muppy__escaped_len_compat() */
		const char *now;    /* muppy__escape_upgrade(), or NULL */
	} cases[] = {
		{ "dict", 4, "dict" },
		{ "a\xe2\x80\x8b" "b", 5, "a\\xe2\\x80\\x8bb" },
		{ "a\\xe2\\x80\\x8bb", 14, "a\\xe2\\x80\\x8bb" },
		{ "\xc2\xad\xf3\xa0\x81\x81\\t",  8,
		  "\\xc2\\xad\\xf3\\xa0\\x81\\x81\\t" },
		/* what they escaped already must stay escaped */
		{ "\xe2\x80\xae", 0, NULL },
		{ "ok\xef\xbb\xbf", 2, NULL },
		/* and the rest of the rules hold */
		{ "\xe2\x80\x8b\x1b", 3, NULL },
		{ "\xe2\x80\x8b\\x41", 3, NULL },
		{ "\xe2\x80", 0, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		size_t len = strlen(cases[i].s);
		char *up = muppy__escape_upgrade(cases[i].s, len);

		if (muppy__escaped_len_compat(cases[i].s, len) != cases[i].good)
			fail_msg("case %zu: compat length %zu, want %zu", i,
				 muppy__escaped_len_compat(cases[i].s, len),
				 cases[i].good);
		if (!cases[i].now) {
			assert_null(up);
			continue;
		}
		assert_non_null(up);
		assert_string_equal(up, cases[i].now);
		assert_true(muppy_is_escaped(up, strlen(up)));
		free(up);
	}
}

/* Messages: controls and invisible characters escaped, backslashes and
 * valid UTF-8 kept, cut at a whole character or escape. */
static void test_message(void **state)
{
	static const struct {
		const char *src;
		size_t size;
		const char *want;
	} cases[] = {
		{ "process 7 runs PyPy (pypy\x1b]0;owned\x07)", 64,
		  "process 7 runs PyPy (pypy\\x1b]0;owned\\x07)" },
		{ "escaped already: a\\x1bb \\\\ caf\xc3\xa9", 64,
		  "escaped already: a\\x1bb \\\\ caf\xc3\xa9" },
		{ "tab\tnl\ncr\r", 64, "tab\\tnl\\ncr\\r" },
		{ "rlo\xe2\x80\xaezw\xe2\x80\x8b bad\xff", 64,
		  "rlo\\xe2\\x80\\xaezw\\xe2\\x80\\x8b bad\\xff" },
		{ "ab\x1b", 6, "ab" },          /* \x1b does not fit */
		{ "ab\x1b", 7, "ab\\x1b" },
		{ "caf\xc3\xa9", 5, "caf" },    /* nor half a character */
		{ "", 1, "" },
	};
	char buf[128];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		memset(buf, 'Z', sizeof(buf));
		muppy__escape_message(buf, cases[i].size, cases[i].src);
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: got '%s', want '%s'", i, buf,
				 cases[i].want);
	}
}

/* One word for a POSIX shell (muppy-diff's next command). */
static void test_shell_quote(void **state)
{
	static const char *const cases[][2] = {
		{ "__main__.Leak", "__main__.Leak" },
		{ "a-b_c:d/e@f%g+h=i", "a-b_c:d/e@f%g+h=i" },
		{ "", "''" },
		{ "a b", "'a b'" },
		{ "'", "''\\'''" },
		{ "it's", "'it'\\''s'" },
		{ "$HOME`x`\\x1b*?;|&<>!~#", "'$HOME`x`\\x1b*?;|&<>!~#'" },
		{ "a,b", "'a,b'" },
		{ "\xc3\xa9", "'\xc3\xa9'" },
	};
	size_t i;

	(void)state;
	for (i = 0; i < ARRAY_SIZE(cases); i++) {
		char *q = muppy__shell_quote(cases[i][0]);

		assert_non_null(q);
		assert_string_equal(q, cases[i][1]);
		free(q);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_escape),
		cmocka_unit_test(test_reject),
		cmocka_unit_test(test_length),
		cmocka_unit_test(test_exhaustive),
		cmocka_unit_test(test_random),
		cmocka_unit_test(test_compat),
		cmocka_unit_test(test_message),
		cmocka_unit_test(test_shell_quote),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
