/* Port I/O instructions IN, OUT, INS, OUTS; memory-mapped device accesses;
 * IA32_APIC_BASE and CR8 routed to the devices (emu/io.h).
 *
 * Every instruction that touches a port returns EXEC_YIELD: the run loop
 * commits it and returns to the machine, which then polls the debug-exit
 * port, asks the devices for their next event again and looks for a
 * pending interrupt (emu/devices.h: those answers change only inside
 * devices_* calls). Port I/O is rare enough that this costs nothing.
 */
#include "emu/io.h"

#include "emu/devices.h"
#include "emu/exec.h"

/* TSS field holding the 16-bit offset of the I/O permission bit map from
 * the TSS base: offset 102 in both the 32-bit TSS (SDM Vol. 3A §8.2.1,
 * Figure 8-2) and the 64-bit TSS (§8.7, Figure 8-11). */
#define TSS_IOMAP_BASE_OFFSET 0x66u
#define TSS_IOMAP_BASE_BYTES 2u
/* The processor reads two bitmap bytes for every access (SDM Vol. 1
 * §19.5.2), so both must lie within the TSS limit. */
#define IOMAP_READ_BYTES 2u
#define PORT_BITS_PER_BYTE 8u

static bool gp0(struct cpu *c)
{
	mmu_fault_set(&c->fault, VEC_GP, true, 0);
	return false;
}

/* Read TSS bytes [offset, offset + n) with an implicit supervisor access;
 * #GP(0) if they are beyond TR's limit. */
static bool tss_read(struct cpu *c, uint32_t offset, void *buf, unsigned n)
{
	const struct seg_cache *tr = &c->mmu.seg.tr;
	if (!tr->usable || (uint64_t)offset + n - 1 > tr->limit)
		return gp0(c);
	return mmu_read_linear(&c->mmu, tr->base + offset, buf, n, mmu_acc(ACC_READ, 0, true, false),
			       &c->fault);
}

/* I/O protection (SDM Vol. 1 §19.5.1, §19.5.2; Vol. 3A §8.7): in
 * protected mode with CPL > IOPL, an access to size ports from port is
 * allowed only if the TSS's I/O permission bit map has every one of their
 * bits clear; a bit map (or the two bytes read of it) beyond the TSS limit
 * denies. Virtual-8086 mode is not modelled. False with #GP(0) (or a #PF
 * reading the TSS) in c->fault. */
static bool io_permitted(struct cpu *c, uint16_t port, unsigned size)
{
	unsigned iopl = (unsigned)((c->rflags & RFLAGS_IOPL) >> RFLAGS_IOPL_SHIFT);
	if (c->cpl <= iopl)
		return true;
	uint8_t b[IOMAP_READ_BYTES] = { 0, 0 };
	if (!tss_read(c, TSS_IOMAP_BASE_OFFSET, b, TSS_IOMAP_BASE_BYTES))
		return false;
	uint32_t map = (uint32_t)b[0] | (uint32_t)b[1] << 8;
	if (!tss_read(c, map + port / PORT_BITS_PER_BYTE, b, IOMAP_READ_BYTES))
		return false;
	uint32_t bits = (uint32_t)b[0] | (uint32_t)b[1] << 8;
	uint32_t want = ((1u << size) - 1) << (port % PORT_BITS_PER_BYTE);
	return (bits & want) ? gp0(c) : true;
}

/* The port accesses themselves, each matched against the I/O
 * breakpoints (a trap after the instruction, SDM Vol. 3B §17.3.1.2). */
static uint32_t port_read(struct cpu *c, uint16_t port, unsigned size)
{
	if (MMU_UNLIKELY(c->bp_io))
		cpu_io_breakpoints(c, port, size);
	if (!c->dev)
		return (uint32_t)size_mask(size);
	return devices_io_read(c->dev, c->cycles, port, size);
}

static void port_write(struct cpu *c, uint16_t port, unsigned size, uint32_t v)
{
	if (MMU_UNLIKELY(c->bp_io))
		cpu_io_breakpoints(c, port, size);
	if (c->dev)
		devices_io_write(c->dev, c->cycles, port, size, v);
}

/* IN AL/AX/EAX, imm8 | DX; OUT imm8 | DX, AL/AX/EAX (SDM Vol. 2 IN, OUT).
 * The port operand is operand 1 of IN and operand 0 of OUT. A 32-bit IN
 * zero-extends into RAX like any 32-bit register write. */
enum exec_result exec_io(struct cpu *c, const struct insn *d)
{
	bool out = d->sub != 0;
	uint8_t kind = out ? d->k0 : d->k1;
	uint16_t port = kind == OPK_IMM ? (uint16_t)(d->imm & 0xff) : (uint16_t)c->gpr[GPR_RDX];
	unsigned size = d->osz;
	if (!io_permitted(c, port, size))
		return EXEC_FAULT;
	if (out)
		port_write(c, port, size, (uint32_t)reg_get(c, GPR_RAX, size));
	else
		reg_set(c, GPR_RAX, size, port_read(c, port, size));
	return EXEC_YIELD;
}

static uint64_t io_step(const struct cpu *c, const struct insn *d)
{
	return (c->rflags & RFLAGS_DF) ? (uint64_t)-(int64_t)d->osz : d->osz;
}

/* After one element of a string I/O instruction: with REP, count down
 * rCX and run the instruction again while it is non-zero (SDM Vol. 2 REP:
 * each element is one interruptible iteration). */
