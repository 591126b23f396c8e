/* SPDX-License-Identifier: MIT */
/*
 * sys.getsizeof without a method call per object (sizeof.c).
 *
 * Per type, the walk keeps a struct type_size that sizer_classify() fills
 * once and sizer_size() then uses and refines.  Every result is exactly
 * what _PySys_GetSizeOf() would return: the cheap ways are learned from,
 * and checked against, its results on the type's first objects, and any
 * disagreement sends the type back to calling it.
 */
#ifndef MUPPY_SIZEOF_H
#define MUPPY_SIZEOF_H

#include "payload.h"

enum size_kind {
	SK_SLOW,    /* _PySys_GetSizeOf() for every object */
	SK_LATER,   /* __sizeof__ is Python code: size after the walk */
	SK_CCALL,   /* call the C __sizeof__ directly, add the header */
	/* size = f(x), x one field; f learned (see sizeof.c) */
	SK_OBJECT,  /* object.__sizeof__: x = ob_size when tp_itemsize > 0 */
	SK_LIST,    /* list.__sizeof__: x = allocated */
	SK_STR,     /* str.__sizeof__ of a compact ASCII str: x = length */
	SK_INT,     /* int.__sizeof__ of a non-zero int: x = its digits */
};

#define SIZE_POINTS 3

struct type_size {
	uint8_t kind;          /* enum size_kind */
	uint8_t npoints;       /* checked (x, size) pairs in x[], s[] */
	bool linear;           /* size = c + m * x for every x */
	uint8_t ccall_checks;  /* C-call results compared so far */
	int64_t x[SIZE_POINTS], s[SIZE_POINTS];
	int64_t c, m;
	int64_t header;        /* _PySys_GetSizeOf() - __sizeof__() */
	PyCFunction meth;      /* the C __sizeof__; NULL: none usable */
};

struct sizer {
	const struct pyapi *api;
	const struct layout *lay; /* which rules are proven */
	int minor;             /* 3.minor */
	PyObject *name;        /* "__sizeof__" */
	PyObject *d_object, *d_list, *d_str, *d_int; /* their __sizeof__ */
	uint64_t slow_calls;   /* _PySys_GetSizeOf() calls made */
};

/* 0 or -ENOMEM; needs the GIL. */
HIDDEN int sizer_init(struct sizer *s, const struct pyapi *api,
		       const struct layout *lay);
HIDDEN void sizer_fini(struct sizer *s);
/* Decides how objects of type t are sized; runs no Python code. */
HIDDEN void sizer_classify(struct sizer *s, PyTypeObject *t,
			   struct type_size *ts);
/* sys.getsizeof(o) (0 where it raises) for a type not SK_LATER. */
HIDDEN uint64_t sizer_size(struct sizer *s, struct type_size *ts,
			   PyObject *o);
/* sys.getsizeof(o) through _PySys_GetSizeOf(); 0 where it raises. */
HIDDEN uint64_t sizer_slow(struct sizer *s, PyObject *o);

#endif
