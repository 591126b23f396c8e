"""Checks that a file is OpenMetrics text as muppy-snap writes it.

usage: openmetrics.py FILE

Every family has # TYPE before its samples, every sample line is
name{label="value",...} number with values escaped as OpenMetrics says,
the sums of muppy_type_objects and muppy_type_bytes equal muppy_objects
and muppy_bytes, and the file ends with # EOF.
"""
import re
import sys

LABEL = r'[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\\n]|\\\\|\\"|\\n)*"'
SAMPLE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)\{(%s(?:,%s)*)\} '
                    r'(-?[0-9]+(?:\.[0-9]+)?)$' % (LABEL, LABEL))


def main(path):
    lines = open(path, encoding='utf-8').read().split('\n')
    assert lines[-1] == '' and lines[-2] == '# EOF', 'no # EOF at the end'
    typed, sums, totals = set(), {}, {}
    for line in lines[:-2]:
        if line.startswith('# TYPE '):
            name, kind = line.split()[2:4]
            assert kind == 'gauge', line
            assert name not in typed, 'family twice: ' + name
            typed.add(name)
            continue
        if line.startswith('# UNIT ') or line.startswith('# HELP '):
            assert line.split()[2] in typed, 'UNIT/HELP before TYPE: ' + line
            continue
        m = SAMPLE.match(line)
        assert m, 'bad sample line: %r' % line
        name, value = m.group(1), float(m.group(3))
        assert name in typed, 'sample before its TYPE: ' + line
        if name.startswith('muppy_type_'):
            sums[name] = sums.get(name, 0) + value
        else:
            totals[name] = value
    assert sums['muppy_type_objects'] == totals['muppy_objects']
    assert sums['muppy_type_bytes'] == totals['muppy_bytes']
    for need in ('muppy_rss_bytes', 'muppy_walk_seconds',
                 'muppy_snapshot_timestamp_seconds', 'muppy_python_info'):
        assert need in totals, need
    print('%s: %d families' % (path, len(typed)))


main(sys.argv[1])
