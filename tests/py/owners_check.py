"""Judges the owners section of a snapshot against tests/py/owners.py's
reference.

usage: owners_check.py [--paths=N] [--type=TYPE]... REF_JSON SNAPSHOT
       owners_check.py --show|--show-targets|--reached REF_JSON

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
  ones: reachable are the targets that a module reaches (the reference's
  dist) and those that no module reaches but a second root does (dist2,
  in its tier2: the breadth-first search over the objects no module
  reaches, first from the values of the threads' locals, "local", then
  for what those do not reach from the objects held from outside the
  graph, "outside"); nearest is by (tier, distance), the tiers in the
  order module, local, outside, so every target a module reaches comes
  before any other: the (tier, distance) of the paths are the smallest
  of all its reachable targets;
- each path is valid: its id is a reachable target of the type, its
  steps (at least 2) name a chain of hops that the reference lists for
  shortest paths, the last step is the type, and the chain ends at the
  id.  A module path starts at a module with its first hop (hops,
  roots).  A second-tier path starts with a root step: when its first
  step is the root step of some second roots ("outside the object
  graph", or a thread's local "thread 'NAME' FUNC() local 'VAR'
  (FILE:LINE)" from 3.7 on), the chain starts at those roots with 0
  edges and the next step is its first hop; a second root without a
  root step (3.6: a frame a thread is running) starts the chain at its
  first hop, as a module does (hops2, roots2; the hops of a tier stay
  in it).  The chain's length in edges (a step that skips a __dict__
  counts 2, a root step 0) is then the target's distance in its tier,
  which the report shows.

Every type of the reference (or each --type given) must have its
section, and no other type may have one.  Prints one line a
mismatch and exits 1, or one line saying what matched and exits 0; exit 2
on a file it cannot read.  --show prints the reference's groups,
--show-targets also every target (distance, references, edges, groups);
a distance "local D" or "outside D" is D in that tier of the second
roots ("second D": a reference without tiers).  --reached prints the
most targets of one type that a module reaches (with --paths of that
plus 2, the paths of a type go on into its second tiers).  A reference
without hops2 and roots2 (older owners.py) has module paths only.
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


TIERS = {'local': 1, 'outside': 2}


def tier_key(t):
    """Where target t's path ranks, (tier, distance): (0, its distance
    from the modules), else (1, its distance in the local tier) or (2,
    its distance in the outside tier) of the second roots, else None (no
    path).  (An older reference, without tier2: 1 for both.)"""
    if t['dist'] is not None:
        return (0, t['dist'])
    if t.get('dist2') is not None:
        return (TIERS.get(t.get('tier2'), 1), t['dist2'])
    return None


def show_keys(keys):
    return '[%s]' % ', '.join('%d' % d if tier == 0 else
                              '%s %d' % (('second', 'local', 'outside')[tier],
                                         d)
                              for tier, d in keys)


def check_paths(name, sec, ref, hops, roots, npaths, bad, hops2=None,
                roots2=None):
    """Appends what is wrong with sec's paths to bad; returns the
    (tier, distance) of the valid ones.  hops and roots are the
    reference's from the modules, hops2 and roots2 ({root: its root
    step, None for none}) from the second roots."""
    targets = ref['targets']
    hops = dict(hops)
    hops.update(hops2 or {})  # (no node is in both)
    reachable = sorted(k for k in map(tier_key, targets.values())
                       if k is not None)
    want = min(npaths, len(reachable))
    paths = sec['paths']
    if len(paths) != want:
        bad.append('%s: %d paths, want %d (--paths=%d, %d targets '
                   'reachable)' % (name, len(paths), want, npaths,
                                   len(reachable)))
    keys = []
    seen = set()
    tname = enc(name)
    # Where a path may start: at a module, at a second root without a
    # root step (3.6's running frames), both with 0 edges; a first step
    # that is a root step starts at the second roots it names.
    start = dict((r, 0) for r in roots)
    by_step = {}
    for r, text in (roots2 or {}).items():
        if text is None:
            start[r] = 0
        else:
            by_step.setdefault(enc(text), []).append(r)
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
        key = tier_key(t)
        if key is None:
            bad.append('%s: the reference reaches it from no module and '
                       'no second root' % where)
            continue
        if len(steps) < 2:
            bad.append('%s: %d steps, at least 2 wanted' % (where,
                                                            len(steps)))
            continue
        if steps[-1] != tname:
            bad.append("%s: last step '%s', not the type"
                       % (where, show(steps[-1])))
            continue
        cands = start  # node -> edges so far
        for k, s in enumerate(steps[:-1]):
            nxt = {}
            if k == 0:
                for r in by_step.get(s, ()):
                    nxt[r] = 0
            for u, n in cands.items():
                for w, text, e in hops.get(u, ()):
                    if enc(text) == s:
                        nxt[w] = n + e
            if not nxt:
                allowed = set(shown(text) for u in cands
                              for w, text, e in hops.get(u, ()))
                if k == 0:
                    allowed.update(show(b) for b in by_step)
                allowed = sorted(allowed)
                bad.append("%s: step %d '%s' follows no shortest path "
                           '(allowed here: %s)'
                           % (where, k + 1, show(s),
                              ', '.join("'%s'" % a for a in allowed[:8])
                              + (' ...' if len(allowed) > 8 else '')
                              if allowed else 'none'))
                break
            cands = nxt
        else:
            what = 'its distance' if key[0] == 0 else \
                'its distance from the second roots'
            if str(pid) not in cands:
                bad.append('%s: its steps reach other objects than it (a '
                           'path of %d edges, %s is %d)'
                           % (where, min(cands.values()), what, key[1]))
            elif cands[str(pid)] != key[1]:
                bad.append('%s: %d edges, %s is %d'
                           % (where, cands[str(pid)], what, key[1]))
            else:
                keys.append(key)
    if len(keys) == len(paths) and \
            sorted(keys) != reachable[:len(keys)]:
        bad.append('%s: paths to targets at distances %s, not the nearest '
                   '(%s)' % (name, show_keys(sorted(keys)),
                             show_keys(reachable[:len(keys)])))
    return keys


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
                                 npaths, bad, ref.get('hops2'),
                                 ref.get('roots2')))
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
        d = sorted(k for k in map(tier_key, r['targets'].values())
                   if k is not None)
        print('%s: %d objects %d bytes, %d shared, %d unreachable; '
              'distances %s' % (name, r['count'], r['bytes'], r['shared'],
                                r['unreachable'], show_keys(d)))
        for h in r['held']:
            print('  %4d %6d  %s' % (h[1], h[2], shown(h[0])))
        if verbose:
            for i, t in sorted(r['targets'].items(),
                               key=lambda x: (tier_key(x[1]) or (2, 0),
                                              x[1]['label'])):
                k = tier_key(t)
                print('    %-16s distance %s, %d refs, %d edges: %s'
                      % (t['label'], show_keys([k])[1:-1] if k else None,
                         t['rc'], t['edges'],
                         '; '.join(shown(g) for g in t['groups'])))
    for a in ref.get('anomalies', ()):
        print('anomaly: %s' % a)


def main(argv):
    if argv[:1] in (['--show'], ['--show-targets']) and len(argv) == 2:
        with open(argv[1]) as f:
            print_table(json.load(f), argv[0] == '--show-targets')
        return 0
    if argv[:1] == ['--reached'] and len(argv) == 2:
        with open(argv[1]) as f:
            ref = json.load(f)
        print(max(sum(t['dist'] is not None for t in r['targets'].values())
                  for r in ref['types'].values()))
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
