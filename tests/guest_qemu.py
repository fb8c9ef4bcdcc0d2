#!/usr/bin/env python3
"""Boot the guest kernel under QEMU and check its serial output.

usage: guest_qemu.py QEMU KERNEL [--append TEXT] [--status N]
                     [--expect LINE]... [--reject TEXT]... [--check-reports]

Passes when QEMU exits with status N (isa-debug-exit: (code << 1) | 1),
every --expect LINE is a whole line of the output, and no line contains a
--reject TEXT. With --check-reports, the free memory in the last
/proc/buddyinfo report must equal MemFree in the /proc/meminfo report
after it (both count the buddy free lists). Lines starting with "[t] " (timing-dependent) are ignored.
On failure the output is printed, so the test log shows what the kernel said.
"""
import argparse
import subprocess
import sys

TIMING_PREFIX = "[t] "


def boot(qemu, kernel, append, timeout):
    cmd = [qemu, "-kernel", kernel, "-append", append, "-serial", "stdio",
           "-display", "none", "-no-reboot", "-m", "128M",
           "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"]
    proc = subprocess.run(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          timeout=timeout, check=False)
    return proc.returncode, proc.stdout.decode("utf-8", "replace")


def reports_disagree(lines):
    """None when buddyinfo's free pages add up to meminfo's MemFree."""
    if "# cat /proc/buddyinfo" not in lines or "# cat /proc/meminfo" not in lines:
        return "no buddyinfo or meminfo report"
    start = len(lines) - 1 - lines[::-1].index("# cat /proc/buddyinfo")
    free_kb = 0
    for line in lines[start + 1:]:
        if not line.startswith("Node "):
            break
        counts = line.split()[4:]
        free_kb += sum(int(n) * 4 * (1 << order) for order, n in enumerate(counts))
    memfree = [l for l in lines[start:] if l.startswith("MemFree:")]
    if not memfree:
        return "no MemFree line after buddyinfo"
    kb = int(memfree[0].split()[1])
    if kb != free_kb:
        return f"buddyinfo holds {free_kb} kB free, meminfo says MemFree {kb} kB"
    return None


def problems(status, output, args):
    lines = [l for l in output.splitlines() if not l.startswith(TIMING_PREFIX)]
    found = []
    if status != args.status:
        found.append(f"exit status {status}, expected {args.status}")
    for want in args.expect:
        if want not in lines:
            found.append(f"missing line: {want!r}")
    for bad in args.reject:
        found.extend(f"unwanted line: {l!r}" for l in lines if bad in l)
    if args.check_reports:
        why = reports_disagree(lines)
        if why:
            found.append(why)
    return found


def check_boot(run, args, more_problems=None):
    """Boot with run() -> (status, output) and check the output against args
    (and more_problems(output) -> list, if given). Prints the output and
    the problems on failure; returns the exit status."""
    try:
        status, output = run()
    except subprocess.TimeoutExpired:
        print(f"guest did not exit within {args.timeout} s")
        return 1
    found = problems(status, output, args)
    if more_problems:
        found.extend(more_problems(output))
    if found:
        print(output)
        print("\n".join(found))
        return 1
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("qemu")
    ap.add_argument("kernel")
    ap.add_argument("--append", default="")
    ap.add_argument("--status", type=int, default=1)
    ap.add_argument("--expect", action="append", default=[])
    ap.add_argument("--reject", action="append", default=[])
    ap.add_argument("--check-reports", action="store_true")
    ap.add_argument("--timeout", type=float, default=60)
    args = ap.parse_args()
    return check_boot(lambda: boot(args.qemu, args.kernel, args.append, args.timeout), args)


if __name__ == "__main__":
    sys.exit(main())
