/* SPDX-License-Identifier: MIT */
/* Per-operation error text: the first error set wins. */
#include <stdarg.h>
#include <stdio.h>

#include "muppy.h"

void muppy_error_clear(struct muppy_error *err)
{
	if (err)
		err->msg[0] = '\0';
}

void muppy_error_set(struct muppy_error *err, const char *fmt, ...)
{
	va_list ap;

	if (!err || err->msg[0])
		return;
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}
