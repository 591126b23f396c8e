"""Runs the payload inside this very process (ctypes, no injector) and
compares its summary with the in-process oracle.

usage: python inproc.py PAYLOAD.so
Exit 0 when compare.py's rules hold: every type within 2 objects and 1024
bytes, the test class exactly, the totals within 0.1%.
"""
import ctypes
import os
import socket
import struct
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare     # noqa: E402
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


def connect(lib):
    """Starts the payload; its Start and a socket to talk to it."""
    out = Start()
    lib.muppy_payload_start(ctypes.byref(out))
    if out.status != 0:
        raise OSError(out.status, 'muppy_payload_start failed')
    # The payload closes out.sock once it has the request, as it would
    # in the target after muppy-snap took its copy: talk over a dup.
    return out, socket.socket(fileno=os.dup(out.sock))


def main():
    lib = ctypes.CDLL(sys.argv[1])
    keep = [Leak(i) for i in range(98765)]
    out, s = connect(lib)
    # Both exist during the walk and the reference; so does the cached
    # struct.Struct that reading the reply needs.
    struct.calcsize('=QQI')
    oracle.settle()
    snapproto.request(s)
    # Wait for the walk in this frame: on 3.6, where running frames are
    # objects, the walk then sees the same frames of this thread as the
    # reference will.
    s.recv(1, socket.MSG_PEEK)
    head, rows = snapproto.reply(s)
    s.close()
    if head['status'] != 0:
        print('payload failed: %s' % head['message'])
        return 1
    # The payload's result is not in the reference: it did not exist
    # during the walk (on 3.6, where running frames are objects, it is
    # reachable from this frame).
    ref, n, b = oracle.summary(ignore=(head, rows))
    print('python %s: payload %d objects %d bytes (walk %.1f ms, '
          'bookkeeping %d KiB); oracle %d objects %d bytes'
          % (head['version'], head['objects'], head['bytes'],
             head['walk_ns'] / 1e6, head['mem_peak'] // 1024, n, b))
    bad = compare.compare((head['objects'], head['bytes'], rows),
                          (n, b, dict((k, tuple(v)) for k, v in ref.items())))
    if rows.get(b'__main__.Leak', (0,))[0] != len(keep):
        bad.append('__main__.Leak: %s, not %d objects'
                   % (rows.get(b'__main__.Leak'), len(keep)))
    for line in bad:
        print(line)
    if not bad:
        print(compare.summary_line((head['objects'], head['bytes']), (n, b),
                                   [b'__main__.Leak'], ()))
    del keep
    return 1 if bad else 0


sys.exit(main())