static enum exec_result io_string_done(struct cpu *c, const struct insn *d)
{
	if (d->flags & INSN_REP) {
		uint64_t n = reg_get(c, GPR_RCX, d->asz) - 1;
		reg_set(c, GPR_RCX, d->asz, n);
		if (n != 0)
			c->next_rip = c->rip;
	}
	return EXEC_YIELD;
}

static bool rep_empty(const struct cpu *c, const struct insn *d)
{
	return (d->flags & INSN_REP) && reg_get(c, GPR_RCX, d->asz) == 0;
}

/* INS: port DX → ES:rDI (the segment cannot be overridden). The
 * destination is translated before the port is read, so a fault leaves
 * the device untouched (SDM Vol. 2 INS). */
enum exec_result exec_ins(struct cpu *c, const struct insn *d)
{
	struct memref t;
	uint16_t port = (uint16_t)c->gpr[GPR_RDX];
	if (rep_empty(c, d))
		return EXEC_OK;
	uint64_t di = reg_get(c, GPR_RDI, d->asz);
	if (!io_permitted(c, port, d->osz) || !mem_xlate(c, SEG_ES, di, d->osz, ACC_WRITE, &t))
		return EXEC_FAULT;
	mem_store(c, &t, d->osz, port_read(c, port, d->osz));
	reg_set(c, GPR_RDI, d->asz, di + io_step(c, d));
	return io_string_done(c, d);
}

/* OUTS: DS:rSI (or the override) → port DX (SDM Vol. 2 OUTS). */
enum exec_result exec_outs(struct cpu *c, const struct insn *d)
{
	uint64_t v;
	uint16_t port = (uint16_t)c->gpr[GPR_RDX];
	if (rep_empty(c, d))
		return EXEC_OK;
	uint64_t si = reg_get(c, GPR_RSI, d->asz);
	if (!io_permitted(c, port, d->osz) || !mem_read(c, d->seg, si, d->osz, &v))
		return EXEC_FAULT;
	port_write(c, port, d->osz, (uint32_t)v);
	reg_set(c, GPR_RSI, d->asz, si + io_step(c, d));
	return io_string_done(c, d);
}

/* ---- memory-mapped devices ----------------------------------------------- */

uint64_t io_mmio_load(struct cpu *c, uint64_t pa, unsigned size)
{
	if (c->dev && devices_mmio_claims(c->dev, pa))
		return devices_mmio_read(c->dev, c->cycles, pa, size);
	return phys_read(&c->mmu.phys, pa, size);
}

void io_mmio_store(struct cpu *c, uint64_t pa, unsigned size, uint64_t v)
{
	if (c->dev && devices_mmio_claims(c->dev, pa))
		devices_mmio_write(c->dev, c->cycles, pa, size, v);
	else
		phys_write(&c->mmu.phys, pa, v, size);
}

void io_update_mmio_floor(struct cpu *c)
{
	uint64_t floor = c->mmu.phys.size;
	if (c->dev) {
		uint64_t base = devices_apic_base_read(c->dev);
		uint64_t page = base & ~(uint64_t)(PHYS_FRAME_SIZE - 1); /* bits 12 and up */
		/* In x2APIC mode the page is not the APIC's (§11.12.1). */
		if ((base & APIC_BASE_ENABLE) && !(base & APIC_BASE_X2APIC) && page < floor)
			floor = page;
	}
	c->mmio_floor = floor;
}

enum exec_result io_apic_base_msr(struct cpu *c, bool write, uint64_t v)
{
	if (write) {
		if (!devices_apic_base_write(c->dev, c->cycles, v))
			return fault(c, VEC_GP, true, 0);
		io_update_mmio_floor(c);
		return EXEC_YIELD;
	}
	v = devices_apic_base_read(c->dev);
	reg_set_edx_eax(c, v);
	return EXEC_OK;
}

bool io_apic_present(const struct cpu *c)
{
	return c->dev && devices_apic_present(c->dev);
}

enum exec_result io_x2apic_msr(struct cpu *c, bool write, uint32_t index, uint64_t v)
{
	if (!c->dev)
		return fault(c, VEC_GP, true, 0);
	if (write) {
		if (!devices_x2apic_write(c->dev, c->cycles, index, v))
			return fault(c, VEC_GP, true, 0);
		return EXEC_YIELD; /* an interrupt or the timer may have changed */
	}
	if (!devices_x2apic_read(c->dev, c->cycles, index, &v))
		return fault(c, VEC_GP, true, 0);
	reg_set_edx_eax(c, v);
	return EXEC_OK;
}

enum exec_result io_tsc_deadline_msr(struct cpu *c, bool write, uint64_t v)
{
	if (!io_apic_present(c))
		return fault(c, VEC_GP, true, 0);
	if (write) {
		devices_tsc_deadline_write(c->dev, c->cycles, v);
		return EXEC_YIELD; /* the machine's next event may have moved */
	}
	v = devices_tsc_deadline_read(c->dev, c->cycles);
	reg_set_edx_eax(c, v);
	return EXEC_OK;
}

uint64_t io_cr8_read(const struct cpu *c)
{
	return devices_cr8_read(c->dev);
}

void io_cr8_write(struct cpu *c, uint64_t v)
{
	devices_cr8_write(c->dev, v);
}
