#include "tests/cpu_support.h"

#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>

#define PT_POOL 0x10000
#define PT_POOL_END 0x100000
#define PT_FLAGS (PTE_P | PTE_RW | PTE_US)

struct cpu_fixture *cpu_fixture_new(const char *model, unsigned cpl)
{
	struct cpu_fixture *f = calloc(1, sizeof *f);
	char err[256];
	cr_assert(f);
	cr_assert(mmu_model_resolve(&f->model, model, err, sizeof err), "%s", err);
	cr_assert(cpu_init(&f->c, &f->model, CPU_TEST_RAM, err, sizeof err), "%s", err);
	cr_assert(ptb_init(&f->pt, &f->c.mmu.phys, PAGING_4LEVEL, PT_POOL, PT_POOL_END));
	for (uint64_t la = CPU_MAPPED_START; la < CPU_MAPPED_END; la += PHYS_FRAME_SIZE)
		cr_assert(ptb_map(&f->pt, la, la, PG_4K, PT_FLAGS, PT_FLAGS));
	mmu_set_control(&f->c.mmu, CR0_PE | CR0_PG | CR0_WP, ptb_cr3(&f->pt, 0), CR4_PAE,
			EFER_LME | EFER_LMA | EFER_NXE);
	cpu_setup_flat64(&f->c, cpl);
	f->c.gpr[GPR_RSP] = CPU_STACK_TOP;
	return f;
}

struct cpu_fixture *cpu_fixture_new_flat32(const char *model)
{
	struct cpu_fixture *f = cpu_fixture_new(model, 0);
	mmu_set_control(&f->c.mmu, CR0_PE, 0, 0, 0);
	cpu_setup_flat32(&f->c, 0);
	return f;
}

struct cpu_fixture *cpu_fixture_with_code(const void *code, size_t n)
{
	struct cpu_fixture *f = cpu_fixture_new("flat", 0);
	cpu_fixture_code(f, CPU_CODE, code, n);
	return f;
}

void cpu_fixture_free(struct cpu_fixture *f)
{
	cpu_free(&f->c);
	free(f);
}

void cpu_fixture_poke(struct cpu_fixture *f, uint64_t la, const void *bytes, size_t n)
{
	phys_write_bytes(&f->c.mmu.phys, la, bytes, n);
}

void cpu_fixture_code(struct cpu_fixture *f, uint64_t la, const void *bytes, size_t n)
{
	cpu_fixture_poke(f, la, bytes, n);
	f->c.rip = la;
}

void cpu_fixture_gdt(struct cpu_fixture *f, uint64_t base, const uint64_t *gdt, size_t bytes)
{
	cpu_fixture_poke(f, base, gdt, bytes);
	f->c.mmu.seg.gdtr.base = base;
	f->c.mmu.seg.gdtr.limit = (uint16_t)(bytes - 1);
}

void cpu_fixture_tr(struct cpu_fixture *f, uint16_t selector, uint64_t base, uint32_t limit)
{
	f->c.mmu.seg.tr = (struct seg_cache){
		.selector = selector, .base = base, .limit = limit, .type = SYS_TSS_BUSY,
		.p = true, .usable = true,
	};
}

uint64_t cpu_fixture_peek(struct cpu_fixture *f, uint64_t la, unsigned size)
{
	return phys_read(&f->c.mmu.phys, la, size);
}

void cpu_fixture_unmap(struct cpu_fixture *f, uint64_t la)
{
	uint64_t pte = ptb_entry_pa(&f->pt, la, 1);
	cr_assert(pte);
	phys_write(&f->c.mmu.phys, pte, 0, 8);
	mmu_flush_all(&f->c.mmu);
	cpu_invalidate_fetch(&f->c);
}

enum cpu_stop cpu_fixture_run(struct cpu_fixture *f)
{
	enum cpu_stop s = cpu_run(&f->c, 1000000);
	if (getenv("CPU_TEST_TRACE"))
		fprintf(stderr, "stop %s vector %u ec %#x rip %#llx msg %s\n", cpu_stop_name(s),
			f->c.exc.vector, f->c.exc.error_code, (unsigned long long)f->c.exc.rip,
			f->c.stop_msg ? f->c.stop_msg : "-");
	return s;
}
