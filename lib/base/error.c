/* SPDX-License-Identifier: MIT */
/*
 * Per-operation error text: the first error set wins.
 *
 * Messages end up on a terminal, and many quote what the target process
 * controls (its file names, its reply, a tracer's name).  Each such piece
 * is escaped where it is quoted; as a last line, every message is made
 * printable here too: a control, invisible or bidi character, or invalid
 * UTF-8, that still got in is written as \xHH (backslashes are left
 * alone, so escaped text passes unchanged).
 */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

#include "base/base.h"

void muppy_error_clear(struct muppy_error *err)
{
	if (err)
		err->msg[0] = '\0';
}

void muppy_error_set(struct muppy_error *err, const char *fmt, ...)
{
	char raw[sizeof(err->msg)];
	va_list ap;

	if (!err || err->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(raw, sizeof(raw), fmt, ap);
	va_end(ap);
	muppy__escape_message(err->msg, sizeof(err->msg), raw);
}

void muppy__error_errno(struct muppy_error *err, int errnum,
			const char *fmt, ...)
{
	char what[sizeof(err->msg)];
	va_list ap;

	if (!err || err->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	muppy_error_set(err, "%s: %s", what,
			strerror(errnum < 0 ? -errnum : errnum));
}
