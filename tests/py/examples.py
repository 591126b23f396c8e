"""Runs the examples of the man pages and the README's recipes.

usage: examples.py SRCDIR WORKDIR APP_PID BINDIR

Every command of the EXAMPLES section of each man page (as man renders
it: "$ " lines with their continuation lines, and crontab lines) and of
the code blocks of README.md's "## Recipes" section ("$ " lines, crontab
lines, systemd's ExecStart=, bare muppy-* commands; the PromQL alert is
checked with promtool) runs as written, but for these substitutions:

  4242, 14000            the pid of the running app (APP_PID)
  /usr/local/bin/        BINDIR, where the programs are installed
  /var/lib/              WORKDIR/var/lib/
  sleep N                sleep 1
  --interval=10, -i 60   --interval=0.2, -i 0.2 (a watch without --count
                         is stopped after 3 s by SIGINT, as by Ctrl-C)

"$ " commands run with BINDIR first in PATH, in WORKDIR/NAME (one folder
per page, in order, so that an example may use the files an earlier one
wrote); crontab lines as cron runs them (env -i, PATH=/usr/bin:/bin,
"\\%" read as "%"), each by bash -o pipefail.  Each must exit 0 (what
it says on standard error is shown).  A line of a recipe block that
is none of the kinds above is an error, so that a new kind of recipe is
not left out unseen.
"""
import os
import re
import subprocess
import sys

SRC, WORK, APP, BIN = sys.argv[1:5]
CRON = re.compile(r'^(?:[0-9*/,-]+ ){5}(.*)$')
# examples at least per source, so that an extraction that breaks fails
MIN = {'muppy-snap.1': 12, 'muppy-diff.1': 8, 'muppy-cron.1': 1,
       'muppy-snapshot.5': 2, 'README.md': 8}
failures, counts = [], {}


def substitute(cmd):
    cmd = cmd.replace('4242', APP).replace('14000', APP)
    cmd = cmd.replace('/usr/local/bin/', BIN + '/')
    cmd = cmd.replace('/var/lib/', WORK + '/var/lib/')
    cmd = re.sub(r'\bsleep [0-9]+\b', 'sleep 1', cmd)
    cmd = cmd.replace('--interval=10', '--interval=0.2')
    cmd = cmd.replace('-i 60 ', '-i 0.2 ')
    watch = '--interval' in cmd or re.search(r' -i [0-9]', cmd)
    if watch and '--count' not in cmd and not re.search(r' -c [0-9]', cmd):
        # until Ctrl-C: SIGINT after 3 s (the last command of a list)
        head, sep, last = cmd.rpartition('; ')
        cmd = head + sep + 'timeout --preserve-status -s INT 3 ' + last
    return cmd


def run(source, kind, cmd):
    counts[source] = counts.get(source, 0) + 1
    shown = cmd
    cmd = substitute(cmd)
    cwd = os.path.join(WORK, source.replace('.', '-'))
    os.makedirs(cwd, exist_ok=True)
    if kind == 'cron':
        cmd = cmd.replace('\\%', '%')
        env = {'PATH': '/usr/bin:/bin', 'HOME': WORK, 'SHELL': '/bin/sh',
               'LOGNAME': 'root'}
    else:
        env = dict(os.environ)
        env['PATH'] = BIN + ':' + env['PATH']
        env.pop('MUPPY_PAYLOAD', None)
    # bash -o pipefail: a failure inside a pipeline is not hidden by the
    # command at its end (jq)
    try:
        p = subprocess.run(['/bin/bash', '-o', 'pipefail', '-c', cmd],
                           cwd=cwd, env=env, stdin=subprocess.DEVNULL,
                           capture_output=True, timeout=120)
    except subprocess.TimeoutExpired:
        failures.append('%s: %s\n  ran: %s\n  still running after 120 s'
                        % (source, shown, cmd))
        print('%s: %s (%s): timed out' % (source, shown, kind))
        return
    print('%s: %s (%s): exit %d' % (source, shown, kind, p.returncode))
    if p.stderr:
        print(p.stderr.decode(errors='replace').rstrip())
    if p.returncode != 0:
        failures.append('%s: %s\n  ran: %s\n  exit %d\n  stderr: %s' % (
            source, shown, cmd, p.returncode,
            p.stderr.decode(errors='replace')[-2000:]))


