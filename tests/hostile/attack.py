# Hostile targets for tests/hostile/*.test: a CPython process (run as
# nobody) that attacks the root muppy-snap looking at it.  Usage:
#   attack.py MODE DIR READY [ARG]
# writes its pid into READY once armed, then sleeps (SIGUSR1: MODE's
# second act, if any).  Modes:
#   leftover LIB  dlopen LIB from a memfd named like a dead muppy-snap's
#                 leftover, and point its DT_GNU_HASH at a table in 1 GiB
#                 of zero pages whose chain never ends;
#   fifo          map a library below the executable (the probe looks
#                 into it first), delete it, and put a FIFO where its
#                 name "<path> (deleted)" points;
#   symlink       the same with a symlink there to ARG (a root-only FIFO);
#   sparse        map, below the executable, an ELF file of 8 GiB (sparse)
#                 whose .dynsym claims all of it;
#   execprobe     map N=ARG sparse ELFs with a 60 MiB .dynsym each (a slow
#                 probe); when the first is opened (inotify: muppy-snap's
#                 probe reads it) execute another python3;
#   fdswap        a thread replacing muppy-snap's memfd, as soon as it
#                 appears, by a path-only descriptor of the file ARG.
import ctypes, mmap, os, signal, struct, sys, time

mode, d, ready = sys.argv[1:4]
arg = sys.argv[4] if len(sys.argv) > 4 else None
libc = ctypes.CDLL(None, use_errno=True)
libc.mmap.restype = ctypes.c_void_p
libc.mmap.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int,
                      ctypes.c_int, ctypes.c_int, ctypes.c_long]
libc.mprotect.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
PROT_RW, MAP_PRIVATE, MAP_ANON, MAP_NORESERVE = 3, 2, 0x20, 0x4000
MAP_FIXED_NOREPLACE = 0x100000


def sparse_elf(path, dynsym_size):
    """An ELF header, one PT_LOAD, a .dynsym of dynsym_size zero bytes
    (a hole) and a 16-byte string table."""
    eh = b'\x7fELF' + bytes([2, 1, 1]) + bytes(9)
    eh += struct.pack('<HHIQQQIHHHHHH', 3, 62, 1, 0, 64, 4096, 0, 64, 56,
                      1, 64, 3, 0)
    ph = struct.pack('<IIQQQQQQ', 1, 4, 0, 0, 0, 4096, 4096, 4096)
    sh = bytes(64)
    sh += struct.pack('<IIQQQQIIQQ', 0, 11, 2, 0, 1 << 20, dynsym_size, 2,
                      1, 8, 24)
    sh += struct.pack('<IIQQQQIIQQ', 0, 3, 2, 0, 8192, 16, 0, 0, 1, 0)
    with open(path, 'wb') as f:
        f.write(eh + ph)
        f.seek(4096)
        f.write(sh)
        f.seek(8192)
        f.write(b'\0PyGILState_X\0\0')
        f.truncate((1 << 20) + dynsym_size)


def map_low(path, addr):
    """Maps the first page of path at addr (below python3's 0x400000)."""
    fd = os.open(path, os.O_RDONLY)
    p = libc.mmap(addr, 4096, 1, MAP_PRIVATE | MAP_FIXED_NOREPLACE, fd, 0)
    os.close(fd)
    if p != addr:
        sys.exit('mmap at %#x: %s' % (addr, os.strerror(ctypes.get_errno())))


if mode == 'leftover':
    ns = os.stat('/proc/self/ns/pid').st_ino
    fd = os.memfd_create('muppy-snap:%d.%d.%d.%08x' % (ns, 4194301, 1,
                                                       0xdead), 0)
    os.write(fd, open(arg, 'rb').read())
    lib = ctypes.CDLL('/proc/self/fd/%d' % fd)
    os.close(fd)
    lm = lib._handle
    base, ld = ctypes.c_uint64.from_address(lm).value, \
        ctypes.c_uint64.from_address(lm + 16).value
    fake = libc.mmap(base + (1 << 34), 1 << 30, PROT_RW,
                     MAP_PRIVATE | MAP_ANON | MAP_NORESERVE, -1, 0)
    if fake in (None, ctypes.c_void_p(-1).value) or fake < base:
        sys.exit('no fake table above the library')
    # nbuckets 1, symbias 0, 1 bloom word (all ones), bucket 0 -> 1; then
    # a chain of zeros (no end bit) for a whole GiB
    ctypes.memmove(fake, struct.pack('<IIIIQI', 1, 0, 1, 0, 2**64 - 1, 1), 28)
    page = ld & ~4095
    if libc.mprotect(page, 8192, PROT_RW):
        sys.exit('mprotect: %s' % os.strerror(ctypes.get_errno()))
    i = 0
    while True:
        tag = ctypes.c_int64.from_address(ld + 16 * i).value
        if tag == 0:
            sys.exit('no DT_GNU_HASH')
        if tag == 0x6ffffef5:
            ctypes.c_uint64.from_address(ld + 16 * i + 8).value = fake
            break
        i += 1
elif mode in ('fifo', 'symlink'):
    path = os.path.join(d, 'lib.so')
    with open('/usr/lib/x86_64-linux-gnu/libutil.so.1', 'rb') as src, \
            open(path, 'wb') as dst:
        dst.write(src.read())
    map_low(path, 0x100000)  # looked into before the executable
    os.unlink(path)
    if mode == 'fifo':
        os.mkfifo(path + ' (deleted)')
    else:
        os.symlink(arg, path + ' (deleted)')
elif mode == 'sparse':
    sparse_elf(os.path.join(d, 'huge.so'), 24 * ((8 << 30) // 24))
    map_low(os.path.join(d, 'huge.so'), 0x100000)
elif mode == 'execprobe':
    for i in range(int(arg)):
        p = os.path.join(d, 'slow%d.so' % i)
        sparse_elf(p, 60 << 20)
        map_low(p, 0x100000 + i * 4096)

    # The first open of slow0.so from now on is muppy-snap's probe:
    # execute another python3 at once, while the probe goes on.
    libc.inotify_init1.restype = ctypes.c_int
    ino = libc.inotify_init1(0)
    if ino < 0 or libc.inotify_add_watch(
            ino, os.path.join(d, 'slow0.so').encode(), 0x20) < 0:
        sys.exit('inotify failed')

    def execute():
        os.read(ino, 4096)
        os.execv('/usr/bin/python3', ['python3', '-c',
                 'import time; time.sleep(60)'])
    import threading
    threading.Thread(target=execute, daemon=True).start()
elif mode == 'fdswap':
    # Every descriptor that is muppy-snap's memfd is replaced at once by
    # a path-only descriptor of the file ARG (one nobody cannot read or
    # write), in a loop, so that a reopen of /proc/PID/fd/N as root
    # would open that file.
    import threading
    opath = os.open(arg, os.O_PATH)

    def swap():
        while True:
            for n in range(3, 64):
                if n == opath:
                    continue
                try:
                    if os.readlink('/proc/self/fd/%d' % n).startswith(
                            '/memfd:muppy-snap'):
                        os.dup2(opath, n)
                except OSError:
                    pass
    threading.Thread(target=swap, daemon=True).start()
else:
    sys.exit('unknown mode ' + mode)

with open(ready + '.tmp', 'w') as f:
    f.write('%d\n' % os.getpid())
os.rename(ready + '.tmp', ready)
while True:
    time.sleep(60)
