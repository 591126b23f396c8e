"""A victim for muppy-snap --owners (issue #12) with its own reference.

usage: owners.py REF_JSON [READY_FILE [HOLD_SECONDS]]

It builds known holders of __main__.Session and __main__.Token objects,
computes in-process what --owners must report for both types (the rules
of the contract, /work/owners-spec.md, which becomes the OWNERS section
of muppy-snap(1)), writes it to REF_JSON (written beside and renamed into
place), then writes its pid to READY_FILE (the same way, as
tests/py/victim.py does) and prints "ready" on standard output; then it
sleeps until killed, keeping every object alive and the heap unchanged.
With HOLD_SECONDS its main thread first keeps the GIL that long, blocked
in libc's sleep() called through ctypes.PyDLL (ctypes is imported before
the reference is computed), so that muppy-snap walks the heap on that
thread (muppy_payload_here), as it must on a thread that holds the GIL in
a system call.
tests/py/owners_check.py judges a snapshot against REF_JSON.  It
computes its reference twice (the second must equal the first, or the
first left something behind that a snapshot would see) and checks it
against what it built (EXPECT, expect_tier2()): when either fails it
says so on standard error and exits 3 without getting ready.

The collector is disabled (gc.disable()) before anything is built, and
never runs again: the victim keeps a garbage cycle of two Sessions, so
the snapshot must be taken with muppy-snap --no-gc.

How the reference reads the contract where it is not explicit (each
reading is one a C payload that walks tp_traverse can reproduce):

- The graph: every object of gc.get_objects() and everything reachable
  from them through gc.get_referents, each once; an edge P -> C for each
  time P's tp_traverse visits C (gc.get_referents(P), duplicates kept).
  TYPE names the targets by their row name (module.qualname): objects
  whose type, exactly (not a subclass), has that name.
- Naming an edge P -> C depends on the pair (P, C) only: the first rule
  of the list that names something applies, and gives a name for every
  way it finds C in P: a module/class/instance dict where C is the value
  of two str keys gives two names, a dict where C is a key and a value
  gives both "keys" and "values" (rule 5 says so).  A rule "applies" only
  when it names something: a module dict holding C under a non-str key
  only falls through to rule 5 ("dict values of U").
- Rule 4's slots are those of the Python classes (class statements)
  in TYPE(P)'s MRO that declare __slots__ (in C: heap types with
  ht_slots), their member descriptors: rule 8 names a function's
  globals "function (C)", and __globals__ is a member descriptor of
  function, as are a bound method's __self__ and a function's
  __closure__, so the member descriptors of C types (static or heap)
  are not slots; the same for the path steps ("function (C)").
  Inline values (3.11+) are named where the instance's tp_traverse visits
  them rather than a __dict__: when no __dict__ was materialized, and in
  3.13.0 also when one was (3.13.0 visits the valid inline values, not
  the dict; 3.11, 3.12 and 3.13.1+ visit the materialized dict).
- Rule 3 names the dict that the instance's __dict__ slot or managed
  dict pointer holds; found here with the type's own __dict__ descriptor.
- "exactly one incoming edge" counts edges (duplicates too); U is then
  the first (in byte order) of that edge's names, without its own
  "of U".  Edges from the reference's own bookkeeping are not edges.
  A container of rules 5-7 with no incoming edge whose reference count
  (calibrated as for rule 10) is exactly 1, held by a local of a
  thread's running function (3.7+; such a frame is no object), gets
  rule 9's name of that local as its U.
- Rule 7: a cell whose one edge is from a tuple whose one edge is from
  a function (exactly FunctionType) whose __closure__ is that tuple is
  "cell 'VAR' of function M.FUNC": VAR the code's co_freevars[i] for
  the cell at index i (when there are as many as cells), M the
  function's __module__ (when a str), FUNC its code's co_qualname
  (3.11+) or co_name; no "of U".  The tuple must be one a module
  reaches (the payload names a closure from the function its walk came
  to the tuple from; for a tuple no module reaches that depends on the
  order of its walk: an anomaly here).  Any other cell: "cell of U" or
  "cell".
- Rule 9: the worker thread's local 'mine' holds one target, as the
  payload names it (local_group()); 3.7+: one reference more, not an
  edge; 3.6: the running frame is an object, and its edge to ANY of its
  locals is so named (a group's U, a path's step): to 'mine', and to
  the list in its local 'bag', which nothing else holds, and which
  holds one target: "list items of thread 'T' worker() local 'bag'
  (owners.py:LINE)" on every version (3.7+ through the rule above).
  Other edges of a running frame (f_back, f_globals, ...) stay "frame
  (C)".  The locals known are worker()'s, whose ids it records itself
  (LOCALS; build() checks that it records every one): no other frame
  (the main thread's module level, threading's) holds in a local what
  no module reaches, or a container of targets, and asking the frames
  for their locals would make objects the snapshot would see (f_locals
  dicts, 3.11+'s frame objects); 3.6's running frames come from
  sys._current_frames(), which makes nothing then.
- Rule 10: a target is "outside the object graph" when its reference
  count (sys.getrefcount, calibrated on an object held by one known
  reference, minus the reference's own one) is above its incoming edges
  and its rule 9 references.
- Paths: roots are the values of sys.modules that are module objects
  (isinstance of ModuleType), in order, all at distance 0; "dist" is the
  distance of a breadth-first search from them.  The length of
  a path is in edges: a step that skips a dict (a module's, a class's,
  an instance's own __dict__) stands for two edges, every other step
  for one.  A path is valid when its steps follow a chain of the graph,
  each step named as the contract says for that hop, that is a shortest
  chain from some module to the path's id.  A module step needs a str
  key ("module M . name"); a non-str key of a module, class or instance
  dict gives no step (never seen here).
- Second-tier paths, to targets no module reaches ("dist2", with its
  tier "tier2"), in two tiers, each a breadth-first search from all its
  roots at distance 0 over the objects no module reaches (and no
  earlier tier did):
  "local": the roots are the objects no module reaches that a local of
  a thread's running function holds, a frame that is no object of the
  graph (3.7+; none in 3.6);
  "outside": then the roots are the objects left whose reference count
  (calibrated as for rule 10) is above the edges into it while these
  are fewer than 2 (the payload counts none, one or more: an object
  with 2 or more edges is never such a root), or that are immortal
  (3.12+: the low 32 bits of the count, signed, negative).  In 3.6 that
  includes the running frames, held by the C stack.
  Targets no search reaches (the garbage cycle) get no path;
  unreachable still counts every target no module reaches.  A second-
  tier path is a root step naming its root, 0 edges, then hop steps
  named as for module paths (the last the type), along a shortest
  chain of its tier from one of its roots.  The root step: for a local
  root, rule 9's name of the local holding it (the first: in slot
  order); for an outside one, none when it is a frame a thread is
  running (3.6: the path starts with the hop from the frame, named as
  rule 9 says above), else "outside the object graph".
- The samples are valid when they are min(N, reachable targets)
  distinct targets, reachable meaning with dist or dist2, the nearest by
  (tier, distance), the tiers in the order module, local, outside: every
  target a module reaches before any other, each tier by its distance
  (ties broken anyhow).

REF_JSON: {"types": {TYPE: {count, bytes, shared, unreachable, held:
[[name, count, bytes]], targets: {id: {dist, dist2, tier2, size, label,
groups, rc, edges}}}}, "hops"/"hops2": {node: [[node, step text,
edges]]} for every node on a shortest path from a module / a second
root to a target, "roots": [module], "roots2": {second root: its root
step or null}, ...}: ids as decimal strings; dist2 and tier2 ("local"
or "outside") are null for a target a module reaches or that no search
reaches.  The victim checks its second-tier paths against what it
built (expect_tier2()) too.

To make that naming possible without reading memory, the reference first
asks every object's __dict__ through its type's own descriptor (3.11+:
that materializes the managed dicts of instances, so the snapshot sees
them too; before 3.11 it creates the empty __dict__ of functions and
the like), except for the one instance kept with inline values on
purpose (INLINE, a __main__.Box), whose attribute names the victim
knows: it is the one instance with inline values and no __dict__ (3.11+;
in 3.13.0 the others keep their values inline too).  This happens before the reference is computed and before the
snapshot, so both see the same heap.
"""
import collections
import functools
import gc
import json
import os
import sys
import threading
import time
import types

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import oracle  # noqa: E402

