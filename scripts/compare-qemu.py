#!/usr/bin/env python3
"""Boot one Multiboot kernel in mmulab and in QEMU and compare them.

Usage: compare-qemu.py MMULAB KERNEL [-append STR] [-initrd A,B] [-m SIZE]
                       [-timeout SECONDS]

Both runs write the serial console to a file and stop through the
isa-debug-exit device (port 0xf4), so both exit with status (v << 1) | 1.
The serial outputs must be equal apart from lines the guest marks as
timing-dependent by starting them with "[t]", and the exit statuses must be
equal. Exits 0 when they agree, 1 with a unified diff when they do not, 77
(the "skipped" status of meson and automake) when QEMU is not installed.
"""
import argparse
import difflib
import os
import shutil
import subprocess
import sys
import tempfile

TIMING_PREFIX = "[t]"
SKIP = 77


def run(cmd, serial_path, timeout):
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                              stderr=subprocess.PIPE, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"compare-qemu: {cmd[0]} did not stop within {timeout} s")
    with open(serial_path, "rb") as f:
        text = f.read().decode("latin-1")
    return proc.returncode, text, proc.stderr.decode("latin-1")


def stable_lines(text):
    return [l for l in text.splitlines() if not l.startswith(TIMING_PREFIX)]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("mmulab")
    ap.add_argument("kernel")
    ap.add_argument("-append", default=None)
    ap.add_argument("-initrd", default=None)
    ap.add_argument("-m", default="128M")
    ap.add_argument("-timeout", type=int, default=60)
    a = ap.parse_args()
    qemu = shutil.which("qemu-system-x86_64")
    if not qemu:
        print("compare-qemu: qemu-system-x86_64 not installed: skipped")
        return SKIP
    if not os.path.isfile(a.kernel):
        sys.exit(f"compare-qemu: {a.kernel}: no such kernel image")
    with tempfile.TemporaryDirectory() as tmp:
        ours_out, qemu_out = os.path.join(tmp, "mmulab.txt"), os.path.join(tmp, "qemu.txt")
        extra = ["-append", a.append] if a.append is not None else []
        if a.initrd is not None:
            extra += ["-initrd", a.initrd]
        ours = [a.mmulab, "run", "-kernel", a.kernel, "-m", a.m, "-serial", "file:" + ours_out] + extra
        theirs = [qemu, "-kernel", a.kernel, "-m", a.m, "-serial", "file:" + qemu_out,
                  "-display", "none", "-no-reboot", "-monitor", "none",
                  "-device", "isa-debug-exit,iobase=0xf4,iosize=0x04"] + extra
        st_ours, out_ours, err_ours = run(ours, ours_out, a.timeout)
        st_qemu, out_qemu, err_qemu = run(theirs, qemu_out, a.timeout)
    ok = True
    if st_ours != st_qemu:
        print(f"exit status: mmulab {st_ours}, qemu {st_qemu}")
        ok = False
    diff = list(difflib.unified_diff(stable_lines(out_qemu), stable_lines(out_ours),
                                     "qemu", "mmulab", lineterm=""))
    if diff:
        print("\n".join(diff))
        ok = False
    if not ok:
        if err_ours:
            print("mmulab stderr:\n" + err_ours)
        return 1
    print(f"compare-qemu: {os.path.basename(a.kernel)}: same serial output "
          f"({len(stable_lines(out_ours))} lines) and exit status {st_ours}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
