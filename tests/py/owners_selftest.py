"""tests/py/owners_check.py judged, without muppy-snap.

usage: owners_selftest.py REF_JSON WORKDIR

From a reference of tests/py/owners.py it writes the snapshot that
muppy-snap --owners should write (format 1.2: the owners, held, path and
step header lines, escaped; paths to the 3 nearest targets, each along a
shortest chain of the reference's hops: module paths first, then those
from the second roots), checks that owners_check.py
passes it (also with a path to every reachable target, --paths=100,
and without paths, --paths=0), then that it fails (exit 1, naming the problem) on mutated
copies: a holder's count off by one, a holder missing, a holder renamed,
the held lines out of order, the owners line's count, bytes, shared or
unreachable off by one, a type's section missing, a row that says
another count than the owners line, a path one step too
long, a path that goes the long way to a target that has a shorter one,
a path whose id is no target, a path that stops early, a wrong last
step, a path to a farther target than the nearest, a path past the
module tier to a target of a later tier of the second roots (outside
before local) or farther than the nearest, one path too few, and
the same target twice.  Also checks the unescaping of muppy-snapshot(5).
Prints one line a case; exits 1 on the first case that goes wrong.
"""
import copy
import json
import os
import subprocess
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import owners_check  # noqa: E402

CHECK = os.path.join(HERE, 'owners_check.py')


# The characters muppy-snapshot(5) escapes byte by byte although they are
# valid UTF-8: C1 controls, line and paragraph separators, interlinear
# annotation controls and the default-ignorable ones.
INVISIBLE = ((0x80, 0x9f), (0x2028, 0x2029), (0xfff9, 0xfffb),
             (0xad, 0xad), (0x34f, 0x34f), (0x61c, 0x61c), (0x115f, 0x1160),
             (0x17b4, 0x17b5), (0x180b, 0x180f), (0x200b, 0x200f),
             (0x202a, 0x202e), (0x2060, 0x206f), (0x3164, 0x3164),
             (0xfe00, 0xfe0f), (0xfeff, 0xfeff), (0xffa0, 0xffa0),
             (0xfff0, 0xfff8), (0x1bca0, 0x1bca3), (0x1d173, 0x1d17a),
             (0xe0000, 0xe0fff))


def escape(b):
    """muppy-snapshot(5)'s escaped form of b (bytes)."""
    out = []
    t = b.decode('utf-8', 'surrogateescape')
    for ch in t:
        o = ord(ch)
        if ch == '\\':
            out.append('\\\\')
        elif ch in '\t\n\r':
            out.append({'\t': '\\t', '\n': '\\n', '\r': '\\r'}[ch])
        elif o < 0x20 or o == 0x7f:
            out.append('\\x%02x' % o)
        elif 0xdc80 <= o <= 0xdcff:  # a byte that is not UTF-8
            out.append('\\x%02x' % (o - 0xdc00))
        elif any(lo <= o <= hi for lo, hi in INVISIBLE):
            out.append(''.join('\\x%02x' % c for c in ch.encode('utf-8')))
        else:
            out.append(ch)
    return ''.join(out).encode('utf-8')


def chain(ref, target):
    """The step texts of one shortest chain from a root to target: from
    a module, or (no module reaches it) from a second root, after that
    root's step if it has one."""
    tier, want = ref['types_dist'][target]
    hops = ref['hops'] if tier == 0 else ref.get('hops2', {})
    roots = [(r, None) for r in ref['roots']] if tier == 0 else \
        sorted(ref.get('roots2', {}).items())

    def walk(u, edges):
        if u == target:
            return [] if edges == want else None
        if edges >= want:
            return None
        for w, text, e in hops.get(u, ()):
            rest = walk(w, edges + e)
            if rest is not None:
                return [text] + rest
        return None
    for r, first in roots:
        steps = walk(r, 0)
        if steps is not None:
            return ([] if first is None else [first]) + steps
    raise SystemExit('owners_selftest: no chain to %s in the reference'
                     % target)


def model(ref, npaths=3):
    """The owners sections muppy-snap should write: [{type, count, bytes,
    shared, unreachable, held, paths: [(id, [steps])]}], texts as str."""
    ref['types_dist'] = {}
    out = []
    for name in sorted(ref['types']):
        r = ref['types'][name]
        near = sorted((owners_check.tier_key(t), int(i))
                      for i, t in r['targets'].items()
                      if owners_check.tier_key(t) is not None)
        paths = []
        for d, i in near[:npaths]:
            ref['types_dist'][str(i)] = d
            paths.append((i, chain(ref, str(i)) + [name]))
        out.append({'type': name, 'count': r['count'], 'bytes': r['bytes'],
                    'shared': r['shared'], 'unreachable': r['unreachable'],
                    'held': [tuple(h) for h in r['held']], 'paths': paths})
    return out


