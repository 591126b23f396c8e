/* SPDX-License-Identifier: MIT */
/* Exit codes of the command-line tools (the table: exitcodes.def). */
#ifndef MUPPY_CLI_EXITCODES_H
#define MUPPY_CLI_EXITCODES_H

enum muppy_exit {
#define X(name, value, shown, snap, diff) MUPPY_EXIT_##name = value,
#include "exitcodes.def"
#undef X
};

/* The exit code of muppy-snap for an error of muppy_snap_take(). */
enum muppy_exit cli_exit_code(int err);

enum cli_tool { CLI_SNAP, CLI_DIFF };
/* intro, "\v" and "Exit status: " with the tool's codes from the table:
 * an argp doc (static storage). */
const char *cli_doc(const char *intro, enum cli_tool tool);

#endif
