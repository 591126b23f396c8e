/* SPDX-License-Identifier: MIT */
/*
 * Finds the process's own CPython C API.  Debian's python3 exports it from
 * the executable, pyenv's builds from libpython3.X.so; either way it is
 * found with dlsym(RTLD_DEFAULT).  Where an embedding program loaded
 * libpython with RTLD_LOCAL, the object that defines PyGILState_Ensure is
 * looked up among the loaded objects instead.
 */
#include <dlfcn.h>
#include <link.h>
#include <stdio.h>
#include <string.h>

#include "payload.h"

struct find_ctx {
	void *handle;
};

static int find_libpython(struct dl_phdr_info *info, size_t size, void *arg)
{
	struct find_ctx *ctx = arg;
	void *h;

	(void)size;
	if (!info->dlpi_name || !strstr(info->dlpi_name, "libpython"))
		return 0;
	h = dlopen(info->dlpi_name, RTLD_LAZY | RTLD_NOLOAD);
	if (!h)
		return 0;
	if (dlsym(h, "PyGILState_Ensure")) {
		ctx->handle = h;
		return 1;
	}
	dlclose(h);
	return 0;
}

#define GET(field, name) (*(void **)&api->field = dlsym(h, name))

bool pyapi_resolve(struct pyapi *api, char *why, size_t whylen)
{
	struct find_ctx ctx = { RTLD_DEFAULT };
	void *h;

	memset(api, 0, sizeof(*api));
	if (!dlsym(RTLD_DEFAULT, "PyGILState_Ensure")) {
		dl_iterate_phdr(find_libpython, &ctx);
		if (ctx.handle == RTLD_DEFAULT) {
			snprintf(why, whylen, "no CPython C API in the process");
			return false;
		}
	}
	h = ctx.handle;
	GET(Py_IsInitialized, "Py_IsInitialized");
	if (!GET(Py_IsFinalizing, "Py_IsFinalizing"))
		GET(Py_IsFinalizing, "_Py_IsFinalizing");
	GET(Py_Finalizing, "_Py_Finalizing");
	GET(PyEval_ThreadsInitialized, "PyEval_ThreadsInitialized");
	GET(PyEval_InitThreads, "PyEval_InitThreads");
	GET(PyEval_SaveThread, "PyEval_SaveThread");
	GET(PyEval_RestoreThread, "PyEval_RestoreThread");
	GET(PyGILState_GetThisThreadState, "PyGILState_GetThisThreadState");
	GET(PyThreadState_UncheckedGet, "_PyThreadState_UncheckedGet");
	GET(PyGILState_Ensure, "PyGILState_Ensure");
	GET(PyGILState_Release, "PyGILState_Release");
	GET(PyImport_ImportModule, "PyImport_ImportModule");
	GET(PyObject_GetAttrString, "PyObject_GetAttrString");
	GET(PyObject_Call, "PyObject_Call");
	GET(PyTuple_New, "PyTuple_New");
	GET(PyLong_AsSsize_t, "PyLong_AsSsize_t");
	GET(PyErr_Clear, "PyErr_Clear");
	GET(Py_IncRef, "Py_IncRef");
	GET(Py_DecRef, "Py_DecRef");
	GET(PySys_GetSizeOf, "_PySys_GetSizeOf");
	GET(PyType_Lookup, "_PyType_Lookup");
	GET(PyType_IsSubtype, "PyType_IsSubtype");
	GET(PyUnicode_InternFromString, "PyUnicode_InternFromString");
	GET(PyUnicode_AsEncodedString, "PyUnicode_AsEncodedString");
	GET(PyBytes_AsStringAndSize, "PyBytes_AsStringAndSize");
	GET(PyDict_GetItemString, "PyDict_GetItemString");
	GET(Py_GetVersion, "Py_GetVersion");
	GET(PyType_Type, "PyType_Type");
	GET(PyBaseObject_Type, "PyBaseObject_Type");
	GET(PyLong_Type, "PyLong_Type");
	GET(True, "_Py_TrueStruct");
	GET(PyList_Type, "PyList_Type");
	GET(PyUnicode_Type, "PyUnicode_Type");
	GET(PyMethodDescr_Type, "PyMethodDescr_Type");
	GET(PyWrapperDescr_Type, "PyWrapperDescr_Type");
	/* Only free-threaded builds (3.13t) have the shared refcount API. */
	api->free_threaded = dlsym(h, "_Py_DecRefShared") != NULL;
	if (ctx.handle != RTLD_DEFAULT)
		dlclose(ctx.handle);

	if (!api->Py_IsInitialized || !api->PyGILState_Ensure ||
	    !api->PyGILState_Release || !api->PyImport_ImportModule ||
	    !api->PyObject_GetAttrString || !api->PyObject_Call || !api->PyTuple_New ||
	    !api->PyLong_AsSsize_t || !api->PyErr_Clear || !api->Py_IncRef ||
	    !api->Py_DecRef || !api->PySys_GetSizeOf || !api->PyType_Lookup ||
	    !api->PyType_IsSubtype || !api->PyBaseObject_Type ||
	    !api->PyLong_Type || !api->True ||
	    !api->PyUnicode_InternFromString ||
	    !api->PyUnicode_AsEncodedString || !api->PyBytes_AsStringAndSize ||
	    !api->Py_GetVersion || !api->PyType_Type || !api->PyList_Type ||
	    !api->PyUnicode_Type || !api->PyMethodDescr_Type) {
		snprintf(why, whylen, "the CPython C API in the process is "
			 "incomplete (Python 3.6 or later needed)");
		return false;
	}
	return true;
}
