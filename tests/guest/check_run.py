#!/usr/bin/env python3
"""Run a command and check its exit status, standard output and standard
error exactly (or stderr's first line for a prefix).

usage: check_run.py [--status N] [--stdout TEXT | --stdout-file F |
                     --stdout-from-cmd CMD | --stdout-prefix TEXT]
                    [--stdout-contains TEXT] [--stderr-prefix TEXT]
                    [--stderr-empty] -- command args...

TEXT arguments may contain \\n escapes. --stdout-from-cmd runs another
program (e.g. the native build of a guest workload) and expects the same
output.
"""
import subprocess
import sys


def main(argv):
    i = argv.index('--')
    opts, cmd = argv[:i], argv[i + 1:]
    want = {}
    j = 0
    while j < len(opts):
        key = opts[j]
        want[key] = opts[j + 1] if key != '--stderr-empty' else True
        j += 1 if key == '--stderr-empty' else 2
    r = subprocess.run(cmd, capture_output=True, timeout=120)
    out, err = r.stdout.decode(errors='replace'), r.stderr.decode(errors='replace')
    failures = []
    if '--status' in want and r.returncode != int(want['--status']):
        failures.append(f'status {r.returncode}, expected {want["--status"]}')
    expect_out = None
    if '--stdout' in want:
        expect_out = want['--stdout'].encode().decode('unicode_escape')
    elif '--stdout-file' in want:
        with open(want['--stdout-file']) as f:
            expect_out = f.read()
    elif '--stdout-from-cmd' in want:
        expect_out = subprocess.run([want['--stdout-from-cmd']], capture_output=True,
                                    check=True).stdout.decode()
    if '--stdout-prefix' in want:
        prefix = want['--stdout-prefix'].encode().decode('unicode_escape')
        if not out.startswith(prefix):
            failures.append(f'stdout:\n{out[:500]}\nexpected to start with:\n{prefix}')
    if '--stdout-contains' in want and want['--stdout-contains'] not in out:
        failures.append(f'stdout lacks {want["--stdout-contains"]!r}:\n{out[-2000:]}')
    if expect_out is not None and out != expect_out:
        failures.append(f'stdout:\n{out}\nexpected:\n{expect_out}')
    if '--stderr-prefix' in want:
        prefix = want['--stderr-prefix'].encode().decode('unicode_escape')
        if not err.startswith(prefix):
            failures.append(f'stderr:\n{err}\nexpected to start with:\n{prefix}')
    if want.get('--stderr-empty') and err:
        failures.append(f'stderr not empty:\n{err}')
    for f in failures:
        print('FAIL:', f)
    return 1 if failures else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
