"""Compares a snapshot file with a victim's in-process oracle.

usage: compare.py SNAPSHOT ORACLE [TYPE...]
Each TYPE (default __main__.Leak) must match exactly in count and bytes;
the total objects and bytes must agree within 1%.  Prints one line.
"""
import sys


def read_rows(path, hex_names):
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
            if hex_names:
                name = bytes.fromhex(name.decode())
            rows[name] = (int(count), int(size))
    return head, rows


def main():
    snap, ref = sys.argv[1:3]
    types = [t.encode() for t in sys.argv[3:]] or [b'__main__.Leak']
    sh, srows = read_rows(snap, False)
    oh, orows = read_rows(ref, True)
    sn, sb = int(sh['objects']), int(sh['bytes'])
    on, ob = int(oh['objects']), int(oh['bytes'])
    ok = True
    for t in types:
        if srows.get(t) != orows.get(t) or t not in srows:
            print('%s: snapshot %s, oracle %s' % (t.decode(), srows.get(t),
                                                  orows.get(t)))
            ok = False
    if abs(sn - on) > on / 100 or abs(sb - ob) > ob / 100:
        print('totals differ by more than 1%%: snapshot %d objects %d '
              'bytes, oracle %d objects %d bytes' % (sn, sb, on, ob))
        ok = False
    if ok:
        print('python %s: %s match; snapshot %d objects %d bytes, oracle '
              '%d objects %d bytes' % (sh.get('python'),
                                      b','.join(types).decode(), sn, sb,
                                      on, ob))
    return 0 if ok else 1


sys.exit(main())