def write_snap(path, sections):
    e = lambda s: escape(owners_check.enc(s))  # noqa: E731
    lines = [b'# muppy-snapshot 1.2', b'# pid 1', b'# interpreters 1']
    for s in sections:
        lines.append(b'# owners %d %d %d %d %s' % (
            s['count'], s['bytes'], s['shared'], s['unreachable'],
            e(s['type'])))
        for name, count, size in s['held']:
            lines.append(b'# held %d %d %s' % (count, size, e(name)))
        for i, steps in s['paths']:
            lines.append(b'# path %d' % i)
            for st in steps:
                lines.append(b'# step %s' % e(st))
    rows = dict((s['type'], (s['count'], s['bytes'])) for s in sections)
    lines += [b'# objects %d' % sum(r[0] for r in rows.values()),
              b'# bytes %d' % sum(r[1] for r in rows.values()),
              b'# types %d' % len(rows)]
    for name, (count, size) in sorted(rows.items(), key=lambda r: -r[1][1]):
        lines.append(b'%d\t%d\t%s' % (count, size, e(name)))
    with open(path, 'wb') as f:
        f.write(b'\n'.join(lines) + b'\n')


def run(ref_path, snap, args=()):
    p = subprocess.Popen([sys.executable, CHECK] + list(args)
                         + [ref_path, snap], stdout=subprocess.PIPE,
                         stderr=subprocess.PIPE)
    out, err = p.communicate()
    return p.returncode, out.decode(), err.decode()


