/* A machine for CPU tests: 64-bit paging, flat 64-bit segments, code and
 * data placed by the test.
 *
 * Memory map (linear = physical, 4-KByte pages, user-accessible, writable):
 *   0x010000 .. 0x100000   page tables (not mapped)
 *   0x200000 .. CPU_MAPPED_END  mapped RAM: code at CPU_CODE, data at
 *                          CPU_DATA, the stack grows down from CPU_STACK_TOP
 *   CPU_MAPPED_END ..      not mapped: accesses there raise #PF
 */
#ifndef TESTS_CPU_SUPPORT_H
#define TESTS_CPU_SUPPORT_H

#include <stddef.h>
#include <stdint.h>

#include "emu/cpu.h"
#include "mmu/ptbuild.h"

#define CPU_TEST_RAM (UINT64_C(32) << 20)
#define CPU_MAPPED_START UINT64_C(0x200000)
#define CPU_MAPPED_END UINT64_C(0x1000000)
#define CPU_CODE UINT64_C(0x400000)
#define CPU_DATA UINT64_C(0x600000)
#define CPU_STACK_TOP UINT64_C(0x800000)

struct cpu_fixture {
	struct cpu c;
	struct mmu_model model;
	struct ptb pt;
};

/* A CPU in 64-bit mode at CPL cpl, RSP = CPU_STACK_TOP, RFLAGS = 2. */
struct cpu_fixture *cpu_fixture_new(const char *model, unsigned cpl);
/* A CPU in 32-bit protected mode without paging, flat segments, CPL 0. */
struct cpu_fixture *cpu_fixture_new_flat32(const char *model);
/* cpu_fixture_new("flat", 0) with code placed at CPU_CODE and RIP on it. */
struct cpu_fixture *cpu_fixture_with_code(const void *code, size_t n);
void cpu_fixture_free(struct cpu_fixture *f);
/* Copy bytes to linear (= physical) address la. */
void cpu_fixture_poke(struct cpu_fixture *f, uint64_t la, const void *bytes, size_t n);
/* Place code at la and point RIP at it. */
void cpu_fixture_code(struct cpu_fixture *f, uint64_t la, const void *bytes, size_t n);
uint64_t cpu_fixture_peek(struct cpu_fixture *f, uint64_t la, unsigned size);
/* Copy a GDT of bytes bytes to linear address base and point GDTR at it. */
void cpu_fixture_gdt(struct cpu_fixture *f, uint64_t base, const uint64_t *gdt, size_t bytes);
/* Load TR's hidden part with a busy 32/64-bit TSS (as LTR leaves it). */
void cpu_fixture_tr(struct cpu_fixture *f, uint16_t selector, uint64_t base, uint32_t limit);
/* Clear the PTE of page la (the page becomes not present) and flush the
 * TLBs and the fetch cache. */
void cpu_fixture_unmap(struct cpu_fixture *f, uint64_t la);
/* Run up to 1e6 instructions; returns the stop reason. */
enum cpu_stop cpu_fixture_run(struct cpu_fixture *f);

#endif
