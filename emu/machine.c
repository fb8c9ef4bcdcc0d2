/* The machine's run loop: the CPU in slices bounded by the devices' next
 * event, devices advanced with the modelled cycle count, external
 * interrupts at instruction boundaries, HLT fast-forwarded to the next
 * event (docs/machine.md). */
#include "emu/machine.h"

#include <inttypes.h>
#include <string.h>

#include "emu/decode.h"
#include "emu/io.h"
#include "mmu/model.h"

/* The longest slice, in instructions. Pending interrupts and device
 * timing are looked at between slices; anything a device does without an
 * I/O instruction (an MMIO write starting the APIC timer, a CR8 write
 * lowering the priority) is seen within this many instructions. */
#define MACHINE_SLICE_MAX 4096u
/* A slice runs at most gap / MACHINE_SLICE_GAP_DIV instructions before
 * the next device event: every instruction costs at least one cycle, so
 * the slice ends before or close after the event. */
#define MACHINE_SLICE_GAP_DIV 4u
/* HLT: how much modelled time may pass in timer events that raise no
 * interrupt the CPU can take (all masked) before the halt is declared
 * permanent: 60 s at the default clock. Each event costs the host one
 * devices_advance call, so even a fast masked timer is cheap to skip. */
#define MACHINE_HLT_MAX_IDLE_CYCLES (60 * DEVICES_DEFAULT_CPU_HZ)

static void apply_boot_state(struct cpu *c, const struct multiboot_boot_state *b)
{
	mmu_set_control(&c->mmu, b->cr0, 0, b->cr4, b->efer);
	for (unsigned r = 0; r < SEG_NREGS; r++)
		c->mmu.seg.sr[r] = b->sreg[r];
	c->mmu.seg.gdtr = b->gdtr;
	c->mmu.seg.idtr = b->idtr;
	c->rflags = b->rflags;
	c->rip = b->eip;
	c->gpr[GPR_RAX] = b->eax;
	c->gpr[GPR_RBX] = b->ebx;
	c->deliver_exceptions = true;
	cpu_refresh_mode(c);
}

static bool devices_setup(struct machine *m, char *err, size_t errlen)
{
	struct devices_config dc = {
		.serial_sink = m->cfg.serial_sink, .serial_ctx = m->cfg.serial_ctx,
		.warn = m->cfg.warn, .bios_state = true,
	};
	char why[200];
	if (!devices_init(&m->dev, &dc, why, sizeof why)) {
		snprintf(err, errlen, "mmulab: devices: %s", why);
		return false;
	}
	m->cpu.dev = &m->dev;
	io_update_mmio_floor(&m->cpu);
	return true;
}

bool machine_init(struct machine *m, const struct machine_config *cfg, char *err, size_t errlen)
{
	struct mmu_model def;
	char why[300];
	memset(m, 0, sizeof *m);
	m->cfg = *cfg;
	if (!m->cfg.ram_size)
		m->cfg.ram_size = MACHINE_DEFAULT_RAM;
	if (!m->cfg.model) {
		mmu_model_default(&def);
		m->cfg.model = &def;
	}
	if (!cpu_init(&m->cpu, m->cfg.model, m->cfg.ram_size, why, sizeof why)) {
		snprintf(err, errlen, "mmulab: %s", why);
		return false;
	}
	m->cfg.model = NULL; /* the CPU keeps its own copy; def goes out of scope */
	if (!multiboot_load_files(&m->cpu.mmu.phys, cfg->kernel, cfg->initrd, cfg->append, &m->boot,
				  err, errlen) ||
	    !devices_setup(m, err, errlen) ||
	    (cfg->insn_log && !disasm_open(&m->dis, err, errlen))) {
		cpu_free(&m->cpu);
		return false;
	}
	apply_boot_state(&m->cpu, &m->boot);
	return true;
}

void machine_free(struct machine *m)
{
	if (m->cfg.insn_log)
		disasm_close(&m->dis);
	cpu_free(&m->cpu);
}

/* ---- stops ---------------------------------------------------------------- */

static enum machine_stop stop_with(struct machine *m, enum machine_stop s, const char *what)
{
	const struct cpu *c = &m->cpu;
	m->stop = s;
	snprintf(m->msg, sizeof m->msg, "mmulab: %s at RIP=%#" PRIx64 " (%s mode, %" PRIu64
		 " instructions, %" PRIu64 " cycles)", what, c->rip, cpu_mode_name(c->mode), c->insns,
		 c->cycles);
	return s;
}

