#!/usr/bin/env python3
"""Boot Multiboot kernels nobody here wrote, from Debian 12 packages
fetched with `apt-get download` and unpacked into WORKDIR (never
installed).

Usage: outside_kernels.py NAME MMULAB WORKDIR [QEMU]

xen       The Xen 4.17 hypervisor (xen-hypervisor-4.17-amd64). It enters
          through the Multiboot v1 header of its 32-bit ELF image,
          relocates its boot data below the EBDA the BIOS data area
          names, switches to long mode, brings up its serial console and,
          given no dom0 kernel module, panics and resets the machine.
          `no-real-mode` keeps its trampoline from dropping to real mode
          for BIOS video and disk calls: there is no BIOS, and mmulab
          stops where real mode begins. The serial console must show the
          banner, the command line and the panic, and the reset (a triple
          fault) must stop the machine with its diagnostic and status 6.
          With QEMU given, the same image under `qemu-system-x86_64
          -kernel -no-reboot` must print the same lines, the loader's name
          excepted ("qemu" there, "mmulab" here).
xen-dom0  The same Xen given a module for dom0 and 512 MiB. With no ACPI
          tables it takes its processors from the MP table in the EBDA,
          finds the BSP there, and then reads the configuration table
          through an identity mapping it has left out for that reserved
          page: an early fatal page fault in get_smp_config. With QEMU
          given, `qemu-system-x86_64 -machine acpi=off` (SeaBIOS's MP table
          in the F segment) must fault at the same instruction in the same
          function.
invaders  GRUB Invaders (grub-invaders), a 32-bit protected-mode game that
          draws in the VGA text buffer. After 3 million instructions the
          screen (`-text-screen`) must show its opening formation, five
          rows of eight invaders, and the player's ship at the bottom.

Exits 77 (skipped) when the package cannot be fetched.
"""
import gzip
import os
import shutil
import subprocess
import sys

SKIP = 77
XEN_APPEND = "console=com1 com1=115200,8n1 loglvl=all no-real-mode"
TRIPLE_FAULT_STATUS = 6
XEN_EXPECTED = [  # in this order, each the start of a line
    "(XEN) Xen version 4.17",
    "(XEN) Bootloader: mmulab",
    "(XEN) Command line: " + XEN_APPEND,
    "(XEN) Panic on CPU 0:",
    "(XEN) dom0 kernel not specified. Check bootloader configuration",
    "(XEN) Reboot in five seconds...",
]
XEN_DOM0_EXPECTED = [  # in this order, each the start of a line
    "(XEN) found SMP MP-table at",
    "(XEN) Intel MultiProcessor Specification v1.4",
    "(XEN)     Virtual Wire compatibility mode.",
    "(XEN) Early fatal page fault at e008:",
    "(XEN) RIP:    e008:",
    "(XEN) Panic on CPU 0:",
    "(XEN) FATAL TRAP: vec 14, #PF[0000] IN INTERRUPT CONTEXT",
]
XEN_DOM0_MEMORY = "512M"
INVADERS_INSNS = 3000000
INVADER = "-*-"


def fail(msg):
    sys.exit(f"outside_kernels: {msg}")


def fetch(workdir, package, image):
    """The unpacked image (gunzipped if it ends in .gz) in workdir,
    fetched if not there yet."""
    name = os.path.basename(image)
    kernel = os.path.join(workdir, name[:-3] if name.endswith(".gz") else name)
    if os.path.exists(kernel):
        return kernel
    os.makedirs(workdir, exist_ok=True)
    try:
        subprocess.run(["apt-get", "download", package], cwd=workdir, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, timeout=300)
    except (OSError, subprocess.SubprocessError) as e:
        print(f"outside_kernels: cannot fetch {package} ({e}); skipped")
        sys.exit(SKIP)
    debs = [f for f in os.listdir(workdir) if f.startswith(package + "_") and f.endswith(".deb")]
    if not debs:
        print(f"outside_kernels: apt-get download left no {package} package; skipped")
        sys.exit(SKIP)
    unpacked = os.path.join(workdir, package)
    subprocess.run(["dpkg-deb", "-x", os.path.join(workdir, debs[0]), unpacked], check=True)
    opener = gzip.open if name.endswith(".gz") else open
    with opener(os.path.join(unpacked, image), "rb") as src, open(kernel + ".part", "wb") as dst:
        shutil.copyfileobj(src, dst)
    os.replace(kernel + ".part", kernel)
    return kernel