try:
    import ctypes
except ImportError:  # then the held-only-by-C case is left out
    ctypes = None

TYPES = ('__main__.Session', '__main__.Token')
OUTSIDE = 'outside the object graph'
# 3.7+: a running frame is no object of the graph and its locals are
# references of their own; in 3.6 it is one, and its edge to the local's
# value is named the same.
FRAMES = sys.version_info >= (3, 7)
LOCAL_ID = LOCAL_GROUP = None
LOCALS = {}  # worker()'s locals: {name: id of the value}
HEAPTYPE = 1 << 9
MANAGED_DICT = 1 << 4  # 3.11+
V311 = sys.version_info >= (3, 11)
V312 = sys.version_info >= (3, 12)


class Session(object):
    def __init__(self, name):
        self.name = name


class SubSession(Session):
    """Not a target: a subclass."""


class Token(object):
    __slots__ = ('value', '__weakref__')

    def __init__(self, value):
        self.value = value


class Registry(object):
    sessions = []


class Holder(object):
    """Its instance gets a __dict__ of its own (assigned)."""


class Box(object):
    """Its one instance keeps inline values (3.11+): never ask its
    __dict__."""

    def __init__(self, session):
        self.session = session
        self.label = 'box'


BOX_ATTRS = ('session', 'label')


class Slotted(object):
    __slots__ = ('session', 'token')


def make_closure():
    held = Session('closure')

    def get():
        return held
    return get


@functools.lru_cache(maxsize=8)
def lookup(i):
    return Session('cached-%d' % i)


def worker(started, block):
    global LOCAL_ID, LOCALS
    mine = Session('thread-local')  # only this frame's local
    bag = [Session('bag')]  # a container only this frame holds
    LOCAL_ID = id(mine)
    LOCALS = {'started': id(started), 'block': id(block), 'mine': id(mine),
              'bag': id(bag)}
    started.set()
    block.wait()  # the worker waits here (local_line)
    return mine, bag


