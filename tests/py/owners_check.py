"""Judges the owners section of a snapshot against tests/py/owners.py's
reference.

usage: owners_check.py [--paths=N] [--type=TYPE]... REF_JSON SNAPSHOT
       owners_check.py --show|--show-targets REF_JSON

SNAPSHOT is a muppy-snapshot 1.2 file written by muppy-snap --owners
(taken with --no-gc: see owners.py) for some or all of the reference's
types; its header lines

    # owners COUNT BYTES SHARED UNREACHABLE TYPE
    # held COUNT BYTES HOLDER
    # path ID
    # step TEXT

are read (TYPE, HOLDER and TEXT escaped as muppy-snapshot(5) says), the
rest is not.  For every type the snapshot has a section for:

- COUNT, BYTES, SHARED and UNREACHABLE equal the reference's, and COUNT
  and BYTES the type's row (0 and 0 without one);
- the held lines are exactly the reference's groups (names, counts,
  bytes) in the contract's order (bytes desc, count desc, name);
- there are min(N, reachable targets) paths (N: --paths, default 3, the
  muppy-snap default), to distinct targets of that type, the nearest
  ones (their distances are the smallest distances of all its targets);
- each path is valid: its id is a target of the type that a module
  reaches, its steps (at least 2) name a chain of hops that the
  reference lists for shortest paths (the first from a module), the last
  step is the type, and the chain ends at the id.  The chain's length in
  edges (a step that skips a __dict__ counts 2) is then the target's
  distance, which the report shows.

Every type of the reference (or each --type given) must have its
section, and no other type may have one.  Prints one line a
mismatch and exits 1, or one line saying what matched and exits 0; exit 2
on a file it cannot read.  --show prints the reference's groups,
--show-targets also every target (distance, references, edges, groups).
"""
import json
import re
import sys

_ESC = {b'\\': b'\\', b't': b'\t', b'n': b'\n', b'r': b'\r'}


def unescape(text):
    """The raw bytes of an escaped text (muppy-snapshot(5), Escaping):
    \\\\ \\t \\n \\r and \\xHH (lowercase hex); anything else after a
    backslash, or a trailing one, is an error."""
    out = []
    i = 0
    while i < len(text):
        j = text.find(b'\\', i)
        if j < 0:
            out.append(text[i:])
            break
        out.append(text[i:j])
        c = text[j + 1:j + 2]
        if c in _ESC:
            out.append(_ESC[c])
            i = j + 2
        elif c == b'x' and re.match(br'[0-9a-f]{2}\Z', text[j + 2:j + 4]):
            out.append(bytes([int(text[j + 2:j + 4], 16)]))
            i = j + 4
        else:
            raise ValueError('bad escape in %r' % text)
    return b''.join(out)


def enc(s):
    return s.encode('utf-8', 'surrogatepass')


def show(b):
    """A name (bytes) as printable text for the messages."""
    return ''.join(c if c.isprintable() else repr(c)[1:-1]
                   for c in b.decode('utf-8', 'backslashreplace'))


class BadFile(Exception):
    pass


def read_owners(path):
    """([{type, count, bytes, shared, unreachable, held: [(name, count,
    bytes)], paths: [(id, [steps])]}] in file order, {row name: (count,
    bytes)}, {header key: first value}); names are bytes."""
    sections = []
    rows = {}
    head = {}
    with open(path, 'rb') as f:
        for n, line in enumerate(f, 1):
            line = line.rstrip(b'\n')
            try:
                if not line.startswith(b'#'):
                    c, b, name = line.split(b'\t', 2)
                    rows[unescape(name)] = (int(c), int(b))
                    continue
            except ValueError as e:
                raise BadFile('%s:%d: bad row: %s' % (path, n, e))
            key, _, rest = line[2:].partition(b' ')
            head.setdefault(key, rest)
            try:
                if key == b'owners':
                    p = rest.split(b' ', 4)
                    if len(p) != 5:
                        raise ValueError('owners wants 4 numbers and TYPE')
                    sections.append({
                        'type': unescape(p[4]), 'count': int(p[0]),
                        'bytes': int(p[1]), 'shared': int(p[2]),
                        'unreachable': int(p[3]), 'held': [], 'paths': []})
                elif key in (b'held', b'path', b'step'):
                    if not sections:
                        raise ValueError('%s before any owners line'
                                         % key.decode())
                    s = sections[-1]
                    if key == b'held':
                        p = rest.split(b' ', 2)
                        if len(p) != 3:
                            raise ValueError('held wants COUNT BYTES NAME')
                        s['held'].append((unescape(p[2]), int(p[0]),
                                          int(p[1])))
                    elif key == b'path':
                        s['paths'].append((int(rest), []))
                    else:
                        if not s['paths']:
                            raise ValueError('step before any path line')
                        s['paths'][-1][1].append(unescape(rest))
            except ValueError as e:
                raise BadFile('%s:%d: %s' % (path, n, e))
    return sections, rows, head


