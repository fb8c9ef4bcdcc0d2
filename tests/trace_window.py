#!/usr/bin/env python3
"""Record a window of a guest run with `mmulab run -trace`, then replay it.

usage: trace_window.py MMULAB IMAGE OUT FROM INSNS

The run must end as without tracing (status 1: the guest's clean exit),
the replay must match every outcome, and trace-stats must count the
window's instructions."""
import subprocess
import sys


def main(argv):
    mmulab, image, out, start, insns = argv
    run = subprocess.run([mmulab, 'run', '-kernel', image, '-serial', 'none', '-trace', out,
                          '-trace-from', start, '-trace-insns', insns], capture_output=True)
    if run.returncode != 1:
        print(f'run: status {run.returncode}: {run.stderr.decode()}')
        return 1
    replay = subprocess.run([mmulab, 'replay', out], capture_output=True, text=True)
    if replay.returncode != 0 or 'every outcome matches' not in replay.stdout:
        print(f'replay: status {replay.returncode}: {replay.stderr}')
        return 1
    stats = subprocess.run([mmulab, 'trace-stats', out], capture_output=True, text=True)
    if f'instructions {insns}\n' not in stats.stdout:
        print('trace-stats does not count the window:\n' + stats.stdout)
        return 1
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
