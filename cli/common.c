/* SPDX-License-Identifier: MIT */
/* Helpers shared by the command-line tools; see common.h. */
#include <argp.h>
#include <errno.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "common.h"

struct name_value {
	const char *name;
	int value;
};

static bool lookup(const struct name_value *t, size_t n, const char *s,
		   int *out)
{
	size_t i;

	for (i = 0; i < n; i++) {
		if (!strcmp(t[i].name, s)) {
			*out = t[i].value;
			return true;
		}
	}
	return false;
}

bool cli_parse_format(const char *s, unsigned allowed,
		      enum muppy_format *out)
{
	static const struct name_value t[] = {
		{ "table", MUPPY_FORMAT_TABLE },
		{ "tsv", MUPPY_FORMAT_TSV },
		{ "json", MUPPY_FORMAT_JSON },
		{ "snap", MUPPY_FORMAT_SNAP },
		{ "prometheus", MUPPY_FORMAT_PROMETHEUS },
		{ "svg", MUPPY_FORMAT_SVG },
	};
	int v;

	if (!lookup(t, sizeof(t) / sizeof(t[0]), s, &v))
		return false;
	if (!(allowed & CLI_FMT(v)))
		return false;
	*out = (enum muppy_format)v;
	return true;
}

bool cli_parse_color(const char *s, int *out)
{
	static const struct name_value t[] = {
		{ "auto", -1 }, { "always", 1 }, { "never", 0 },
	};

	return lookup(t, sizeof(t) / sizeof(t[0]), s, out);
}

bool cli_use_color(int fd, int want)
{
	const char *no = getenv("NO_COLOR"), *term = getenv("TERM");

	if (want >= 0)
		return want > 0;
	if (no && *no)
		return false;
	return isatty(fd) && term && *term && strcmp(term, "dumb") != 0;
}

static bool cli_parse_sort(const char *s, enum muppy_sort *out)
{
	static const struct name_value t[] = {
		{ "size", MUPPY_SORT_SIZE },
		{ "count", MUPPY_SORT_COUNT },
		{ "name", MUPPY_SORT_NAME },
	};
	int v;

	if (!lookup(t, sizeof(t) / sizeof(t[0]), s, &v))
		return false;
	*out = (enum muppy_sort)v;
	return true;
}

bool cli_parse_limit(const char *s, size_t *out)
{
	size_t v = 0;

	if (!*s)
		return false;
	for (; *s; s++) {
		unsigned d = (unsigned)(*s - '0');

		if (d > 9 || v > (SIZE_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

/* "PROGRAM: PREFIX<message>[: WHY]" and a newline. */
static MUPPY_PRINTF(2, 0) void vmessage(const char *prefix, const char *fmt,
					 va_list ap, const char *why)
{
	fprintf(stderr, "%s: %s", program_invocation_short_name, prefix);
	vfprintf(stderr, fmt, ap);
	if (why)
		fprintf(stderr, ": %s", why);
	fputc('\n', stderr);
}

void cli_error(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap, NULL);
	va_end(ap);
}

void cli_perror(int errnum, const char *fmt, ...)
{
	const char *why = strerror(errnum < 0 ? -errnum : errnum);
	va_list ap;

	va_start(ap, fmt);
	vmessage("", fmt, ap, why);
	va_end(ap);
}

void cli_warn(const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vmessage("warning: ", fmt, ap, NULL);
	va_end(ap);
}

int cli_load_snapshot(const char *path, struct muppy_snapshot **out)
{
	struct muppy_error err;
	int rc;

	muppy_error_clear(&err);
	rc = muppy_snapshot_load(path, out, &err);
	if (!rc)
		return MUPPY_EXIT_OK;
	if (err.msg[0])
		cli_error("%s", err.msg);
	else
		cli_perror(-rc, "%s", path);
	return rc == -ENOMEM ? MUPPY_EXIT_ERROR : MUPPY_EXIT_BADFILE;
}

int cli_close_stdout(void)
{
	bool failed = ferror(stdout);

	errno = 0;
	if (fclose(stdout) == EOF || failed) {
		cli_perror(errno ? errno : EIO, "write error");
		return MUPPY_EXIT_ERROR;
	}
	return MUPPY_EXIT_OK;
}

void cli_opt_sort(struct argp_state *state, const char *arg,
		  enum muppy_sort *out)
{
	if (!cli_parse_sort(arg, out))
		argp_error(state, "invalid --sort value '%s' (expected size, "
			   "count or name)", arg);
}

void cli_opt_limit(struct argp_state *state, const char *arg, size_t *out)
{
	if (!cli_parse_limit(arg, out))
		argp_error(state, "invalid --limit value '%s' (expected a "
			   "number of types, 0 for all)", arg);
}
