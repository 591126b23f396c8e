/* SPDX-License-Identifier: MIT */
/*
 * The library's internals, every layer's header at once: for the unit
 * tests and the fuzzer only.  A file of lib/ includes the header of its
 * own layer, which includes those below (tests/build/layers.test).
 */
#ifndef MUPPY_INT_H
#define MUPPY_INT_H

#include "output/output.h"

#endif
