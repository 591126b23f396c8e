"""A Python victim whose every thread keeps vector registers, rounding
modes and errno live across system calls, for muppy-snap to land on.

usage: regs.py SO READY STOP SECONDS THREADS

The main thread and THREADS - 1 more call muppy_test_regs(SECONDS) of
tests/progs/so/regcheck.c through ctypes.CDLL until the file STOP
exists or SECONDS have passed (the GIL let go meanwhile,
so muppy-snap's calls land on one of them).  READY gets the pid once all
have started; 777 Marker objects exist from then on.  At the end one line
per thread, "thread K: N rounds" or "thread K: <what changed>", and exit
status 0 only if every thread did rounds and saw nothing change.
"""
import ctypes
import os
import sys
import threading


class Marker(object):
    pass


def main():
    so, ready, stop, seconds, nthreads = sys.argv[1:6]
    lib = ctypes.CDLL(so)
    lib.muppy_test_regs.argtypes = [ctypes.c_double, ctypes.c_char_p,
                                    ctypes.c_char_p, ctypes.c_long]
    lib.muppy_test_regs.restype = ctypes.c_long
    markers = [Marker() for _ in range(777)]
    results = [None] * int(nthreads)
    started = threading.Barrier(int(nthreads))

    def run(k):
        why = ctypes.create_string_buffer(200)
        started.wait()
        n = lib.muppy_test_regs(float(seconds), stop.encode(), why,
                                len(why))
        results[k] = n if n >= 0 else why.value.decode()

    threads = [threading.Thread(target=run, args=(k,))
               for k in range(1, int(nthreads))]
    for t in threads:
        t.start()
    tmp = ready + '.tmp'
    with open(tmp, 'w') as f:
        f.write(str(os.getpid()))
    os.rename(tmp, ready)
    run(0)
    for t in threads:
        t.join()
    bad = 0
    for k, r in enumerate(results):
        if isinstance(r, int) and r > 0:
            print('thread %d: %d rounds' % (k, r))
        else:
            print('thread %d: %s' % (k, r))
            bad += 1
    del markers
    return 1 if bad else 0


sys.exit(main())
