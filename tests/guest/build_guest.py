#!/usr/bin/env python3
"""Build one guest image: compile freestanding 64-bit objects with the host
toolchain, link them at 1 MiB with guest.ld, and convert the result to
ELF32 (a Multiboot loader, QEMU's too, takes ELF32 images only; the 64-bit
code inside runs after boot.S has entered long mode).

usage: build_guest.py CC LD OBJCOPY LINKER_SCRIPT OUTPUT SOURCES...
"""
import os
import subprocess
import sys

CFLAGS = ['-m64', '-O2', '-ffreestanding', '-nostdlib', '-fno-pic', '-fno-pie',
          '-fno-stack-protector', '-mno-red-zone', '-mgeneral-regs-only',
          '-fno-asynchronous-unwind-tables', '-fcf-protection=none', '-std=gnu17',
          '-Wall', '-Werror', '-DMMULAB_GUEST']


def main(cc, ld, objcopy, script, out, *sources):
    objs = []
    for src in sources:
        obj = out + '.' + os.path.basename(src) + '.o'
        subprocess.run([cc, *CFLAGS, '-c', src, '-o', obj], check=True)
        objs.append(obj)
    elf64 = out + '.elf64'
    subprocess.run([ld, '-m', 'elf_x86_64', '-nostdlib', '-static', '-z', 'max-page-size=0x1000',
                    '-z', 'noexecstack', '--no-warn-rwx-segments', '--fatal-warnings',
                    '-T', script, '-o', elf64, *objs], check=True)
    subprocess.run([objcopy, '-O', 'elf32-i386', elf64, out], check=True)


if __name__ == '__main__':
    main(*sys.argv[1:])
