"""Runs the payload inside this very process (ctypes, no injector) and
compares its summary with the in-process oracle.

usage: python inproc.py PAYLOAD.so
Exit 0 when the test class matches exactly and the totals within 1%.
"""
import ctypes
import os
import socket
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle      # noqa: E402
import snapproto   # noqa: E402


class Leak(object):
    def __init__(self, i):
        self.i = i
        self.name = 'leak-%d' % i
        self.pair = (i, str(i))


class Start(ctypes.Structure):
    _fields_ = [('status', ctypes.c_int32), ('sock', ctypes.c_int32),
                ('thread', ctypes.c_uint64)]


def snapshot(lib):
    out = Start()
    lib.muppy_payload_start(ctypes.byref(out))
    if out.status != 0:
        raise OSError(out.status, 'muppy_payload_start failed')
    # The payload closes out.sock once it has the request, as it would
    # in the target after muppy-snap took its copy: talk over a dup.
    s = socket.socket(fileno=os.dup(out.sock))
    try:
        snapproto.request(s)
        return snapproto.reply(s)
    finally:
        s.close()


def main():
    lib = ctypes.CDLL(sys.argv[1])
    keep = [Leak(i) for i in range(98765)]
    head, rows = snapshot(lib)
    ref, n, b = oracle.summary()
    if head['status'] != 0:
        print('payload failed: %s' % head['message'])
        return 1
    mine = rows.get(b'__main__.Leak')
    want = ref.get(b'__main__.Leak')
    print('python %s: payload %d objects %d bytes (walk %.1f ms, '
          'bookkeeping %d KiB); oracle %d objects %d bytes; Leak %s vs %s'
          % (head['version'], head['objects'], head['bytes'],
             head['walk_ns'] / 1e6, head['mem_peak'] // 1024, n, b, mine,
             want))
    ok = want and mine == tuple(want) and mine[0] == 98765 and \
        abs(head['objects'] - n) <= n / 100 and \
        abs(head['bytes'] - b) <= b / 100
    for name in sorted(set(rows) | set(ref)):
        if rows.get(name) != tuple(ref.get(name, (0, 0))):
            print('  differs: %r payload %s oracle %s'
                  % (name, rows.get(name), ref.get(name)))
    del keep
    return 0 if ok else 1


sys.exit(main())
