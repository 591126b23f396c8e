/* SPDX-License-Identifier: MIT */
/*
 * JSON output.  Strings reach here in muppy's escaped form, which is valid
 * UTF-8 without control characters, but the writer escapes everything
 * JSON requires anyway: the quote, the backslash and every byte below
 * 0x20 (and DEL), so its output is valid JSON for any valid UTF-8 input.
 */
#include "output/output.h"

void muppy__json_string(struct muppy__out *o, const char *s)
{
	const char *run;

	if (!s) {
		muppy__out_str(o, "null");
		return;
	}
	muppy__out_str(o, "\"");
	for (run = s; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c >= 0x20 && c != '"' && c != '\\' && c != 0x7f)
			continue;
		muppy__out_write(o, run, (size_t)(s - run));
		run = s + 1;
		if (c == '"' || c == '\\')
			muppy__out_printf(o, "\\%c", c);
		else
			muppy__out_printf(o, "\\u%04x", c);
	}
	muppy__out_write(o, run, (size_t)(s - run));
	muppy__out_str(o, "\"");
}