def local_line():
    """The line where worker() waits, from the source: asking the
    running frame for it (sys._current_frames()) would make the frame
    objects of 3.11+, objects the snapshot would then see."""
    with open(worker.__code__.co_filename) as f:
        for n, text in enumerate(f, 1):
            if text.strip().startswith('block.wait()  # the worker waits'):
                return n
    raise SystemExit('owners.py: no waiting line in the source')


def local_group(var='mine'):
    """The holder of worker()'s local var: its thread (by name), function
    (qualified name 3.11+, which is the same here), variable, file and
    line.  Also the root step of a path from what the local holds."""
    return "thread '%s' %s() local '%s' (%s:%d)" % (
        THREAD.name, worker.__name__, var,
        os.path.basename(worker.__code__.co_filename), local_line())


def make_cycle():
    a = Session('cycle-a')
    b = Session('cycle-b')
    a.peer = b
    b.peer = a


def make_static():
    """A Session whose one reference is a count taken in C."""
    s = Session('static')
    ctypes.pythonapi.Py_IncRef(ctypes.py_object(s))
    return id(s)


ODD = 'odd\tname\u200b'
CAFE = 'caf\u00e9'


def build():
    global SESSIONS, SESSION_LIST, SESSION_SET, SESSION_TUPLE, CURRENT
    global HOLDER, INLINE, SLOTTED, GETTER, QUEUE, TOKENS, TOKEN_LIST
    global NESTED, STATIC_ID, THREAD, BLOCK, FILLER, LOCAL_GROUP
    SESSIONS = {'u1': Session('u1'), 'u2': Session('u2'),
                'u3': Session('u3')}
    shared = Session('shared')
    SESSION_LIST = [Session('l1'), shared, SubSession('sub')]
    SESSION_SET = {shared, Session('set1')}
    SESSION_TUPLE = tuple([Session('t1'), Session('t2')])
    CURRENT = Session('current')
    CURRENT.token = Token(5)
    Registry.sessions.append(Session('r1'))
    Registry.current = Session('r2')
    HOLDER = Holder()
    HOLDER.__dict__ = {'session': Session('holder'), 'note': 'own dict'}
    INLINE = Box(Session('inline'))
    SLOTTED = Slotted()
    SLOTTED.session = Session('slot')
    SLOTTED.token = Token(1)
    GETTER = make_closure()
    QUEUE = collections.deque([Session('q1'), Session('q2')])
    lookup(1)
    lookup(2)
    make_cycle()
    STATIC_ID = make_static() if ctypes is not None else None
    TOKENS = {Token(2): 'two', Token(3): 'three'}
    TOKEN_LIST = [Token(4)]
    NESTED = {'tenants': [{'acme': Session('deep')}],
              'by_number': {42: Session('number')},
              'long': {'k' * 50: Session('long-key')}}
    # u1 again, farther: its paths still go through SESSIONS.
    NESTED['tenants'][0]['again'] = SESSIONS['u1']
    # Names that the snapshot file escapes (a tab, U+200B) or not (an
    # e with an accent): in holders' names and in path steps.
    NESTED['odd'] = {'tab\tkey': Session('tab-key')}
    globals()[ODD] = Session('odd')
    globals()[CAFE] = Session('cafe')
    FILLER = [Session('bulk-%d' % i) for i in range(5)]
    started = threading.Event()
    BLOCK = threading.Event()
    THREAD = threading.Thread(target=worker, args=(started, BLOCK))
    THREAD.daemon = True
    THREAD.start()
    started.wait()
    code = worker.__code__
    if sorted(LOCALS) != sorted(code.co_varnames + code.co_cellvars
                                + code.co_freevars):
        raise SystemExit('owners.py: worker() does not record all its '
                         'locals in LOCALS')
    LOCAL_GROUP = local_group()
    del started, shared
    # Wait until the worker sleeps in BLOCK.wait(), its waiter lock in
    # the condition's list, so that the heap no longer changes.
    while not BLOCK._cond._waiters:
        time.sleep(0.01)
    time.sleep(0.2)


def inline_ids():
    return {id(INLINE): BOX_ATTRS} if V311 else {}


# --- the reference ------------------------------------------------------
def mro(t):
    """t's MRO; () for a type without one (3.6 has such)."""
    return type.__dict__['__mro__'].__get__(t) or ()


def dict_getter(t):
    """The __dict__ descriptor of type t's MRO (getset or member), or
    None."""
    for k in mro(t):
        d = type.__dict__['__dict__'].__get__(k).get('__dict__')
        if d is not None:
            if type(d) in (types.GetSetDescriptorType,
                           types.MemberDescriptorType):
                return d
            return None
    return None


def materialize(skip):
    """Asks every object's __dict__ once (see the module's doc)."""
    objs = gc.get_objects()
    for x in objs:
        if id(x) in skip or isinstance(x, type):
            continue
        g = dict_getter(type(x))
        if g is None:
            continue
        try:
            g.__get__(x, type(x))
        except Exception:
            pass
    del objs, x


class Graph(object):
    pass