def held_order(h):
    return (-h[2], -h[1], h[0])


def check_paths(name, sec, ref, hops, roots, npaths, bad):
    """Appends what is wrong with sec's paths to bad; returns the
    distances of the valid ones."""
    targets = ref['targets']
    reachable = sorted(t['dist'] for t in targets.values()
                       if t['dist'] is not None)
    want = min(npaths, len(reachable))
    paths = sec['paths']
    if len(paths) != want:
        bad.append('%s: %d paths, want %d (--paths=%d, %d targets '
                   'reachable)' % (name, len(paths), want, npaths,
                                   len(reachable)))
    dists = []
    seen = set()
    tname = enc(name)
    for pid, steps in paths:
        where = '%s: path %d' % (name, pid)
        if pid in seen:
            bad.append('%s: the same target twice' % where)
            continue
        seen.add(pid)
        t = targets.get(str(pid))
        if t is None:
            bad.append('%s: not a %s of the reference (steps: %s)'
                       % (where, name, ' -> '.join(show(s) for s in steps)))
            continue
        if t['dist'] is None:
            bad.append('%s: the reference reaches it from no module'
                       % where)
            continue
        if len(steps) < 2:
            bad.append('%s: %d steps, at least 2 wanted' % (where,
                                                            len(steps)))
            continue
        if steps[-1] != tname:
            bad.append("%s: last step '%s', not the type"
                       % (where, show(steps[-1])))
            continue
        cands = dict((r, 0) for r in roots)  # node -> edges so far
        for k, s in enumerate(steps[:-1]):
            nxt = {}
            for u, n in cands.items():
                for w, text, e in hops.get(u, ()):
                    if enc(text) == s:
                        nxt[w] = n + e
            if not nxt:
                allowed = sorted(set(shown(text) for u in cands
                                     for w, text, e in hops.get(u, ())))
                bad.append("%s: step %d '%s' follows no shortest path "
                           '(allowed here: %s)'
                           % (where, k + 1, show(s),
                              ', '.join("'%s'" % a for a in allowed[:8])
                              + (' ...' if len(allowed) > 8 else '')
                              if allowed else 'none'))
                break
            cands = nxt
        else:
            if str(pid) not in cands:
                bad.append('%s: its steps reach other objects than it (a '
                           'path of %d edges, its distance is %d)'
                           % (where, min(cands.values()), t['dist']))
            elif cands[str(pid)] != t['dist']:
                bad.append('%s: %d edges, its distance is %d'
                           % (where, cands[str(pid)], t['dist']))
            else:
                dists.append(t['dist'])
    if len(dists) == len(paths) and \
            sorted(dists) != reachable[:len(dists)]:
        bad.append('%s: paths to targets at distances %s, not the nearest '
                   '(%s)' % (name, sorted(dists), reachable[:len(dists)]))
    return dists


