/* SPDX-License-Identifier: MIT */
/* Exit codes: muppy-snap's for the library's errors, and the "Exit status"
 * paragraph of --help, made from exitcodes.def. */
#include <errno.h>
#include <stddef.h>
#include <stdio.h>

#include "exitcodes.h"

enum muppy_exit cli_exit_code(int err)
{
	switch (err) {
	case 0:
		return MUPPY_EXIT_OK;
	case -ESRCH:
		return MUPPY_EXIT_NOPROC;
	case -EPERM:
	case -EACCES:
		return MUPPY_EXIT_PERM;
	case -ENOEXEC:
	case -EPROTONOSUPPORT:
		return MUPPY_EXIT_UNSUPPORTED;
	case -ETIMEDOUT:
		return MUPPY_EXIT_TIMEOUT;
	case -EOWNERDEAD:
		return MUPPY_EXIT_GONE;
	case -EBUSY:
	case -EAGAIN:
		return MUPPY_EXIT_BUSY;
	case -EUSERS:
		return MUPPY_EXIT_NOTHREAD;
	case -EMSGSIZE:
		return MUPPY_EXIT_LIMIT;
	case -ENOSYS:
		return MUPPY_EXIT_KERNEL;
	default:
		return MUPPY_EXIT_ERROR;
	}
}

static const struct {
	const char *shown, *help[2]; /* indexed by enum cli_tool */
} codes[] = {
#define X(name, value, shown, snap, diff) { shown, { snap, diff } },
#include "exitcodes.def"
#undef X
};

const char *cli_doc(const char *intro, enum cli_tool tool)
{
	static char doc[2048];
	const char *sep = "\vExit status: ";
	size_t len, i;

	len = (size_t)snprintf(doc, sizeof(doc), "%s", intro);
	for (i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
		if (!codes[i].help[tool] || len >= sizeof(doc))
			continue;
		len += (size_t)snprintf(doc + len, sizeof(doc) - len, "%s%s %s",
					sep, codes[i].shown,
					codes[i].help[tool]);
		sep = ", ";
	}
	if (len < sizeof(doc))
		snprintf(doc + len, sizeof(doc) - len, ".");
	return doc;
}