def running_frames():
    """3.6: the ids of the frames the threads are running, objects of the
    graph then (the payload's running frames; reading them makes
    nothing); empty from 3.7 on (and it must be: 3.11+ would make frame
    objects)."""
    ids = set()
    if FRAMES:
        return ids
    for f in sys._current_frames().values():
        while f is not None:
            if f.f_code is not running_frames.__code__:  # (then gone)
                ids.add(id(f))
            f = f.f_back
    return ids


def dict_owners(objs, inline):
    """Whose __dict__ each dict of the graph is: {id(dict): ('module'|
    'class'|'instance', owner's id)}."""
    owner = {}
    mod_dict = types.ModuleType.__dict__['__dict__']
    type_dict = type.__dict__['__dict__']
    for i, x in objs.items():
        if i in inline:
            continue
        try:
            if isinstance(x, types.ModuleType):
                d, kind = mod_dict.__get__(x), 'module'
            elif isinstance(x, type):
                if not type.__dict__['__flags__'].__get__(x) & HEAPTYPE:
                    continue
                d = gc.get_referents(type_dict.__get__(x))[0]
                kind = 'class'
            else:
                gt = dict_getter(type(x))
                if gt is None:
                    continue
                d, kind = gt.__get__(x, type(x)), 'instance'
        except Exception:
            continue
        if isinstance(d, dict) and objs.get(id(d)) is d:
            owner[id(d)] = (kind, i)
    return owner


def tname(t):
    return oracle.type_name(t).decode('utf-8', 'surrogatepass')


def _rc(d, k):
    return sys.getrefcount(d[k])


class _Probe(object):
    pass


def bfs(adj, roots, skip):
    """{node: distance} of a breadth-first search from roots, all at 0,
    over the nodes that none of the maps in skip has."""
    dist = {}
    level = []
    for i in roots:
        if i not in dist:
            dist[i] = 0
            level.append(i)
    n = 0
    while level:
        n += 1
        nxt = []
        for p in level:
            for c in adj[p]:
                if c in dist:
                    continue
                for d in skip:
                    if c in d:
                        break
                else:
                    dist[c] = n
                    nxt.append(c)
        level = nxt
    return dist


def local_vars():
    """[(VAR, id)] of the locals of worker()'s running frame, in slot
    order (co_varnames, co_cellvars, co_freevars): the only frame whose
    locals matter here, and which records them itself (LOCALS; build()
    checks that it records them all)."""
    code = worker.__code__
    return [(v, LOCALS[v]) for v in code.co_varnames + code.co_cellvars
            + code.co_freevars if v in LOCALS]


def local_holding(i):
    """Rule 9's name of the first local of worker()'s running frame that
    holds node i (as the payload finds it: the first slot), or None."""
    for var, v in local_vars():
        if v == i:
            return local_group(var)
    return None


def local_roots(g):
    """The roots of the local tier (3.7+): the objects no module reaches
    that a local of a thread's running frame holds, a frame that is no
    object of the graph (3.6: none; its running frames are objects)."""
    roots = []
    for var, v in local_vars() if FRAMES else ():
        if v in g.objs and v not in g.dist:
            roots.append(v)
    return roots


def immortal(g, i):
    """3.12+: node i is immortal (the low 32 bits of its reference count,
    as a signed number, are negative), for node i that no module
    reaches (g.rcu, calibrated: g.base added back)."""
    return V312 and ((g.rcu[i] + g.base) & 0xffffffff) >= 1 << 31


def held_outside(g, i):
    """Node i (no module reaches it) is a root of the outside tier: its
    reference count is above the edges into it, which the payload tells
    apart as none, one, or more (more: never such a root), or it is
    immortal."""
    e = g.indeg.get(i, 0)
    return immortal(g, i) or (e < 2 and g.rcu[i] > e)


CellType = type(make_closure().__closure__[0])
SEQ = (list, tuple, collections.deque)
SETS = (set, frozenset)


