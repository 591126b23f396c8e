/* SPDX-License-Identifier: MIT */
/* The library file to inject: ours, or root's, and written by no one
 * else; read whole into memory (muppy__read_image()). */
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "inject/inject_int.h"

#define IMAGE_MAX (256u << 20)

int muppy__read_image(const char *path, void **image, size_t *len,
		      struct muppy_error *err)
{
	struct stat st;
	size_t got = 0;
	ssize_t n;
	char *buf;
	int fd, ret;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		ret = -errno;
		muppy__error_errno(err, errno, "%s", path);
		return ret;
	}
	if (fstat(fd, &st) < 0) {
		ret = -errno;
		muppy__error_errno(err, errno, "%s", path);
		goto out_close;
	}
	ret = -EINVAL;
	if (!S_ISREG(st.st_mode)) {
		muppy_error_set(err, "%s: not a regular file", path);
		goto out_close;
	}
	if (st.st_uid != 0 && st.st_uid != geteuid()) {
		muppy_error_set(err, "%s: owned by uid %d, neither root nor us; refusing to inject it",
				path, (int)st.st_uid);
		goto out_close;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		muppy_error_set(err, "%s: writable by other users (mode %03o); refusing to inject it (chmod go-w)",
				path, (unsigned)(st.st_mode & 0777));
		goto out_close;
	}
	if (st.st_size < (off_t)sizeof(Elf64_Ehdr) || st.st_size > IMAGE_MAX) {
		muppy_error_set(err, "%s: not a shared object (size %lld)", path,
				(long long)st.st_size);
		goto out_close;
	}
	buf = malloc((size_t)st.st_size);
	if (!buf) {
		ret = -ENOMEM;
		goto out_close;
	}
	while (got < (size_t)st.st_size) {
		n = read(fd, buf + got, (size_t)st.st_size - got);
		if (n <= 0) {
			ret = n < 0 ? -errno : -EIO;
			muppy_error_set(err, "%s: read error", path);
			free(buf);
			goto out_close;
		}
		got += (size_t)n;
	}
	*image = buf;
	*len = got;
	ret = 0;
out_close:
	close(fd);
	return ret;
}
