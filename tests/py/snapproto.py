"""Client side of muppy-snap's payload protocol (lib/payload/protocol.h),
for tests that drive the payload without the injector."""
import struct

MAGIC = 0x6d757070
REQ = struct.Struct('=IIIIQ')
REPLY = struct.Struct('=II6QIIiI32s160sQII96s')
VERSION = 2
REQ_GC = 1


def request(sock, gc=True, timeout=10.0):
    sock.sendall(REQ.pack(MAGIC, VERSION, REQ_GC if gc else 0, 0,
                          int(timeout * 1e9)))


def _recv(sock, n):
    buf = b''
    while len(buf) < n:
        chunk = sock.recv(n - len(buf))
        if not chunk:
            raise EOFError('payload closed the connection')
        buf += chunk
    return buf


def reply(sock):
    """(header dict, {name: (count, bytes)})"""
    (magic, status, objects, nbytes, gc_freed, hold_ns, walk_ns, mem_peak,
     ntypes, gc_ran, tid, _, version, message, frozen, flags, interpreters,
     failed) = REPLY.unpack(_recv(sock, REPLY.size))
    if magic != MAGIC:
        raise ValueError('bad magic %x' % magic)
    head = dict(status=status, objects=objects, bytes=nbytes,
                gc_freed=gc_freed, hold_ns=hold_ns, walk_ns=walk_ns,
                mem_peak=mem_peak, ntypes=ntypes, gc_ran=gc_ran, tid=tid,
                version=version.rstrip(b'\0').decode(),
                message=message.rstrip(b'\0').decode(errors='replace'),
                frozen=frozen, flags=flags, interpreters=interpreters,
                failed=failed.rstrip(b'\0').decode(errors='replace'))
    rows = {}
    if status == 0:
        for _ in range(ntypes):
            count, size, length = struct.unpack('=QQI', _recv(sock, 20))
            name = _recv(sock, length)
            old = rows.get(name, (0, 0))
            rows[name] = (old[0] + count, old[1] + size)
    return head, rows
