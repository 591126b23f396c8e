/* SPDX-License-Identifier: MIT */
/*
 * The output stream every printer writes to: it remembers its first
 * write error; and how text is cut and measured for a table.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

#include "output/output.h"

void muppy__out_init(struct muppy__out *o, FILE *f)
{
	o->f = f;
	o->err = 0;
}

static void out_failed(struct muppy__out *o)
{
	if (!o->err)
		o->err = errno ? -errno : -EIO;
}

void muppy__out_write(struct muppy__out *o, const char *s, size_t len)
{
	if (o->err || !len)
		return;
	if (fwrite(s, 1, len, o->f) != len)
		out_failed(o);
}

void muppy__out_str(struct muppy__out *o, const char *s)
{
	muppy__out_write(o, s, strlen(s));
}

void muppy__out_replaced(struct muppy__out *o, const char *s, size_t len,
			 const char *(*rep)(char c))
{
	const char *run = s, *end = s + len;

	for (; s < end; s++) {
		const char *r = rep(*s);

		if (!r)
			continue;
		muppy__out_write(o, run, (size_t)(s - run));
		muppy__out_str(o, r);
		run = s + 1;
	}
	muppy__out_write(o, run, (size_t)(end - run));
}

void muppy__out_printf(struct muppy__out *o, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (o->err)
		return;
	va_start(ap, fmt);
	n = vfprintf(o->f, fmt, ap);
	va_end(ap);
	if (n < 0)
		out_failed(o);
}

static void out_spaces(struct muppy__out *o, size_t n)
{
	static const char spaces[] = "                                ";

	while (n > 0) {
		size_t k = n < sizeof(spaces) - 1 ? n : sizeof(spaces) - 1;

		muppy__out_write(o, spaces, k);
		n -= k;
	}
}

void muppy__out_cell(struct muppy__out *o, const char *s, size_t width,
		     bool left)
{
	size_t w = muppy__text_width(s);
	size_t pad = width > w ? width - w : 0;

	if (!left)
		out_spaces(o, pad);
	muppy__out_str(o, s);
	if (left)
		out_spaces(o, pad);
}

int muppy__out_finish(struct muppy__out *o)
{
	if (!o->err && fflush(o->f) == EOF)
		out_failed(o);
	if (!o->err && ferror(o->f))
		o->err = -EIO;
	return o->err;
}

/* --- table helpers -------------------------------------------------------- */

/* Length of the escape or UTF-8 sequence at s[0], at most avail bytes. */
static size_t token_len(const char *s, size_t avail)
{
	unsigned char c = (unsigned char)s[0];
	size_t n;

	if (c == '\\')
		n = avail > 1 && s[1] == 'x' ? 4 : 2;
	else if (c >= 0xf0)
		n = 4;
	else if (c >= 0xe0)
		n = 3;
	else if (c >= 0xc0)
		n = 2;
	else
		n = 1;
	return n < avail ? n : avail;
}

size_t muppy__escaped_cut(const char *s, size_t len, size_t max)
{
	size_t i = 0;

	if (len <= max)
		return len;
	while (i < len) {
		size_t n = token_len(s + i, len - i);

		if (i + n > max)
			break;
		i += n;
	}
	return i;
}

void muppy__out_name(struct muppy__out *o, const char *name)
{
	size_t len = strlen(name);
	size_t keep = muppy__escaped_cut(name, len, MUPPY__TABLE_NAME_MAX);

	muppy__out_write(o, name, keep);
	if (keep < len)
		muppy__out_str(o, "...");
}

size_t muppy__text_width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xc0) != 0x80)
			w++;
	return w;
}

void muppy__format_signed(char *buf, size_t size, int64_t v)
{
	snprintf(buf, size, v > 0 ? "+%" PRId64 : "%" PRId64, v);
}