def man_examples(page):
    """The commands of a man page's EXAMPLES, as man renders them."""
    env = dict(os.environ, LC_ALL='C', MANWIDTH='1000')
    text = subprocess.run(['man', '-l', page], env=env, check=True,
                          capture_output=True).stdout.decode()
    lines = text.split('\n')
    start = lines.index('EXAMPLES')
    out, cmd = [], None
    for line in lines[start + 1:]:
        if line and not line.startswith(' '):
            break  # the next section
        body = line.strip()
        if cmd is not None and re.search(r'(\||\|\||&&)$', cmd[1]) and \
                line.startswith(' ' * 11):
            cmd[1] += '\n' + body  # continuation of a pipeline
            continue
        if cmd is not None:
            out.append(cmd)
            cmd = None
        if body.startswith('$ '):
            cmd = ['shell', body[2:]]
        elif CRON.match(body):
            cmd = ['cron', CRON.match(body).group(1)]
    if cmd is not None:
        out.append(cmd)
    return out


def readme_recipes():
    """The commands of the blocks of README.md's Recipes section."""
    text = open(os.path.join(SRC, 'README.md'), encoding='utf-8').read()
    section = text.split('\n## Recipes\n', 1)[1].split('\n## ', 1)[0]
    blocks = re.findall(r'^```\n(.*?)^```$', section, re.S | re.M)
    out = []
    for block in blocks:
        if 'deriv(' in block:
            out.append(['promql', block.strip()])
            continue
        for line in block.split('\n'):
            if not line or line.startswith('# '):
                continue
            if line.startswith('$ '):
                out.append(['shell', re.sub(r'\s+# .*$', '', line[2:])])
            elif CRON.match(line):
                out.append(['cron', CRON.match(line).group(1)])
            elif line.startswith('ExecStart='):
                out.append(['cron', line[len('ExecStart='):]])
            elif line.startswith('muppy-'):
                out.append(['shell', line])
            elif re.match(r'^\[[A-Za-z]+\]$|^[A-Za-z]+=', line):
                pass  # the rest of a systemd unit
            else:
                failures.append('README.md: a recipe line of no known '
                                'kind: %r' % line)
    return out


def promql(expr):
    counts['README.md'] = counts.get('README.md', 0) + 1
    rules = os.path.join(WORK, 'alert.rules.yml')
    with open(rules, 'w') as f:
        f.write('groups:\n- name: muppy\n  rules:\n  - alert: HeapLeak\n'
                '    expr: %s\n' % expr.replace('\n', ' '))
    p = subprocess.run(['promtool', 'check', 'rules', rules],
                       capture_output=True)
    print('README.md: %s (promtool check rules): exit %d' % (
        expr, p.returncode))
    if p.returncode != 0:
        failures.append('README.md: PromQL %r: %s' % (
            expr, (p.stdout + p.stderr).decode(errors='replace')))


for page in ('muppy-snap.1', 'muppy-diff.1', 'muppy-cron.1',
             'muppy-snapshot.5'):
    for kind, cmd in man_examples(os.path.join(SRC, 'man', page)):
        run(page, kind, cmd)
for kind, cmd in readme_recipes():
    if kind == 'promql':
        promql(cmd)
    else:
        run('README.md', kind, cmd)
for source, least in MIN.items():
    if counts.get(source, 0) < least:
        failures.append('%s: %d examples found, at least %d expected' % (
            source, counts.get(source, 0), least))
if failures:
    print('\n'.join(['FAILED:'] + failures), file=sys.stderr)
    sys.exit(1)
print('%d examples ran' % sum(counts.values()))
