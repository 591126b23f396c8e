/* SPDX-License-Identifier: MIT */
/*
 * Dynamic symbols of the target's own files (never ours: the target may
 * run another libc, in another mount namespace).  The file is opened
 * through /proc/PID/map_files/START-END (the very file mapped; needs
 * CAP_SYS_ADMIN or CAP_CHECKPOINT_RESTORE), else /proc/PID/root/PATH, else
 * PATH, the last two only if device and inode match the mapping.
 */
#include <errno.h>
#include <fcntl.h>
#include <gelf.h>
#include <libelf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "inject/inject_int.h"

struct muppy__elf {
	int fd;
	Elf *elf;
	Elf_Data *syms, *vers;
	size_t nsyms, strndx;
	uint64_t bias;
	struct muppy__map map; /* copy of the first mapping */
};

static bool same_inode(int fd, const struct muppy__map *m)
{
	struct stat st;

	return !fstat(fd, &st) && st.st_ino == m->inode &&
	       major(st.st_dev) == m->dev_major &&
	       minor(st.st_dev) == m->dev_minor;
}

static int open_mapped(pid_t pid, const struct muppy__map *m)
{
	char path[4200];
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/map_files/%llx-%llx", (int)pid,
		 (unsigned long long)m->start, (unsigned long long)m->end);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0)
		return fd;
	if (m->path[0] != '/')
		return -ENOENT;
	snprintf(path, sizeof(path), "/proc/%d/root%s", (int)pid, m->path);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && same_inode(fd, m))
		return fd;
	if (fd >= 0)
		close(fd);
	fd = open(m->path, O_RDONLY | O_CLOEXEC);
	if (fd >= 0 && same_inode(fd, m))
		return fd;
	if (fd >= 0)
		close(fd);
	return -ENOENT;
}

int muppy__elf_open(pid_t pid, const struct muppy__maps *maps,
		    const struct muppy__map *obj, struct muppy__elf **out,
		    struct muppy_error *err)
{
	struct muppy__elf *e;
	GElf_Ehdr eh;
	Elf_Scn *scn = NULL;
	size_t i, nph;
	int ret = -ENOEXEC;

	(void)maps;
	if (elf_version(EV_CURRENT) == EV_NONE)
		return -ENOEXEC;
	e = calloc(1, sizeof(*e));
	if (!e)
		return -ENOMEM;
	e->map = *obj;
	e->map.path = strdup(obj->path);
	if (!e->map.path) {
		free(e);
		return -ENOMEM;
	}
	e->fd = open_mapped(pid, obj);
	if (e->fd < 0) {
		ret = e->fd;
		muppy_error_set(err, "cannot open %s of process %d (not through /proc/%d/map_files nor /proc/%d/root): %s",
				obj->path, (int)pid, (int)pid, (int)pid,
				strerror(-ret));
		goto out_free;
	}
	e->elf = elf_begin(e->fd, ELF_C_READ_MMAP, NULL);
	if (!e->elf || !gelf_getehdr(e->elf, &eh)) {
		muppy_error_set(err, "%s: not an ELF file", obj->path);
		goto out_close;
	}
	if (!muppy__arch_elf_machine(eh.e_machine, eh.e_ident[EI_CLASS])) {
		muppy_error_set(err, "%s in process %d is not for this architecture (ELF machine %u); only x86-64 processes are supported",
				obj->path, (int)pid, eh.e_machine);
		goto out_close;
	}
	if (elf_getphdrnum(e->elf, &nph))
		goto out_bad;
	for (i = 0; i < nph; i++) {
		GElf_Phdr ph;

		if (gelf_getphdr(e->elf, (int)i, &ph) && ph.p_type == PT_LOAD &&
		    ph.p_offset < 4096) {
			e->bias = obj->start - (ph.p_vaddr & ~UINT64_C(4095));
			break;
		}
	}
	if (i == nph)
		goto out_bad;
	while ((scn = elf_nextscn(e->elf, scn))) {
		GElf_Shdr sh;

		if (!gelf_getshdr(scn, &sh))
			continue;
		if (sh.sh_type == SHT_DYNSYM) {
			e->syms = elf_getdata(scn, NULL);
			e->strndx = sh.sh_link;
			e->nsyms = sh.sh_entsize ? sh.sh_size / sh.sh_entsize : 0;
		} else if (sh.sh_type == SHT_GNU_versym) {
			e->vers = elf_getdata(scn, NULL);
		}
	}
	if (!e->syms)
		goto out_bad;
	*out = e;
	return 0;

out_bad:
	muppy_error_set(err, "%s in process %d: no dynamic symbol table",
			obj->path, (int)pid);
out_close:
	if (e->elf)
		elf_end(e->elf);
	close(e->fd);
out_free:
	free(e->map.path);
	free(e);
	return ret;
}

void muppy__elf_close(struct muppy__elf *e)
{
	if (!e)
		return;
	elf_end(e->elf);
	close(e->fd);
	free(e->map.path);
	free(e);
}

uint64_t muppy__elf_bias(const struct muppy__elf *e)
{
	return e->bias;
}

const struct muppy__map *muppy__elf_map(const struct muppy__elf *e)
{
	return &e->map;
}

static bool is_default_version(const struct muppy__elf *e, size_t i)
{
	GElf_Versym v;

	if (!e->vers || !gelf_getversym(e->vers, (int)i, &v))
		return true;
	return !(v & 0x8000);
}

static int find(const struct muppy__elf *e, const char *name, bool tls,
		uint64_t *val)
{
	bool found = false;
	size_t i;

	for (i = 1; i < e->nsyms; i++) {
		GElf_Sym s;
		const char *n;
		int type;

		if (!gelf_getsym(e->syms, (int)i, &s) || s.st_shndx == SHN_UNDEF)
			continue;
		type = GELF_ST_TYPE(s.st_info);
		if (tls != (type == STT_TLS))
			continue;
		n = elf_strptr(e->elf, e->strndx, s.st_name);
		if (!n || strcmp(n, name))
			continue;
		if (type == STT_GNU_IFUNC)
			return -ENOEXEC; /* would need its resolver run */
		*val = s.st_value;
		found = true;
		if (is_default_version(e, i))
			break;
	}
	return found ? 0 : -ENOENT;
}

int muppy__elf_sym(const struct muppy__elf *e, const char *name,
		   uint64_t *addr)
{
	uint64_t v;
	int ret = find(e, name, false, &v);

	if (!ret)
		*addr = e->bias + v;
	return ret;
}

int muppy__elf_tls_sym(const struct muppy__elf *e, const char *name,
		       uint64_t *off)
{
	return find(e, name, true, off);
}

int muppy__elf_names_at(const struct muppy__elf *e, uint64_t addr,
			int (*fn)(const char *name, void *arg), void *arg)
{
	uint64_t off = addr - e->bias;
	size_t i;
	int ret;

	for (i = 1; i < e->nsyms; i++) {
		GElf_Sym s;
		const char *n;

		if (!gelf_getsym(e->syms, (int)i, &s) || s.st_shndx == SHN_UNDEF ||
		    GELF_ST_TYPE(s.st_info) != STT_FUNC)
			continue;
		if (off < s.st_value || off >= s.st_value + s.st_size)
			continue;
		n = elf_strptr(e->elf, e->strndx, s.st_name);
		if (n && (ret = fn(n, arg)))
			return ret;
	}
	return 0;
}