def run(cmd, timeout):
    try:
        proc = subprocess.run(cmd, stdin=subprocess.DEVNULL, capture_output=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        fail(f"{cmd[0]} did not stop within {timeout} s")
    return proc.returncode, proc.stdout.decode("latin-1").splitlines(), proc.stderr.decode("latin-1")


def xen(mmulab, workdir, qemu):
    kernel = fetch(workdir, "xen-hypervisor-4.17-amd64", "boot/xen-4.17-amd64.gz")
    status, lines, err = run([mmulab, "run", "-kernel", kernel, "-append", XEN_APPEND,
                              "-serial", "stdio", "-max-insns", "2000000000"], 240)
    print("\n".join(lines))
    at = 0
    for want in XEN_EXPECTED:
        while at < len(lines) and not lines[at].startswith(want):
            at += 1
        if at == len(lines):
            fail(f"mmulab's serial output lacks {want!r} (in order)\n{err}")
    if status != TRIPLE_FAULT_STATUS or "triple fault" not in err:
        fail(f"mmulab exited {status}, expected the triple fault's {TRIPLE_FAULT_STATUS}\n{err}")
    if not qemu:
        return
    qstatus, qlines, qerr = run([qemu, "-accel", "tcg", "-kernel", kernel, "-append", XEN_APPEND,
                                 "-display", "none", "-serial", "stdio", "-no-reboot",
                                 "-m", "128M"], 120)
    qlines = [l.replace("(XEN) Bootloader: qemu", "(XEN) Bootloader: mmulab") for l in qlines]
    if qlines != lines:
        fail("serial output differs from QEMU's:\n" +
             "\n".join(f"qemu:   {a}\nmmulab: {b}" for a, b in zip(qlines, lines) if a != b) +
             f"\n({len(qlines)} lines against {len(lines)}; qemu status {qstatus})\n{qerr}")
    print(f"outside_kernels: {len(lines)} serial lines equal to QEMU's")


def expect_in_order(lines, expected, who, err):
    """The lines that start with each expected prefix, in order."""
    at, found = 0, []
    for want in expected:
        while at < len(lines) and not lines[at].startswith(want):
            at += 1
        if at == len(lines):
            fail(f"{who}'s serial output lacks {want!r} (in order)\n{err}")
        found.append(lines[at])
    return found


def xen_dom0(mmulab, workdir, qemu):
    kernel = fetch(workdir, "xen-hypervisor-4.17-amd64", "boot/xen-4.17-amd64.gz")
    module = os.path.join(workdir, "dom0-placeholder")
    with open(module, "wb") as f:
        f.write(bytes(4096))
    status, lines, err = run([mmulab, "run", "-m", XEN_DOM0_MEMORY, "-kernel", kernel,
                              "-append", XEN_APPEND, "-initrd", module, "-serial", "stdio",
                              "-max-insns", "3000000000"], 300)
    print("\n".join(lines))
    found = expect_in_order(lines, XEN_DOM0_EXPECTED, "mmulab", err)
    if "get_smp_config+" not in found[4]:
        fail(f"the fault is not in get_smp_config: {found[4]}")
    if status != TRIPLE_FAULT_STATUS:
        fail(f"mmulab exited {status}, expected the triple fault's {TRIPLE_FAULT_STATUS}\n{err}")
    if not qemu:
        return
    qstatus, qlines, qerr = run([qemu, "-accel", "tcg", "-machine", "acpi=off", "-m",
                                 XEN_DOM0_MEMORY, "-kernel", kernel, "-append", XEN_APPEND,
                                 "-initrd", module, "-display", "none", "-serial", "stdio",
                                 "-no-reboot"], 120)
    qfound = expect_in_order(qlines, XEN_DOM0_EXPECTED, "QEMU", qerr)
    # The fault's RIP and function must agree; CR2 (where each firmware put
    # its table) and the registers may not.
    def rip(line):
        return line.split(" (cr2=")[0]
    if rip(found[3]) != rip(qfound[3]) or found[4].split()[2] != qfound[4].split()[2]:
        fail(f"the fault differs from QEMU's:\nqemu:   {qfound[3]}\n        {qfound[4]}\n"
             f"mmulab: {found[3]}\n        {found[4]}")
    print("outside_kernels: the same early fault as QEMU's, at " + rip(found[3]).split()[-1])


def invaders(mmulab, workdir, qemu):
    kernel = fetch(workdir, "grub-invaders", "boot/invaders.exec")
    status, screen, err = run([mmulab, "run", "-kernel", kernel, "-serial", "none",
                               "-max-insns", str(INVADERS_INSNS), "-text-screen"], 120)
    print("\n".join(screen))
    if status != 0 or err:
        fail(f"mmulab exited {status} before the instruction bound\n{err}")
    rows = [l for l in screen if INVADER in l]
    if len(screen) != 25 or len(rows) != 5 or any(l.count(INVADER) != 8 for l in rows):
        fail("the screen does not show five rows of eight invaders")
    if [l.strip() for l in screen[-2:]] != ["_", "/ \\"]:
        fail("the screen does not show the player's ship on its last two rows")


def main():
    kernels = {"xen": xen, "xen-dom0": xen_dom0, "invaders": invaders}
    if len(sys.argv) not in (4, 5) or sys.argv[1] not in kernels:
        sys.exit(__doc__)
    qemu = sys.argv[4] if len(sys.argv) == 5 and sys.argv[4] else None
    kernels[sys.argv[1]](sys.argv[2], sys.argv[3], qemu)
    return 0


if __name__ == "__main__":
    sys.exit(main())