def main():
    ref_path, work = sys.argv[1:3]
    with open(ref_path) as f:
        ref = json.load(f)
    failed = []

    # Unescaping.
    u = owners_check.unescape
    for raw, want in ((b'a\\tb\\\\c\\x01\\n\\r', b'a\tb\\c\x01\n\r'),
                      (b'\\xc3\\xa9\\x7f', b'\xc3\xa9\x7f'),
                      (b'plain \xc3\xa9', b'plain \xc3\xa9')):
        if u(raw) != want:
            failed.append('unescape(%r) is %r' % (raw, u(raw)))
    for raw in (b'a\\', b'\\q', b'\\x4', b'\\xAB'):
        try:
            u(raw)
            failed.append('unescape(%r) accepted' % raw)
        except ValueError:
            pass
    print('unescape: %s' % ('wrong' if failed else 'ok'))

    good = model(ref)
    sess = [s for s in good if s['type'] == '__main__.Session'][0]
    r = ref['types']['__main__.Session']
    if len(sess['held']) < 3 or len(sess['paths']) < 3:
        raise SystemExit('owners_selftest: the reference has too few '
                         'holders or paths to mutate')
    n = [0]

    def case(what, sections, expect, args=(), pattern=None):
        n[0] += 1
        path = os.path.join(work, 'owners-%02d.snap' % n[0])
        write_snap(path, sections)
        rc, out, err = run(ref_path, path, args)
        first = out.splitlines()[0] if out else ''
        ok = rc == (0 if expect == 'passes' else 1) and not err and \
            (pattern is None or pattern in out)
        print('case %d: %s %s: exit %d: %s' % (n[0], what, expect, rc,
                                              first))
        if not ok:
            failed.append('case %d (%s): exit %d, want %s%s\n%s%s'
                          % (n[0], what, rc, expect,
                             ', a line with %r' % pattern if pattern
                             else '', out, err))

    def mutant():
        m = copy.deepcopy(good)
        return m, [s for s in m if s['type'] == '__main__.Session'][0]

    case('as written from the reference', good, 'passes')
    case('every reachable target, --paths=100', model(ref, 100), 'passes',
         ['--paths=100'])
    none = copy.deepcopy(good)
    for s in none:
        s['paths'] = []
    case('without paths, --paths=0', none, 'passes', ['--paths=0'])

    m, s = mutant()
    h = s['held'][0]
    s['held'][0] = (h[0], h[1] + 1, h[2])
    case('a holder count +1', m, 'fails', pattern='held by %s: ' % h[0])
    m, s = mutant()
    h = s['held'].pop(1)
    case('a holder missing', m, 'fails',
         pattern='held by %s: missing' % h[0])
    m, s = mutant()
    h = s['held'][2]
    s['held'][2] = (h[0] + 'x', h[1], h[2])
    case('a holder renamed', m, 'fails',
         pattern='held by %sx: %d objects %d bytes, not in' % h)
    m, s = mutant()
    s['held'].reverse()
    case('the held lines reversed', m, 'fails', pattern='not sorted')
    for k in ('count', 'bytes', 'shared', 'unreachable'):
        m, s = mutant()
        s[k] += 1
        case('owners %s +1' % k, m, 'fails',
             pattern='__main__.Session: %s %d, reference' % (k, s[k]))
    m, s = mutant()
    m.remove(s)
    case('the Session section missing', m, 'fails',
         pattern='__main__.Session: no owners section')
    # The row and the owners line must agree.
    path = os.path.join(work, 'owners-row.snap')
    write_snap(path, good)
    with open(path, 'rb') as f:
        text = f.read().replace(b'\n%d\t' % r['count'],
                                b'\n%d\t' % (r['count'] + 1))
    with open(path, 'wb') as f:
        f.write(text)
    rc, out, err = run(ref_path, path)
    print('case row: the Session row +1 fails: exit %d: %s'
          % (rc, out.splitlines()[0] if out else ''))
    if rc != 1 or 'owners says %d objects' % r['count'] not in out:
        failed.append('case row: exit %d\n%s%s' % (rc, out, err))

    # Paths.
    m, s = mutant()
    pid, steps = s['paths'][0]
    s['paths'][0] = (pid, steps[:1] + steps[:1] + steps[1:])
    case('a path one step too long', m, 'fails',
         pattern='path %d: step 2 ' % pid)
    # u1: in SESSIONS (3 edges) and, farther, in NESTED.
    both = [int(i) for i, t in r['targets'].items()
            if 'dict values of __main__.SESSIONS' in t['groups']
            and 'dict values of list items' in t['groups']]
    m, s = mutant()
    s['paths'][0] = (both[0], ["module __main__ . NESTED", "dict['tenants']",
                               'list[0]', "dict['again']",
                               '__main__.Session'])
    case('the long way to a target', m, 'fails',
         pattern='path %d: step 4 ' % both[0])
    m, s = mutant()
    pid, steps = s['paths'][0]
    other = [x for x in ref['hops'] if x not in r['targets']][0]
    s['paths'][0] = (int(other), steps)
    case('a path to a non-target', m, 'fails',
         pattern='path %s: not a __main__.Session' % other)
    m = model(ref, 100)
    s = [x for x in m if x['type'] == '__main__.Session'][0]
    k = [j for j, p in enumerate(s['paths']) if len(p[1]) > 2][0]
    pid, steps = s['paths'][k]
    s['paths'][k] = (pid, steps[:-2] + steps[-1:])
    case('a path that stops early', m, 'fails', ['--paths=100'],
         pattern='path %d: its steps reach other objects' % pid)
    m, s = mutant()
    pid, steps = s['paths'][1]
    s['paths'][1] = (pid, steps[:-1] + ['__main__.Token'])
    case('a wrong last step', m, 'fails',
         pattern='path %d: last step' % pid)
    far = max((t['dist'], int(i)) for i, t in r['targets'].items()
              if t['dist'] is not None)
    near = sorted(t['dist'] for t in r['targets'].values()
                  if t['dist'] is not None)
    if far[0] <= near[2]:
        raise SystemExit('owners_selftest: no target farther than the '
                         'third nearest')
    m, s = mutant()
    ref['types_dist'][str(far[1])] = (0, far[0])
    s['paths'][2] = (far[1], chain(ref, str(far[1])) + ['__main__.Session'])
    case('a path to a farther target', m, 'fails', pattern='not the nearest')
    # Past the module tier: the nearest target of the second roots, or
    # one of a later tier (local, then outside) at no greater distance,
    # or else a farther one of its tier, instead.
    keys = sorted((owners_check.tier_key(t), int(i))
                  for i, t in r['targets'].items()
                  if owners_check.tier_key(t) is not None)
    second = [k for k in keys if k[0][0] > 0]
    if second:
        first = second[0]
        later = [k for k in second if k[0][0] > first[0][0] and
                 k[0][1] <= first[0][1]] or \
            [k for k in second if k[0] > first[0]]
    if second and later:
        npaths = len(keys) - len(second) + 1
        m = model(ref, npaths)
        s = [x for x in m if x['type'] == '__main__.Session'][0]
        (tier, d), other = later[0]
        ref['types_dist'][str(other)] = (tier, d)
        s['paths'][-1] = (other, chain(ref, str(other))
                          + ['__main__.Session'])
        case('a second-tier path to %s %d, not to %s %d'
             % (('local', 'outside')[tier - 1], d,
                ('local', 'outside')[first[0][0] - 1], first[0][1]),
             m, 'fails', ['--paths=%d' % npaths], pattern='not the nearest')
    else:
        print('case -: no second-tier targets to order')
    m, s = mutant()
    s['paths'].pop()
    case('one path too few', m, 'fails', pattern='2 paths, want 3')
    m, s = mutant()
    s['paths'][1] = s['paths'][0]
    case('the same target twice', m, 'fails', pattern='the same target')
    if failed:
        for f in failed:
            print('FAILED: ' + f)
        return 1
    print('owners_selftest: %d cases as expected' % n[0])
    return 0


if __name__ == '__main__':
    sys.exit(main())