/* Triple fault (SDM Vol. 3A §6.15, interrupt 8: a fault while delivering
 * #DF shuts the processor down): the diagnostic names the last exception
 * and the paging control registers. */
static enum machine_stop triple_fault(struct machine *m)
{
	const struct cpu *c = &m->cpu;
	m->stop = MACHINE_TRIPLE_FAULT;
	snprintf(m->msg, sizeof m->msg,
		 "mmulab: triple fault at RIP=%#" PRIx64 " vector %u CR0=%#" PRIx64 " CR3=%#" PRIx64
		 " CR4=%#" PRIx64 " EFER=%#" PRIx64 " (%s)", c->exc.rip, c->exc.vector, c->mmu.cr0,
		 c->mmu.cr3, c->mmu.cr4, c->mmu.efer, c->stop_msg ? c->stop_msg : "shutdown");
	return m->stop;
}

/* ---- interrupts ----------------------------------------------------------- */

/* Between instructions: take one pending interrupt if the CPU accepts it
 * (RFLAGS.IF = 1, no interrupt shadow; SDM Vol. 3A §6.8.1). False on a
 * triple fault. */
static bool take_interrupt(struct machine *m)
{
	struct cpu *c = &m->cpu;
	if (!devices_interrupt_pending(&m->dev) || !cpu_interrupts_enabled(c))
		return true;
	return cpu_interrupt(c, devices_interrupt_ack(&m->dev));
}

/* ---- the loop ------------------------------------------------------------- */

/* How many instructions the next slice may run. While an interrupt waits
 * for RFLAGS.IF the instructions that set it yield (c->irq_waiting,
 * emu/io.h); while it waits for the end of an STI / MOV SS shadow, one
 * instruction at a time, so it is taken at the first boundary that allows
 * it. */
static uint64_t slice_length(struct machine *m)
{
	struct cpu *c = &m->cpu;
	uint64_t n = MACHINE_SLICE_MAX;
	c->irq_waiting = devices_interrupt_pending(&m->dev);
	if (m->cfg.insn_log || (c->irq_waiting && (c->rflags & RFLAGS_IF)))
		return 1;
	uint64_t ev = devices_next_event(&m->dev);
	if (ev != UINT64_MAX) {
		uint64_t gap = ev > c->cycles ? (ev - c->cycles) / MACHINE_SLICE_GAP_DIV : 0;
		if (gap < n)
			n = gap ? gap : 1;
	}
	if (m->cfg.max_insns && m->cfg.max_insns - c->insns < n)
		n = m->cfg.max_insns - c->insns;
	return n;
}

/* HLT with RIP after it: wait for an interrupt by moving the cycle
 * counter to the next device event (the halted time is charged). */
static bool halt_wait(struct machine *m)
{
	struct cpu *c = &m->cpu;
	if (!(c->rflags & RFLAGS_IF)) {
		stop_with(m, MACHINE_HALTED, "halted with interrupts disabled");
		return false;
	}
	uint64_t give_up = c->cycles + MACHINE_HLT_MAX_IDLE_CYCLES;
	while (c->cycles < give_up) {
		if (devices_interrupt_pending(&m->dev))
			return true;
		uint64_t ev = devices_next_event(&m->dev);
		if (ev == UINT64_MAX)
			break;
		c->cycles = ev > c->cycles ? ev : c->cycles + 1; /* always forward */
		devices_advance(&m->dev, c->cycles);
	}
	if (devices_interrupt_pending(&m->dev))
		return true;
	stop_with(m, MACHINE_HALTED, "halted with no interrupt that can arrive");
	return false;
}

static void log_insn(struct machine *m);