def check(ref, sections, npaths, rows=None, head=None):
    """(mismatch lines, summary)."""
    bad = []
    types = ref['types']
    got = {}
    for sec in sections:
        name = show(sec['type'])
        if sec['type'] in got:
            bad.append('%s: two owners sections' % name)
        got[sec['type']] = sec
        if rows is not None and \
                rows.get(sec['type'], (0, 0)) != (sec['count'], sec['bytes']):
            bad.append('%s: owners says %d objects %d bytes, its row %d '
                       'objects %d bytes' % ((name, sec['count'], sec['bytes'])
                                             + rows.get(sec['type'], (0, 0))))
    nheld = npath = 0
    for name in sorted(types):
        sec = got.pop(enc(name), None)
        r = types[name]
        if sec is None:
            bad.append('%s: no owners section' % name)
            continue
        for k in ('count', 'bytes', 'shared', 'unreachable'):
            if sec[k] != r[k]:
                bad.append('%s: %s %d, reference %d' % (name, k, sec[k],
                                                        r[k]))
        want = dict((enc(h[0]), (h[1], h[2])) for h in r['held'])
        have = {}
        for h in sec['held']:
            if h[0] in have:
                bad.append('%s: held by %s twice' % (name, show(h[0])))
            have[h[0]] = (h[1], h[2])
        for h in sorted(set(want) | set(have)):
            if h not in have:
                bad.append('%s: held by %s: missing (reference %d objects '
                           '%d bytes)' % (name, show(h), want[h][0],
                                          want[h][1]))
            elif h not in want:
                bad.append('%s: held by %s: %d objects %d bytes, not in '
                           'the reference' % (name, show(h), have[h][0],
                                              have[h][1]))
            elif have[h] != want[h]:
                bad.append('%s: held by %s: %d objects %d bytes, reference '
                           '%d objects %d bytes' % (name, show(h),
                                                    have[h][0], have[h][1],
                                                    want[h][0], want[h][1]))
        if sec['held'] != sorted(sec['held'], key=held_order):
            bad.append('%s: held lines not sorted by bytes, count, name'
                       % name)
        nheld += len(sec['held'])
        npath += len(check_paths(name, sec, r, ref['hops'], ref['roots'],
                                 npaths, bad))
    for t in got:
        bad.append('%s: an owners section the reference does not expect'
                   % show(t))
    freed = (head or {}).get(b'gc_freed', b'0')
    if bad and freed != b'0':
        bad.append('(the snapshot\'s collection freed %s objects: the '
                   'victim\'s garbage cycle wants muppy-snap --no-gc)'
                   % freed.decode())
    return bad, ('owners of %s: counts and %d holders exact, %d paths '
                 'valid and nearest (python %s)'
                 % (', '.join(sorted(types)), nheld, npath, ref['python']))


def shown(s):
    return show(enc(s))


def print_table(ref, verbose=False):
    print('python %s%s' % (ref['python'], ' (debug)' if ref.get('debug')
                           else ''))
    for name, r in sorted(ref['types'].items()):
        d = sorted(t['dist'] for t in r['targets'].values()
                   if t['dist'] is not None)
        print('%s: %d objects %d bytes, %d shared, %d unreachable; '
              'distances %s' % (name, r['count'], r['bytes'], r['shared'],
                                r['unreachable'], d))
        for h in r['held']:
            print('  %4d %6d  %s' % (h[1], h[2], shown(h[0])))
        if verbose:
            for i, t in sorted(r['targets'].items(),
                               key=lambda x: (x[1]['dist'] is None,
                                              x[1]['dist'], x[1]['label'])):
                print('    %-16s distance %s, %d refs, %d edges: %s'
                      % (t['label'], t['dist'], t['rc'], t['edges'],
                         '; '.join(shown(g) for g in t['groups'])))
    for a in ref.get('anomalies', ()):
        print('anomaly: %s' % a)


def main(argv):
    if argv[:1] in (['--show'], ['--show-targets']) and len(argv) == 2:
        with open(argv[1]) as f:
            print_table(json.load(f), argv[0] == '--show-targets')
        return 0
    npaths = 3
    only = []
    while argv[:1] and argv[0].startswith('--'):
        opt, eq, val = argv[0].partition('=')
        if not eq and len(argv) > 1:
            val = argv[1]
            argv = argv[1:]
        argv = argv[1:]
        if opt == '--paths':
            npaths = int(val)
        elif opt == '--type':
            only.append(val)
        else:
            argv = []
            break
    if len(argv) != 2:
        sys.stderr.write(__doc__.split('\n\n')[1] + '\n')
        return 2
    with open(argv[0]) as f:
        ref = json.load(f)
    for t in only:
        if t not in ref['types']:
            print('%s: not a type of the reference' % t)
            return 2
    if only:
        ref['types'] = dict((t, ref['types'][t]) for t in only)
    try:
        sections, rows, head = read_owners(argv[1])
    except BadFile as e:
        print('unreadable: %s' % e)
        return 2
    bad, summary = check(ref, sections, npaths, rows, head)
    for line in bad:
        print(line)
    if bad:
        return 1
    print(summary)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
