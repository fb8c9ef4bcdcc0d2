#!/usr/bin/env python3
"""Boot the guest kernel in mmulab with user programs as modules and
check what they print.

usage: guest_programs.py MMULAB KERNEL --initrd A,B [--append TEXT]
                         [--status N] [--expect LINE]... [--contains TEXT]...
                         [--reject TEXT]...
                         [--check-reports] [--native PROGRAM [ARG]]...

The checks are guest_qemu.py's (exit status, whole --expect lines, no line
containing a --reject TEXT, buddyinfo agreeing with meminfo), on mmulab's
serial output; --contains TEXT must be part of some line. --native runs PROGRAM (a user program, which uses only
Linux system calls) on the host: every line it prints must also appear,
in the same order, in the guest's output, so the guest kernel's system
calls are checked against Linux's.
"""
import argparse
import subprocess
import sys

from guest_qemu import TIMING_PREFIX, check_boot


def boot(mmulab, kernel, initrd, append, timeout):
    cmd = [mmulab, "run", "-kernel", kernel, "-initrd", initrd, "-append", append]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          stdin=subprocess.DEVNULL, timeout=timeout, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def native_mismatch(native, lines):
    """None when the native program's lines appear in order in lines."""
    proc = subprocess.run(native, stdout=subprocess.PIPE, stdin=subprocess.DEVNULL,
                          timeout=30, check=False)
    pos = 0
    for want in proc.stdout.decode("utf-8", "replace").splitlines():
        try:
            pos = lines.index(want, pos) + 1
        except ValueError:
            return f"native {' '.join(native)} printed {want!r}, the guest did not (in order)"
    return None


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mmulab")
    ap.add_argument("kernel")
    ap.add_argument("--initrd", required=True)
    ap.add_argument("--append", default="")
    ap.add_argument("--status", type=int, default=1)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--contains", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--check-reports", action="store_true")
    ap.add_argument("--native", nargs="+")
    ap.add_argument("--timeout", type=float, default=120)
    args = ap.parse_args()
    def more_problems(output):
        found = [f"no line contains {want!r}" for want in args.contains
                 if not any(want in l for l in output.splitlines())]
        if args.native:
            lines = [l for l in output.splitlines() if not l.startswith(TIMING_PREFIX)]
            why = native_mismatch(args.native, lines)
            found += [why] if why else []
        return found

    return check_boot(lambda: boot(args.mmulab, args.kernel, args.initrd, args.append,
                                   args.timeout), args, more_problems)


if __name__ == "__main__":
    sys.exit(main())
