"""In-process reference for muppy-snap, imported by the test victims.

summary() applies muppy-snap's rules from inside the process: every object
the garbage collector tracks (also those gc.freeze() put in the permanent
generation, which gc.get_objects() skips) plus everything reachable from them through
gc.get_referents (tp_traverse), transitively, each once; bytes are
sys.getsizeof; the type is named as repr(type) names it (module.qualname,
builtins by the plain name), read through type's own descriptors so that
a metaclass cannot change it.  The oracle's own bookkeeping is marked as
seen before the walk so it does not count itself, and so are the objects
the caller passes as ignore: its own, which exist only while it asks.
"""
import gc
import sys

_module = type.__dict__['__module__']
_qualname = type.__dict__['__qualname__']


def type_name(t):
    """The type's name as bytes, exactly as the payload builds it."""
    try:
        q = _qualname.__get__(t)
    except Exception:
        q = None
    if not isinstance(q, str):
        return t.__name__.encode('utf-8', 'surrogatepass')
    try:
        m = _module.__get__(t)
    except Exception:
        m = None
    q = q.encode('utf-8', 'surrogatepass')
    if isinstance(m, str):
        m = m.encode('utf-8', 'surrogatepass')
        if m != b'builtins':
            return m + b'.' + q
    return q


def settle():
    """Empties the interpreter's type attribute cache.

    Its entries hold strong references to the names looked up.  A name
    built at run time (enum's '_Flag__in_progress') can live on only
    there, and in 3.15's interned-strings dict, which the collector
    tracks; the reference's own lookups then evict it, so it is in a
    snapshot taken before and not in the reference taken after.  Call
    this before the snapshot that summary() is compared with.
    """
    clear = (getattr(sys, '_clear_internal_caches', None)
             or getattr(sys, '_clear_type_cache', None))
    if clear is not None:
        clear()


def summary(collect=True, ignore=(), frozen=True):
    """{name(bytes): [count, bytes]} and the totals (objects, bytes).

    The objects in the sequence ignore, and ignore itself, are not
    counted nor looked into (what only they refer to is not counted).
    With frozen=False the roots are gc.get_objects() alone, as Pympler's:
    what muppy-snap counts when it cannot walk the permanent generation.
    """
    if collect:
        gc.collect()
    if frozen and getattr(gc, 'get_freeze_count', lambda: 0)():
        # Frozen objects are not in gc.get_objects(): thaw, list, freeze
        # again (everything is frozen after that; the totals are the same).
        gc.unfreeze()
        roots = gc.get_objects()
        gc.freeze()
    else:
        roots = gc.get_objects()
    stack = []
    seen = set()
    rows = {}
    names = {}
    frame = sys._getframe()
    for o in (roots, stack, seen, rows, names, frame, ignore) + tuple(ignore):
        seen.add(id(o))
    total_n = total_b = 0
    referents = gc.get_referents
    getsizeof = sys.getsizeof
    for root in roots:
        if id(root) in seen:
            continue
        seen.add(id(root))
        stack.append(root)
        while stack:
            o = stack.pop()
            t = type(o)
            name = names.get(t)
            if name is None:
                name = names[t] = type_name(t)
            try:
                size = getsizeof(o)
            except Exception:
                size = 0
            row = rows.get(name)
            if row is None:
                row = rows[name] = [0, 0]
            row[0] += 1
            row[1] += size
            total_n += 1
            total_b += size
            for r in referents(o):
                if id(r) not in seen:
                    seen.add(id(r))
                    stack.append(r)
    del roots, stack, seen, names, frame
    return rows, total_n, total_b