def compute(ignore, inline):
    """The reference: {type: {...}} and the hops of shortest paths."""
    g = Graph()
    frame = sys._getframe()
    running = running_frames()
    roots = gc.get_objects()
    objs = {}
    adj = {}
    seen = set()
    stack = []
    g.objs, g.adj, g.running = objs, adj, running
    for o in (roots, objs, adj, seen, stack, frame, g, ignore, running) + \
            tuple(ignore):
        seen.add(id(o))
    referents = gc.get_referents
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack.append(root)
        while stack:
            o = stack.pop()
            objs[id(o)] = o
            rs = referents(o)
            adj[id(o)] = [id(r) for r in rs]
            for r in rs:
                if id(r) not in seen:
                    seen.add(id(r))
                    stack.append(r)
    del roots, stack, root, o, rs, r, frame
    # Every edge between nodes (the bookkeeping is no node).  A loop, not
    # a comprehension: before 3.12 that would make objs a cell, an object
    # of the graph that objs then holds, a cycle that would outlive this
    # call (the collector is off) and hold every object.
    for i in adj:
        kept = []
        for c in adj[i]:
            if c in objs:
                kept.append(c)
        adj[i] = kept
    indeg = {}
    first_ref = {}
    for p, cs in adj.items():
        for c in cs:
            indeg[c] = indeg.get(c, 0) + 1
            if c not in first_ref:
                first_ref[c] = p
    g.indeg, g.first_ref, g.inline = indeg, first_ref, inline
    owner = g.owner = dict_owners(objs, inline)
    g.own_dict = dict((o[1], d) for d, o in owner.items())
    # Distances from the modules, breadth first.
    dist = bfs(adj, [id(m) for m in list(sys.modules.values())
                     if isinstance(m, types.ModuleType) and id(m) in objs],
               ())
    g.dist = dist
    # The second roots, in two tiers over the objects no module reaches
    # (rcu: their reference counts, before anything here refers to a
    # node): first the values of the threads' locals (3.7+), then, for
    # what those do not reach, the objects held from outside the graph.
    cal = {0: _Probe()}
    base = _rc(cal, 0)
    rcu = {}
    for i in objs:
        if i not in dist:
            rcu[i] = _rc(objs, i) - base
    g.rcu, g.base = rcu, base
    dist_l = bfs(adj, local_roots(g), (dist,))
    roots_o = []
    for i in objs:
        if i not in dist and i not in dist_l and held_outside(g, i):
            roots_o.append(i)
    dist_o = bfs(adj, roots_o, (dist, dist_l))
    dist2 = dict(dist_l)
    dist2.update(dist_o)
    g.dist2 = dist2
    del roots_o
    # The targets, their groups.
    want = dict((name, []) for name in TYPES)
    names = {}
    for i, o in objs.items():
        t = type(o)
        nm = names.get(t)
        if nm is None:
            nm = names[t] = tname(t)
        if nm in want:
            want[nm].append(i)
    del o, t
    rc = {}
    for ids in want.values():
        for i in ids:
            rc[i] = _rc(objs, i) - base
    ref_into = {}  # target -> holders
    tset = g.tset = set(i for ids in want.values() for i in ids)
    for p, cs in adj.items():
        for c in cs:
            if c in tset:
                ref_into.setdefault(c, set()).add(p)
    result = {'types': {}, 'anomalies': []}
    g.anomalies = result['anomalies']
    for name, ids in want.items():
        groups = {}
        targets = {}
        shared = unreachable = nbytes = 0
        for i in ids:
            o = objs[i]
            size = sys.getsizeof(o)
            nbytes += size
            mine = set()
            for p in ref_into.get(i, ()):
                mine.update(group_names(g, p, i))
            local = 1 if FRAMES and i == LOCAL_ID else 0
            if local:
                mine.add(LOCAL_GROUP)
            excess = rc[i] - indeg.get(i, 0) - local
            if excess > 0:
                mine.add(OUTSIDE)
            elif excess < 0:
                result['anomalies'].append(
                    '%s %d: reference count %d below %d incoming edges'
                    % (name, i, rc[i], indeg.get(i, 0)))
            if len(mine) > 1:
                shared += 1
            if i not in dist:
                unreachable += 1
            for m in mine:
                grp = groups.setdefault(m, [0, 0])
                grp[0] += 1
                grp[1] += size
            targets[str(i)] = {'dist': dist.get(i), 'dist2': dist2.get(i),
                               'tier2': ('local' if i in dist_l else
                                         'outside' if i in dist_o else
                                         None),
                               'size': size,
                               'label': label(o),
                               'groups': sorted(mine, key=key_bytes),
                               'rc': rc[i], 'edges': indeg.get(i, 0)}
        held = sorted(([k, v[0], v[1]] for k, v in groups.items()),
                      key=lambda h: (-h[2], -h[1], key_bytes(h[0])))
        result['types'][name] = {
            'count': len(ids), 'bytes': nbytes, 'shared': shared,
            'unreachable': unreachable, 'held': held, 'targets': targets}
    # The hops of every shortest path to a target: from the modules,
    # and from the second roots to those no module reaches, tier by tier
    # (each root with its root step; no node is in two tiers).
    result['hops'], result['roots'] = path_hops(g, tset, dist)
    result['hops2'], result['roots2'] = {}, {}
    for tier, d in (('local', dist_l), ('outside', dist_o)):
        hops, roots2 = path_hops(g, tset, d)
        result['hops2'].update(hops)
        for r in roots2:  # (a generator would make g a cell: see above)
            result['roots2'][r] = root_step(g, int(r), tier)
    # No cycle through the bookkeeping may outlive the call.
    for c in (objs, adj, indeg, first_ref, owner, g.own_dict, dist, dist2,
              dist_l, dist_o, rcu, rc, ref_into, tset, g.__dict__):
        c.clear()
    return result


def label(o):
    """What the victim named a target (its name or value attribute),
    for the reports; asking an attribute materializes no __dict__."""
    for attr in ('name', 'value'):
        try:
            return repr(object.__getattribute__(o, attr))
        except AttributeError:
            pass
    return '?'


def key_bytes(s):
    return s.encode('utf-8', 'surrogatepass')


def dict_items(d):
    return list(dict.items(d))


