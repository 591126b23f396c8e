"""Compares a snapshot file with a victim's in-process oracle.

usage: compare.py [--except TYPE]... SNAPSHOT ORACLE [TYPE...]

Every type on either side (a side without it counts 0 objects, 0 bytes)
must agree within 2 objects and 1024 bytes, except the types named with
--except; each TYPE (default __main__.Leak) must match exactly in count
and bytes; the total objects and bytes (the files' headers) must agree
within 0.1%.  Prints one line and exits 0, or prints what differs, one
line a row, at most 20 lines, and exits 1.

tests/py/inproc.py imports it and calls compare() directly.
"""
import argparse
import re
import sys

COUNT_SLACK = 2       # objects per type
BYTES_SLACK = 1024    # bytes per type
TOTAL_SLACK = 0.001   # of the oracle's totals
MAX_LINES = 20

_ESCAPES = {b'\\': b'\\', b't': b'\t', b'n': b'\n', b'r': b'\r'}


def unescape(name):
    """A snapshot's escaped name (muppy-snapshot(5)) as the raw bytes."""
    return re.sub(br'\\(x[0-9a-f]{2}|[\\tnr])',
                  lambda m: (bytes([int(m.group(1)[1:], 16)])
                             if m.group(1)[:1] == b'x'
                             else _ESCAPES[m.group(1)]), name)


def read_rows(path, hex_names):
    """(header {key: value}, {name: (count, bytes)}) of a snapshot file
    (escaped names) or of an oracle file (names in hexadecimal)."""
    head, rows = {}, {}
    with open(path, 'rb') as f:
        for line in f:
            line = line.rstrip(b'\n')
            if line.startswith(b'# '):
                parts = line[2:].split(b' ', 1)
                if len(parts) == 2:
                    head[parts[0].decode()] = parts[1].decode()
                continue
            count, size, name = line.split(b'\t', 2)
            name = bytes.fromhex(name.decode()) if hex_names else \
                unescape(name)
            rows[name] = (int(count), int(size))
    return head, rows


def show(name):
    """A type name (bytes) as printable text."""
    return ''.join(c if c.isprintable() else repr(c)[1:-1]
                   for c in name.decode('utf-8', 'backslashreplace'))


def row_line(name, mine, ref):
    return '%s: snapshot %d objects %d bytes, oracle %d objects %d bytes' % (
        show(name), mine[0], mine[1], ref[0], ref[1])


def compare(snap, ref, exact=(b'__main__.Leak',), excused=()):
    """What differs between two summaries, one line each ([] if nothing).

    snap and ref are (objects, bytes, {name: (count, bytes)}); exact and
    excused are type names (bytes)."""
    sn, sb, srows = snap
    on, ob, orows = ref
    bad = []
    for t in exact:
        if t not in srows or srows.get(t) != orows.get(t):
            bad.append('not exact: ' + row_line(t, srows.get(t, (0, 0)),
                                                orows.get(t, (0, 0))))
    for t in sorted(set(srows) | set(orows)):
        if t in excused or t in exact:
            continue
        mine, want = srows.get(t, (0, 0)), orows.get(t, (0, 0))
        if abs(mine[0] - want[0]) > COUNT_SLACK or \
                abs(mine[1] - want[1]) > BYTES_SLACK:
            bad.append('differs: ' + row_line(t, mine, want))
    if abs(sn - on) > on * TOTAL_SLACK or abs(sb - ob) > ob * TOTAL_SLACK:
        bad.insert(0, 'totals differ by more than %g%%: snapshot %d objects '
                   '%d bytes, oracle %d objects %d bytes'
                   % (TOTAL_SLACK * 100, sn, sb, on, ob))
    if len(bad) > MAX_LINES:
        bad[MAX_LINES - 1:] = ['... and %d more' % (len(bad) - MAX_LINES + 1)]
    return bad


def summary_line(snap, ref, exact, excused):
    """The line that says what matched."""
    parts = ['every type within %d objects and %d bytes'
             % (COUNT_SLACK, BYTES_SLACK)]
    if excused:
        parts[0] += ' (%s not compared)' % ','.join(show(t)
                                                   for t in sorted(excused))
    if exact:
        parts.append('%s exact' % ','.join(show(t) for t in exact))
    return '%s; snapshot %d objects %d bytes, oracle %d objects %d bytes' % (
        ', '.join(parts), snap[0], snap[1], ref[0], ref[1])


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--except', dest='excused', action='append', default=[],
                   metavar='TYPE', help='a type not to compare')
    p.add_argument('snapshot')
    p.add_argument('oracle')
    p.add_argument('types', nargs='*', metavar='TYPE',
                   default=['__main__.Leak'])
    a = p.parse_args()
    exact = [t.encode('utf-8', 'surrogateescape') for t in a.types]
    excused = set(t.encode('utf-8', 'surrogateescape') for t in a.excused)
    sh, srows = read_rows(a.snapshot, False)
    oh, orows = read_rows(a.oracle, True)
    snap = (int(sh['objects']), int(sh['bytes']), srows)
    ref = (int(oh['objects']), int(oh['bytes']), orows)
    bad = compare(snap, ref, exact, excused)
    for line in bad:
        print(line)
    if bad:
        return 1
    print('%s%s' % ('python %s: ' % sh['python'] if 'python' in sh else '',
                    summary_line(snap, ref, exact, excused)))
    return 0


if __name__ == '__main__':
    sys.exit(main())
