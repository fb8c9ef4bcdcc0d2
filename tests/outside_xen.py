#!/usr/bin/env python3
"""Boot a Multiboot kernel nobody here wrote: the Xen 4.17 hypervisor of
Debian 12 (package xen-hypervisor-4.17-amd64, fetched with
`apt-get download` and unpacked into WORKDIR, never installed).

Usage: outside_xen.py MMULAB WORKDIR [QEMU]

Xen enters through the Multiboot v1 header of its 32-bit ELF image,
relocates its boot data below the EBDA the BIOS data area names, switches
to long mode, brings up its serial console and, given no dom0 kernel
module, panics and resets the machine. `no-real-mode` keeps its
trampoline from dropping to real mode for BIOS video and disk calls:
there is no BIOS, and mmulab stops where real mode begins.

In mmulab the serial console must show the banner, the command line and
the panic, and the reset (a triple fault) must stop the machine with its
diagnostic and status 6. With QEMU given, the same image under
`qemu-system-x86_64 -kernel -no-reboot` must print the same lines, the
loader's name excepted ("qemu" there, "mmulab" here). Exits 77 (skipped)
when the package cannot be fetched.
"""
import gzip
import os
import shutil
import subprocess
import sys

SKIP = 77
PACKAGE = "xen-hypervisor-4.17-amd64"
IMAGE = "boot/xen-4.17-amd64.gz"
APPEND = "console=com1 com1=115200,8n1 loglvl=all no-real-mode"
TRIPLE_FAULT_STATUS = 6
EXPECTED = [  # in this order, each the start of a line
    "(XEN) Xen version 4.17",
    "(XEN) Bootloader: mmulab",
    "(XEN) Command line: " + APPEND,
    "(XEN) Panic on CPU 0:",
    "(XEN) dom0 kernel not specified. Check bootloader configuration",
    "(XEN) Reboot in five seconds...",
]


def fetch(workdir):
    """The unpacked hypervisor image in workdir, fetched if not there yet."""
    kernel = os.path.join(workdir, "xen-4.17-amd64")
    if os.path.exists(kernel):
        return kernel
    os.makedirs(workdir, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", PACKAGE], cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"outside_xen: cannot fetch {PACKAGE} ({e}); skipped")
        sys.exit(SKIP)
    debs = [f for f in os.listdir(workdir) if f.startswith(PACKAGE) and f.endswith(".deb")]
    if not debs:
        print(f"outside_xen: apt-get download left no {PACKAGE} package; skipped")
        sys.exit(SKIP)
    unpacked = os.path.join(workdir, "pkg")
    subprocess.run(["dpkg-deb", "-x", os.path.join(workdir, debs[0]), unpacked], check=True)
    with gzip.open(os.path.join(unpacked, IMAGE), "rb") as src, open(kernel + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.replace(kernel + ".part", kernel)
    return kernel


def serial_lines(cmd, timeout):
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        sys.exit(f"outside_xen: {cmd[0]} did not stop within {timeout} s")
    return proc.returncode, proc.stdout.decode("latin-1").splitlines(), proc.stderr.decode("latin-1")


def main():
    if len(sys.argv) not in (3, 4):
        sys.exit(__doc__)
    mmulab, workdir = sys.argv[1], sys.argv[2]
    qemu = sys.argv[3] if len(sys.argv) == 4 and sys.argv[3] else None
    kernel = fetch(workdir)

    status, lines, err = serial_lines([mmulab, "run", "-kernel", kernel, "-append", APPEND,
                                       "-serial", "stdio", "-max-insns", "2000000000"], 240)
    print("\n".join(lines))
    at = 0
    for want in EXPECTED:
        while at < len(lines) and not lines[at].startswith(want):
            at += 1
        if at == len(lines):
            sys.exit(f"outside_xen: mmulab's serial output lacks {want!r} (in order)\n{err}")
    if status != TRIPLE_FAULT_STATUS or "triple fault" not in err:
        sys.exit(f"outside_xen: mmulab exited {status}, expected the triple fault's "
                 f"{TRIPLE_FAULT_STATUS}\n{err}")

    if qemu:
        qstatus, qlines, qerr = serial_lines(
            [qemu, "-accel", "tcg", "-kernel", kernel, "-append", APPEND, "-display", "none",
             "-serial", "stdio", "-no-reboot", "-m", "128M"], 120)
        qlines = [l.replace("(XEN) Bootloader: qemu", "(XEN) Bootloader: mmulab") for l in qlines]
        if qlines != lines:
            sys.exit("outside_xen: serial output differs from QEMU's:\n" +
                     "\n".join(f"qemu:   {a}\nmmulab: {b}" for a, b in zip(qlines, lines) if a != b) +
                     f"\n({len(qlines)} lines against {len(lines)}; qemu status {qstatus})\n{qerr}")
        print(f"outside_xen: {len(lines)} serial lines equal to QEMU's")
    return 0


if __name__ == "__main__":
    sys.exit(main())