def slot_names(g, p, c):
    """Rule 4: P's slots (member descriptors of its MRO) and inline
    values that hold C."""
    o, t = g.objs[p], type(g.objs[p])
    found = []
    for k in mro(t):
        kd = type.__dict__['__dict__'].__get__(k)
        if not (type.__dict__['__flags__'].__get__(k) & HEAPTYPE
                and '__slots__' in kd):
            continue  # not a class statement with __slots__
        for attr, d in list(kd.items()):
            if type(d) is not types.MemberDescriptorType:
                continue
            try:
                v = d.__get__(o, t)
            except Exception:
                continue
            if v is g.objs[c]:
                found.append(d.__name__)
    if V311 and type.__dict__['__flags__'].__get__(t) & MANAGED_DICT:
        own = g.own_dict.get(p)
        if own is None and p in g.inline:
            for attr in g.inline[p]:
                try:
                    if object.__getattribute__(o, attr) is g.objs[c]:
                        found.append(attr)
                except AttributeError:
                    pass
        elif own is not None and own not in g.adj[p]:
            for attr, v in dict_items(g.objs[own]):
                if type(attr) is str and v is g.objs[c]:
                    found.append(attr)
    return [tname(t) + '.' + a for a in found]


def edge_names(g, p, c):
    """([names], rule is 5-7 (wants "of U")) of the edge P -> C."""
    o = g.objs[p]
    co = g.objs[c]
    if p in g.owner:
        kind, x = g.owner[p]
        keys = [k for k, v in dict_items(o) if type(k) is str and v is co]
        if keys:
            if kind == 'module':
                m = o.get('__name__')
                m = m if type(m) is str else '?'
                return [m + '.' + k for k in keys], False
            if kind == 'class':
                return ['class %s.%s' % (tname(g.objs[x]), k)
                        for k in keys], False
            return [tname(type(g.objs[x])) + '.' + k for k in keys], False
    names = slot_names(g, p, c)
    if names:
        return names, False
    t = type(o)
    if isinstance(o, dict):
        items = dict_items(o)
        if any(v is co for k, v in items):
            names.append(tname(t) + ' values')
        if any(k is co for k, v in items):
            names.append(tname(t) + ' keys')
        if names:
            return names, True
    if isinstance(o, SEQ + SETS):
        it = {list: list.__iter__, tuple: tuple.__iter__,
              collections.deque: collections.deque.__iter__,
              set: set.__iter__, frozenset: frozenset.__iter__}
        for base, f in it.items():
            if isinstance(o, base):
                if any(v is co for v in f(o)):
                    return [tname(t) + ' items'], True
    if t is CellType:
        return ['cell'], True
    local = frame_local(g, p, c)
    if local is not None:
        return [local], False
    return [tname(t) + ' (C)'], False


def group_names(g, p, c):
    names, wants_of = edge_names(g, p, c)
    if not wants_of:
        return names
    closure = closure_name(g, p)
    if closure is not None:
        return [closure]
    n = g.indeg.get(p, 0)
    if n == 1:
        up = sorted(edge_names(g, g.first_ref[p], p)[0], key=key_bytes)
        if up:
            return [x + ' of ' + up[0] for x in names]
    elif n == 0 and FRAMES and g.rcu.get(p) == 1:
        # no edge, one reference: a thread's local holding it (rule 9)
        local = local_holding(p)
        if local is not None:
            return [x + ' of ' + local for x in names]
    return names


def closure_name(g, p):
    """Rule 7's "cell 'VAR' of function M.FUNC" for the cell P whose one
    edge is from a tuple whose one edge is from a function whose
    __closure__ it is: VAR the free variable of the cell's index, M the
    function's __module__ (left out, with its dot, when no str), FUNC
    its code's co_qualname (3.11+) or co_name; None for anything else.
    The tuple must be one a module reaches: the payload names a closure
    from the function its walk came to the tuple from, which for one no
    module reaches depends on the order of its walk (an anomaly here;
    none is built)."""
    cell = g.objs[p]
    if type(cell) is not CellType or g.indeg.get(p, 0) != 1:
        return None
    q = g.first_ref[p]
    tup = g.objs[q]
    if type(tup) is not tuple or g.indeg.get(q, 0) != 1:
        return None
    fn = g.objs[g.first_ref[q]]
    if type(fn) is not types.FunctionType or fn.__closure__ is not tup:
        return None
    if q not in g.dist:
        g.anomalies.append('cell %d: a closure that no module reaches '
                           '(its name depends on the walk)' % p)
        return None
    code = fn.__code__
    if len(code.co_freevars) != len(tup):
        return None
    for i, x in enumerate(tup):
        if x is cell:
            break
    mod = fn.__module__
    return "cell '%s' of function %s%s" % (
        code.co_freevars[i], mod + '.' if type(mod) is str else '',
        code.co_qualname if V311 else code.co_name)


