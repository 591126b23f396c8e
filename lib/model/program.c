/* SPDX-License-Identifier: MIT */
/*
 * The program a Python process runs, from its command line as a
 * snapshot records it (escaped, arguments joined by spaces): the word
 * after the interpreter's own options, as CPython's command line reads
 * them.
 */
#include <string.h>

#include "model/model.h"

#define LONG_WITH_VALUE "--check-hash-based-pycs"
#define LONG_WITH_VALUE_LEN (sizeof(LONG_WITH_VALUE) - 1)

/* The next word of *p (words are separated by spaces); NULL at the end. */
static const char *next_word(const char **p, size_t *len)
{
	const char *w = *p;

	while (*w == ' ')
		w++;
	if (!*w)
		return NULL;
	*len = strcspn(w, " ");
	*p = w + *len;
	return w;
}

/* The last path component of the word w (len bytes). */
static const char *base_name(const char *w, size_t *len)
{
	const char *b = w;

	for (size_t i = 0; i + 1 < *len; i++)
		if (w[i] == '/')
			b = w + i + 1;
	*len -= (size_t)(b - w);
	return b;
}

/* An interpreter's name: python, python3, python3.11, python3.14-dbg. */
static bool is_python(const char *b, size_t len)
{
	return len >= 6 && !strncmp(b, "python", 6);
}

const char *muppy_cmdline_program(const char *cmdline, size_t *len)
{
	const char *p = cmdline ? cmdline : "", *w, *first;
	size_t wlen, flen;

	first = next_word(&p, &flen);
	if (!first) {
		*len = 0;
		return "";
	}
	first = base_name(first, &flen);
	if (!is_python(first, flen))
		goto out_first;
	while ((w = next_word(&p, &wlen))) {
		if (wlen == 1 && w[0] == '-') {
			*len = 1; /* the program comes from standard input */
			return w;
		}
		if (wlen == 2 && !strncmp(w, "--", 2)) {
			/* the end of the options: the script follows */
			if (!(w = next_word(&p, &wlen)))
				break;
			goto out_script;
		}
		if (w[0] != '-')
			goto out_script;
		if (w[1] == '-') {
			/* the one long option that takes a separate value */
			if (wlen == LONG_WITH_VALUE_LEN &&
			    !strncmp(w, LONG_WITH_VALUE, wlen))
				next_word(&p, &wlen);
			continue;
		}
		/* a cluster of one-letter options: -u, -OO, -bWerror */
		for (size_t i = 1; i < wlen; i++) {
			char c = w[i];

			if (c == 'c') {
				*len = 2;
				return "-c";
			}
			if (c == 'm') {
				if (i + 1 < wlen) {
					*len = wlen - i - 1;
					return w + i + 1;
				}
				if (!(w = next_word(&p, &wlen)))
					goto out_first;
				*len = wlen;
				return w;
			}
			if (c == 'W' || c == 'X') {
				if (i + 1 == wlen)
					next_word(&p, &wlen);
				break;
			}
		}
	}
out_first: /* no script: the interpreter itself (or uwsgi, gdb, ...) */
	*len = flen;
	return first;
out_script:
	w = base_name(w, &wlen);
	*len = wlen;
	return w;
}
