/* SPDX-License-Identifier: MIT */
/*
 * Escaping of untrusted text (type names, command lines, paths).
 *
 * The escaped form is printable UTF-8 without control characters, line
 * separators, or characters that show as nothing or reorder the text
 * (bidi controls, zero-width characters, ...); every other byte is
 * written as \xHH (or \\, \t, \n, \r).  The mapping is a bijection
 * between byte strings and canonical escaped strings: muppy_is_escaped()
 * accepts exactly the outputs of muppy_escape(), and it checks this by
 * re-running the escaper step by step on the decoded text, so the two
 * cannot disagree.
 */
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "base/base.h"

/* Longest output of one escape step: three bytes as \xHH each. */
#define STEP_MAX 16
/* Longest input one escape step looks at (a four-byte sequence). */
#define LOOKAHEAD 4

static const char hexdigits[] = "0123456789abcdef";

/*
 * Length of the well-formed UTF-8 sequence at p (Unicode table 3-7), or 0
 * when the byte at p does not start one within avail bytes.
 */
static size_t utf8_len(const uint8_t *p, size_t avail, uint32_t *cp)
{
	uint8_t b = p[0];
	uint8_t lo = 0x80, hi = 0xbf;
	size_t n, i;
	uint32_t c;

	if (b < 0x80) {
		*cp = b;
		return 1;
	}
	if (b >= 0xc2 && b <= 0xdf) {
		n = 2;
		c = b & 0x1f;
	} else if (b >= 0xe0 && b <= 0xef) {
		n = 3;
		c = b & 0x0f;
		if (b == 0xe0)
			lo = 0xa0;
		else if (b == 0xed)
			hi = 0x9f; /* no surrogates */
	} else if (b >= 0xf0 && b <= 0xf4) {
		n = 4;
		c = b & 0x07;
		if (b == 0xf0)
			lo = 0x90;
		else if (b == 0xf4)
			hi = 0x8f; /* nothing above U+10FFFF */
	} else {
		return 0;
	}
	if (avail < n)
		return 0;
	for (i = 1; i < n; i++) {
		uint8_t t = p[i];

		if (i == 1 ? (t < lo || t > hi) : (t < 0x80 || t > 0xbf))
			return 0;
		c = (c << 6) | (t & 0x3f);
	}
	*cp = c;
	return n;
}

struct cp_range {
	uint32_t lo, hi;
};

/*
 * Valid code points that a terminal shows as nothing or that reorder the
 * text around them: Unicode's Default_Ignorable_Code_Point (Unicode 14:
 * zero-width characters, bidi controls, variation selectors, fillers, tag
 * characters, ...), the line and paragraph separators and the interlinear
 * annotation controls.  Ascending.
 */
static const struct cp_range invisible[] = {
	{ 0x00ad, 0x00ad },   /* soft hyphen */
	{ 0x034f, 0x034f },   /* combining grapheme joiner */
	{ 0x061c, 0x061c },   /* Arabic letter mark */
	{ 0x115f, 0x1160 },   /* Hangul fillers */
	{ 0x17b4, 0x17b5 },   /* Khmer inherent vowels */
	{ 0x180b, 0x180f },   /* Mongolian variation selectors, MVS */
	{ 0x200b, 0x200f },   /* ZWSP, ZWNJ, ZWJ, LRM, RLM */
	{ 0x2028, 0x2029 },   /* line and paragraph separators */
	{ 0x202a, 0x202e },   /* LRE, RLE, PDF, LRO, RLO */
	{ 0x2060, 0x206f },   /* word joiner, invisible operators, LRI..PDI */
	{ 0x3164, 0x3164 },   /* Hangul filler */
	{ 0xfe00, 0xfe0f },   /* variation selectors */
	{ 0xfeff, 0xfeff },   /* BOM, ZWNBSP */
	{ 0xffa0, 0xffa0 },   /* halfwidth Hangul filler */
	{ 0xfff0, 0xfffb },   /* reserved, interlinear annotation */
	{ 0x1bca0, 0x1bca3 }, /* shorthand format controls */
	{ 0x1d173, 0x1d17a }, /* musical symbol format controls */
	{ 0xe0000, 0xe0fff }, /* tags, variation selectors supplement */
};

/* The invisible code points that older writers (until the rule above) wrote
 * raw; they escaped only these. */
