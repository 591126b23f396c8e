/* SPDX-License-Identifier: MIT */
/* lib/analysis/: what changed between snapshots (diff.c) and over a
 * series of them (trend.c).  Uses lib/model/ and lib/base/. */
#ifndef MUPPY_ANALYSIS_H
#define MUPPY_ANALYSIS_H

#include "model/model.h"

/* trend.c */
/* Median of the pairwise slopes of y over t (scratch: n*(n-1)/2 doubles,
 * at most 20000); 0 when no two t differ. */
double muppy__theil_sen(const double *t, const uint64_t *y, size_t n,
			double *scratch);
/* Intervals that must show growth, of this many, for a suspect. */
size_t muppy__trend_needed(size_t intervals);

#endif
