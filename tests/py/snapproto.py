"""Client side of muppy-snap's payload protocol (lib/payload/protocol.h),
for tests that drive the payload without the injector."""
import struct

MAGIC = 0x6d757070
REQ = struct.Struct('=IIIIQII4096s')
REPLY = struct.Struct('=II6QIIiI32s160sQII96sII')
VERSION = 3
REQ_GC = 1


def request(sock, gc=True, timeout=10.0, owners=(), paths=3):
    names = b''.join(n + b'\0' for n in owners)
    sock.sendall(REQ.pack(MAGIC, VERSION, REQ_GC if gc else 0, 0,
                          int(timeout * 1e9), len(owners), paths, names))


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
     failed, nowners, _) = REPLY.unpack(_recv(sock, REPLY.size))
    if magic != MAGIC:
        raise ValueError('bad magic %x' % magic)
    head = dict(status=status, objects=objects, bytes=nbytes,
                gc_freed=gc_freed, hold_ns=hold_ns, walk_ns=walk_ns,
                mem_peak=mem_peak, ntypes=ntypes, gc_ran=gc_ran, tid=tid,
                version=version.rstrip(b'\0').decode(),
                message=message.rstrip(b'\0').decode(errors='replace'),
                frozen=frozen, flags=flags, interpreters=interpreters,
                failed=failed.rstrip(b'\0').decode(errors='replace'),
                nowners=nowners)
    rows = {}
    if status == 0:
        for _ in range(ntypes):
            count, size, length = struct.unpack('=QQI', _recv(sock, 20))
            name = _recv(sock, length)
            old = rows.get(name, (0, 0))
            rows[name] = (old[0] + count, old[1] + size)
        head['owners'] = [_owners(sock) for _ in range(nowners)]
    return head, rows


def _owners(sock):
    count, size, shared, unreachable, nholders, npaths = struct.unpack(
        '=4QII', _recv(sock, 40))
    sec = dict(count=count, bytes=size, shared=shared,
               unreachable=unreachable, holders=[], paths=[])
    for _ in range(nholders):
        hc, hb, length = struct.unpack('=QQI', _recv(sock, 20))
        sec['holders'].append((_recv(sock, length), hc, hb))
    for _ in range(npaths):
        oid, nsteps = struct.unpack('=QI', _recv(sock, 12))
        steps = []
        for _ in range(nsteps):
            (length,) = struct.unpack('=I', _recv(sock, 4))
            steps.append(_recv(sock, length))
        sec['paths'].append((oid, steps))
    return sec