static bool cp_was_raw(uint32_t c)
{
	return !(c == 0x200e || c == 0x200f || c == 0x2028 || c == 0x2029 ||
		 (c >= 0x202a && c <= 0x202e) || (c >= 0x2066 && c <= 0x2069) ||
		 c == 0xfeff);
}

static bool cp_invisible(uint32_t c)
{
	size_t lo = 0, hi = ARRAY_SIZE(invisible);

	if (c < invisible[0].lo)
		return false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (c < invisible[mid].lo)
			hi = mid;
		else if (c > invisible[mid].hi)
			lo = mid + 1;
		else
			return true;
	}
	return false;
}

/* Code points written as escaped bytes although they are valid UTF-8. */
static bool cp_needs_escape(uint32_t c)
{
	return c < 0x20 || c == 0x7f || c == '\\' ||
	       (c >= 0x80 && c <= 0x9f) ||           /* C1 controls */
	       cp_invisible(c);
}

static size_t put_byte(char *out, uint8_t b)
{
	switch (b) {
	case '\\': out[0] = '\\'; out[1] = '\\'; return 2;
	case '\t': out[0] = '\\'; out[1] = 't'; return 2;
	case '\n': out[0] = '\\'; out[1] = 'n'; return 2;
	case '\r': out[0] = '\\'; out[1] = 'r'; return 2;
	default:
		out[0] = '\\';
		out[1] = 'x';
		out[2] = hexdigits[b >> 4];
		out[3] = hexdigits[b & 0xf];
		return 4;
	}
}

/*
 * One step of the escaper: looks at up to LOOKAHEAD bytes of in (avail > 0
 * of them remain), writes the escaped text of the bytes it consumes to out
 * (STEP_MAX bytes), returns how many it consumed and sets *outlen.
 */
static size_t escape_step(const uint8_t *in, size_t avail, char *out,
			  size_t *outlen)
{
	uint32_t c;
	size_t n = utf8_len(in, avail, &c), i, o = 0;

	if (n == 0) {
		*outlen = put_byte(out, in[0]);
		return 1;
	}
	if (cp_needs_escape(c)) {
		for (i = 0; i < n; i++)
			o += put_byte(out + o, in[i]);
	} else {
		memcpy(out, in, n);
		o = n;
	}
	*outlen = o;
	return n;
}

char *muppy_escape(const void *src, size_t len)
{
	const uint8_t *in = src;
	size_t pos = 0, o = 0, n, olen;
	char *buf;

	if (len > (SIZE_MAX - 1) / 4)
		return NULL;
	buf = malloc(len * 4 + 1);
	if (!buf)
		return NULL;
	while (pos < len) {
		n = escape_step(in + pos, len - pos, buf + o, &olen);
		pos += n;
		o += olen;
	}
	buf[o] = '\0';
	return buf;
}

static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1; /* uppercase is not canonical */
}

/*
 * Decodes one byte of escaped text at s[pos] (len bytes in all): sets *b
 * and returns the length of its source text, or 0 on bad syntax.
 */
static size_t decode_one(const char *s, size_t len, size_t pos, uint8_t *b)
{
	int h, l;

	if (s[pos] != '\\') {
		*b = (uint8_t)s[pos];
		return 1;
	}
	if (pos + 1 >= len)
		return 0;
	switch (s[pos + 1]) {
	case '\\': *b = '\\'; return 2;
	case 't': *b = '\t'; return 2;
	case 'n': *b = '\n'; return 2;
	case 'r': *b = '\r'; return 2;
	case 'x':
		if (pos + 3 >= len)
			return 0;
		h = hexval(s[pos + 2]);
		l = hexval(s[pos + 3]);
		if (h < 0 || l < 0)
			return 0;
		*b = (uint8_t)(h << 4 | l);
		return 4;
	default:
		return 0;
	}
}

/*
 * Length of the UTF-8 sequence at p (avail bytes) when it is an invisible
 * character that older writers wrote raw, else 0.
 */
static size_t legacy_raw_len(const uint8_t *p, size_t avail)
{
	uint32_t c;
	size_t n = utf8_len(p, avail, &c);

	return n && cp_invisible(c) && cp_was_raw(c) ? n : 0;
}