def hop_texts(g, u, v):
    """The step texts of the one-edge hop u -> v (u not skipping a
    dict)."""
    o, co = g.objs[u], g.objs[v]
    t = type(o)
    out = slot_names(g, u, v)
    if out:
        return out
    if isinstance(o, dict):
        for k, val in dict_items(o):
            if val is co:
                if type(k) is str and len(key_bytes(k)) <= 40:
                    out.append("%s['%s']" % (tname(t), k))
                else:
                    out.append('%s[<%s>]' % (tname(t), tname(type(k))))
            if k is co:
                out.append('%s key' % tname(t))
        if out:
            return out
    if isinstance(o, SEQ):
        for base in SEQ:
            if isinstance(o, base):
                for i, val in enumerate(base.__iter__(o)):
                    if val is co:
                        out.append('%s[%d]' % (tname(t), i))
        if out:
            return out
    if isinstance(o, SETS):
        for base in SETS:
            if isinstance(o, base) and any(val is co
                                           for val in base.__iter__(o)):
                return ['%s item' % tname(t)]
    if t is CellType:
        return ['cell']
    local = frame_local(g, u, v)
    if local is not None:
        return [local]
    return ['%s (C)' % tname(t)]


def frame_local(g, p, c):
    """3.6: rule 9's name of the edge from a thread's running frame P (an
    object of the graph then) to C in one of its locals, any C (the
    first local, in slot order); None for anything else (then "frame
    (C)").  The locals known are worker()'s (local_vars()): no other
    running frame holds in a local what a group or a path here names."""
    if p not in g.running:
        return None
    if g.objs[p].f_code is not worker.__code__:  # a member, nothing made
        return None
    return local_holding(c)


def root_step(g, r, tier):
    """The root step of a path from r, a root of tier 'local' or
    'outside': for a local one, rule 9's name of the local that holds it
    (the first, local_holding()); for one held from outside, none when
    it is a frame a thread is running (3.6: the path starts with the
    hop from it), else OUTSIDE."""
    if tier == 'local':
        return local_holding(r)
    if r in g.running:
        return None
    return OUTSIDE


def path_hops(g, tset, dist):
    """{u: [[w, text, edges], ...]} for every node u on a shortest path
    to a target, and the roots among them (distance 0): dist is g.dist
    (from the modules) or g.dist2 (from the second roots)."""
    adj = g.adj
    # Nodes from which a target is reached along edges that each go one
    # level further (so on a shortest path to it).
    on = set(t for t in tset if t in dist)
    preds = {}
    for u, cs in adj.items():
        du = dist.get(u)
        if du is None:
            continue
        for c in cs:
            if dist.get(c) == du + 1:
                preds.setdefault(c, set()).add(u)
    todo = list(on)
    while todo:
        c = todo.pop()
        for u in preds.get(c, ()):
            if u not in on:
                on.add(u)
                todo.append(u)
    hops = {}
    for u in on:
        du = dist[u]
        out = []
        for v in set(adj[u]):
            if v not in on or dist[v] != du + 1:
                continue
            own = g.owner.get(v)
            if own is not None and own[1] == u:
                # module/class/instance -> its __dict__ -> value: one step
                kind = own[0]
                d = g.objs[v]
                for w in set(adj[v]):
                    if w not in on or dist[w] != du + 2:
                        continue
                    for k, val in dict_items(d):
                        if type(k) is not str or val is not g.objs[w]:
                            continue
                        if kind == 'module':
                            m = d.get('__name__')
                            text = 'module %s . %s' % (
                                m if type(m) is str else '?', k)
                        elif kind == 'class':
                            text = 'class %s.%s' % (tname(g.objs[u]), k)
                        else:
                            text = '%s.%s' % (tname(type(g.objs[u])), k)
                        out.append([str(w), text, 2])
                continue
            for text in hop_texts(g, u, v):
                out.append([str(v), text, 1])
        hops[str(u)] = sorted(out)
    roots = sorted(str(u) for u in on if dist[u] == 0)
    return hops, roots


# What the victim built, in the reference's terms: a reference that says
# otherwise is wrong (the victim then exits 3 and never gets ready).
EXPECT = {
    '__main__.Session': {
        'count': 35, 'shared': 2, 'unreachable': 5,
        'held': {
            'list items of __main__.FILLER': 5,
            'dict values of __main__.SESSIONS': 3,
            '__main__.Session.peer': 2,
            'collections.deque items of __main__.QUEUE': 2,
            'dict values of dict values': 3,
            '__main__.' + ODD: 1,
            '__main__.' + CAFE: 1,
            'dict values of list items': 2,
            'list items of __main__.SESSION_LIST': 2,
            'set items of __main__.SESSION_SET': 2,
            'tuple items of __main__.SESSION_TUPLE': 2,
            '__main__.Box.session': 1,
            '__main__.CURRENT': 1,
            '__main__.Holder.session': 1,
            '__main__.Slotted.session': 1,
            # make_closure()'s cell, named by its free variable
            "cell 'held' of function __main__." + (
                'make_closure.<locals>.get' if V311 else 'get'): 1,
            'class __main__.Registry.current': 1,
            'list items of class __main__.Registry.sessions': 1,
            # lru_cache's results: its links are objects of the graph
            # only in 3.6
            ('functools._lru_list_elem (C)' if sys.version_info < (3, 7)
             else 'functools._lru_cache_wrapper (C)'): 2,
            # the Session held by C (the thread's local: see main())
            OUTSIDE: 1}},
    '__main__.Token': {
        'count': 5, 'shared': 0, 'unreachable': 0,
        'held': {
            'dict keys of __main__.TOKENS': 2,
            '__main__.Session.token': 1,
            '__main__.Slotted.token': 1,
            'list items of __main__.TOKEN_LIST': 1}}}