/* One slice and what its stop means; false when the machine stops. */
static bool run_slice(struct machine *m)
{
	struct cpu *c = &m->cpu;
	if (!take_interrupt(m)) {
		triple_fault(m);
		return false;
	}
	if (m->cfg.insn_log)
		log_insn(m);
	enum cpu_stop s = cpu_run(c, slice_length(m));
	devices_advance(&m->dev, c->cycles);
	switch (s) {
	case CPU_STOP_LIMIT:
		return true;
	case CPU_STOP_YIELD:
		if (!devices_exit_requested(&m->dev, &m->exit_value))
			return true;
		m->stop = MACHINE_EXIT;
		return false;
	case CPU_STOP_HLT:
		return halt_wait(m);
	case CPU_STOP_TRIPLE_FAULT:
		triple_fault(m);
		return false;
	default:
		stop_with(m, MACHINE_UNSUPPORTED, c->stop_msg ? c->stop_msg : cpu_stop_name(s));
		return false;
	}
}

enum machine_stop machine_run(struct machine *m)
{
	m->msg[0] = '\0';
	for (;;) {
		if (m->cfg.max_insns && m->cpu.insns >= m->cfg.max_insns) {
			m->stop = MACHINE_LIMIT;
			break;
		}
		if (!run_slice(m))
			break;
	}
	return m->stop;
}

int machine_exit_status(const struct machine *m)
{
	switch (m->stop) {
	case MACHINE_EXIT: return (int)(m->exit_value & 0xff); /* as QEMU: the low 8 bits */
	case MACHINE_LIMIT: return MACHINE_STATUS_LIMIT;
	case MACHINE_HALTED: return MACHINE_STATUS_HALTED;
	case MACHINE_TRIPLE_FAULT: return MACHINE_STATUS_TRIPLE_FAULT;
	default: return MACHINE_STATUS_UNSUPPORTED;
	}
}

/* ---- reports -------------------------------------------------------------- */

/* Read up to n code bytes at linear address la without side effects (no
 * TLB, A/D or statistics change); returns how many could be read. */
static size_t peek_code(const struct cpu *c, uint64_t la, uint8_t *buf, size_t n)
{
	size_t got = 0;
	while (got < n) {
		struct mmu_debug_walk w;
		uint64_t a = (la + got) & c->la_mask;
		if (!mmu_debug_translate(&c->mmu, a, mmu_acc(ACC_FETCH, c->cpl, false, false), &w))
			break;
		size_t chunk = PHYS_FRAME_SIZE - (a & (PHYS_FRAME_SIZE - 1));
		if (chunk > n - got)
			chunk = n - got;
		for (size_t i = 0; i < chunk; i++)
			buf[got + i] = (uint8_t)phys_read(&c->mmu.phys, w.pa + i, 1);
		got += chunk;
	}
	return got;
}

static enum disasm_width width_of(enum cpu_mode mode)
{
	switch (mode) {
	case CPU_MODE_64: return DISASM_64;
	case CPU_MODE_PROT32:
	case CPU_MODE_COMPAT32: return DISASM_32;
	default: return DISASM_16;
	}
}

/* `-d insn`: cycle, RIP, bytes and disassembly of the next instruction. */
static void log_insn(struct machine *m)
{
	const struct cpu *c = &m->cpu;
	uint8_t buf[INSN_MAX_LEN];
	char text[160], hex[3 * INSN_MAX_LEN + 1] = "";
	uint64_t base = c->mode == CPU_MODE_64 ? 0 : c->mmu.seg.sr[SEG_CS].base;
	size_t n = peek_code(c, (c->rip + base) & c->la_mask, buf, sizeof buf);
	size_t len = disasm_one((struct disasm *)&m->dis, width_of(c->mode), buf, n, c->rip, text,
				sizeof text);
	for (size_t i = 0; i < (len ? len : n); i++)
		snprintf(hex + 3 * i, sizeof hex - 3 * i, "%02x ", buf[i]);
	fprintf(m->cfg.insn_log, "%12" PRIu64 " %016" PRIx64 " %-30s %s\n", c->cycles, c->rip, hex,
		n ? text : "(not mapped)");
}

void machine_print_stats(const struct machine *m, double host_seconds, FILE *out)
{
	const struct cpu *c = &m->cpu;
	double cpi = c->insns ? (double)c->cycles / (double)c->insns : 0.0;
	double mips = host_seconds > 0 ? (double)c->insns / host_seconds / 1e6 : 0.0;
	fprintf(out, "instructions %" PRIu64 "\ncycles %" PRIu64 "\ncpi %.3f\nhost_mips %.2f\n",
		c->insns, c->cycles, cpi, mips);
	mmu_stats_print(&c->mmu, out);
	cpu_print_unimplemented(c, out);
}
