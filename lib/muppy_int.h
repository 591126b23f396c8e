/* SPDX-License-Identifier: MIT */
/* Internals shared between library files; not installed, not for cli/. */
#ifndef MUPPY_INT_H
#define MUPPY_INT_H

#include "muppy.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

#endif