if ctypes is None:
    EXPECT['__main__.Session']['held'][OUTSIDE] -= 1
    EXPECT['__main__.Session']['count'] -= 1
    EXPECT['__main__.Session']['unreachable'] -= 1


def expect_tier2():
    """The Sessions no module reaches, by label: (their second tier,
    their distance in it, their shortest paths' steps without the
    type's)."""
    bag = [local_group('bag'), 'list[0]']
    if FRAMES:  # the locals are references of their own: the local tier
        want = {"'thread-local'": ('local', 0, [[local_group('mine')]]),
                "'bag'": ('local', 1, [bag])}
    else:  # from the running frame, held from outside: no root step
        want = {"'thread-local'": ('outside', 1, [[local_group('mine')]]),
                "'bag'": ('outside', 2, [bag])}
    want["'cycle-a'"] = want["'cycle-b'"] = (None, None, [])
    if ctypes is not None:
        want["'static'"] = ('outside', 0, [[OUTSIDE]])
    return want


def tier2_chains(ref, target, dist2):
    """The step texts (the type's left out) of every chain of the
    reference's second-tier hops, from a second root, of dist2 edges
    to target."""
    hops = ref['hops2']
    out = []

    def walk(u, edges, steps):
        if u == target and edges == dist2:
            out.append(steps)
        elif edges < dist2:
            for w, text, e in hops.get(u, ()):
                walk(w, edges + e, steps + [text])
    for r, text in sorted(ref['roots2'].items()):
        walk(r, 0, [] if text is None else [text])
    return sorted(out)


def unexpected(ref):
    """How ref differs from EXPECT and expect_tier2(), one line each."""
    bad = []
    tier2 = expect_tier2()
    for i, t in sorted(ref['types']['__main__.Session']['targets'].items()):
        if t['dist'] is not None:
            continue
        want = tier2.pop(t['label'], None)
        got = (t['tier2'], t['dist2'], tier2_chains(ref, i, t['dist2'])
               if t['dist2'] is not None else [])
        if got != want:
            bad.append('__main__.Session %s (%s): second tier %s, distance '
                       '%s, paths %s; expected %s'
                       % ((i, t['label']) + got + (want,)))
    for label in sorted(tier2):
        bad.append('__main__.Session %s: a module reaches it, or it is no '
                   'target' % label)
    for name, want in sorted(EXPECT.items()):
        got = ref['types'][name]
        for k in ('count', 'shared', 'unreachable'):
            if got[k] != want[k]:
                bad.append('%s: %s %d, expected %d' % (name, k, got[k],
                                                       want[k]))
        held = dict((h[0], h[1]) for h in got['held'])
        for h in sorted(set(held) | set(want['held'])):
            if held.get(h) != want['held'].get(h):
                bad.append('%s: held by %s: %s objects, expected %s'
                           % (name, h, held.get(h), want['held'].get(h)))
    return bad + ref['anomalies']


def write_file(path, text):
    tmp = path + '.tmp'
    with open(tmp, 'w') as f:
        f.write(text)
    os.rename(tmp, path)


def main():
    ref_path = sys.argv[1]
    ready = sys.argv[2] if len(sys.argv) > 2 else None
    if len(sys.argv) > 3:
        import ctypes  # noqa: F401  (before the reference)
    gc.collect()
    gc.disable()
    build()
    EXPECT['__main__.Session']['held'][LOCAL_GROUP] = 1
    # worker()'s bag, a list only that local holds: no edge into it and
    # one reference (3.7+), or one edge, the running frame's (3.6)
    EXPECT['__main__.Session']['held'][
        'list items of ' + local_group('bag')] = 1
    inline = inline_ids()
    materialize(inline)
    oracle.settle()
    ref = compute((sys.argv, sys._getframe()) + tuple(sys.argv), inline)
    # Once more: the same unless the first left something behind (then
    # so would the snapshot see it).
    again = compute((sys.argv, sys._getframe(), ref) + tuple(sys.argv),
                    inline)
    if again != ref:
        sys.stderr.write('owners.py: a second reference differs from the '
                         'first: the first left objects behind\n')
        sys.exit(3)
    del again
    ref['python'] = sys.version.split()[0]
    ref['debug'] = hasattr(sys, 'gettotalrefcount')
    ref['pid'] = os.getpid()
    ref['static_id'] = STATIC_ID
    bad = unexpected(ref)
    if bad:
        sys.stderr.write('owners.py: the reference is not what was built:\n'
                         + ''.join('  %s\n' % b for b in bad))
        sys.exit(3)
    text = json.dumps(ref, sort_keys=True, indent=1)
    del ref
    write_file(ref_path, text)
    del text
    if ready:
        write_file(ready, str(os.getpid()))
    sys.stdout.write('ready\n')
    sys.stdout.flush()


main()
if len(sys.argv) > 3:
    sys.modules['ctypes'].PyDLL(None).sleep(int(sys.argv[3]))
while True:
    time.sleep(3600)