/* escaped_len() below; compat also takes what older writers left raw. */
static size_t escaped_len(const char *s, size_t len, bool compat)
{
	uint8_t win[LOOKAHEAD];
	char out[STEP_MAX];
	size_t pos = 0, limit = len, olen, nwin, p, k;

	while (pos < limit) {
		/* Decode up to LOOKAHEAD bytes; stop before bad syntax. */
		for (nwin = 0, p = pos; nwin < LOOKAHEAD && p < limit; nwin++) {
			k = decode_one(s, limit, p, &win[nwin]);
			if (k == 0) {
				limit = p;
				break;
			}
			p += k;
		}
		if (nwin == 0)
			break;
		/*
		 * Escaping the decoded bytes must reproduce the text exactly;
		 * then by induction escape(unescape(s)) == s.
		 */
		escape_step(win, nwin, out, &olen);
		if (olen <= limit - pos && memcmp(out, s + pos, olen) == 0) {
			pos += olen;
			continue;
		}
		/* Raw in the text (so decoded as itself): the older form. */
		k = compat ? legacy_raw_len(win, nwin) : 0;
		if (k == 0 || k > limit - pos || memcmp(win, s + pos, k) != 0)
			break;
		pos += k;
	}
	return pos;
}

size_t muppy__escaped_len(const char *s, size_t len)
{
	return escaped_len(s, len, false);
}

size_t muppy__escaped_len_compat(const char *s, size_t len)
{
	return escaped_len(s, len, true);
}

char *muppy__escape_upgrade(const char *s, size_t len)
{
	size_t pos = 0, o = 0;
	char *raw, *e;
	uint8_t b;

	if (escaped_len(s, len, true) != len)
		return NULL;
	raw = malloc(len + 1);
	if (!raw)
		return NULL;
	while (pos < len) {
		pos += decode_one(s, len, pos, &b);
		raw[o++] = (char)b;
	}
	e = muppy_escape(raw, o);
	free(raw);
	return e;
}

void muppy__escape_message(char *dst, size_t size, const char *src)
{
	const uint8_t *in = (const uint8_t *)src;
	size_t len = strlen(src), pos = 0, o = 0, n, olen;
	char step[STEP_MAX];

	if (size == 0)
		return;
	while (pos < len) {
		if (in[pos] == '\\') { /* kept: escaped text passes as it is */
			step[0] = '\\';
			n = olen = 1;
		} else {
			n = escape_step(in + pos, len - pos, step, &olen);
		}
		if (olen >= size - o)
			break; /* cut before a character or an escape */
		memcpy(dst + o, step, olen);
		o += olen;
		pos += n;
	}
	dst[o] = '\0';
}

bool muppy_is_escaped(const char *s, size_t len)
{
	return muppy__escaped_len(s, len) == len;
}

int muppy_unescape(const char *s, char **out, size_t *outlen)
{
	size_t len = strlen(s), pos = 0, o = 0;
	char *buf;
	uint8_t b;

	if (!muppy_is_escaped(s, len))
		return -EINVAL;
	buf = malloc(len + 1);
	if (!buf)
		return -ENOMEM;
	while (pos < len) {
		pos += decode_one(s, len, pos, &b);
		buf[o++] = (char)b;
	}
	buf[o] = '\0';
	*out = buf;
	if (outlen)
		*outlen = o;
	return 0;
}

const char *muppy__shown(const char *text, char *buf, size_t size)
{
	char *e = muppy_escape(text, strlen(text));

	snprintf(buf, size, "%s", e ? e : "?");
	free(e);
	return buf;
}

static bool shell_safe(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
		      (*s >= '0' && *s <= '9') || strchr("_.:/@%+=-", *s)))
			return false;
	return true;
}

char *muppy__shell_quote(const char *s)
{
	size_t n = 3, i;
	const char *p;
	char *q;

	if (shell_safe(s))
		return strdup(s);
	for (p = s; *p; p++)
		n += *p == '\'' ? 4 : 1;
	q = malloc(n);
	if (!q)
		return NULL;
	i = 0;
	q[i++] = '\'';
	for (p = s; *p; p++) {
		if (*p == '\'') {
			memcpy(q + i, "'\\''", 4);
			i += 4;
		} else {
			q[i++] = *p;
		}
	}
	q[i++] = '\'';
	q[i] = '\0';
	return q;
}
