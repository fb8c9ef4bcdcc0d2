/* The benchmark workloads as one Multiboot guest image, so the same code
 * runs under mmulab and under `qemu-system-x86_64 -kernel` (bench/cpu_bench.c
 * measures both). The command line picks the workload and its count:
 *
 *   alu N       N turns of the integer loop (5 instructions a turn)
 *   tlb N       N rounds reading one byte per 4-KiB page over 512 MiB
 *               (4 instructions a page, 4 a round)
 *   memcpy N    N rounds copying 64 KiB by qwords (6 a qword, 5 a round)
 *   movsb N     N rounds of rep movsb over 64 KiB (4 a round)
 *   cworkload N N runs of the compiled C workload of tests/guest
 *
 * The loops are the instruction sequences of cpu_bench's in-process
 * figures. The image exits through isa-debug-exit with 0 (status 1), or
 * under Bochs, which boots it from a GRUB CD image, through Bochs's
 * shutdown port (bench/bochs_run.c). The page-touch area is mapped here
 * with 4-KiB pages, every page onto one of a few frames, so it fits the
 * default 128 MiB of RAM of every machine.
 */
#define kmain workload_kmain
#include "../tests/guest/workload.c"
#undef kmain

#define MB_INFO_CMDLINE_FLAG 0x4u /* Multiboot info: flags bit 2, cmdline valid */
#define MB_INFO_CMDLINE 16        /* byte offset of the cmdline field */

#define TOUCH_BASE 0x40000000ull         /* 1 GiB: PDPT entry 1 */
#define TOUCH_PAGES (512ull << 20 >> 12) /* 512 MiB in 4-KiB pages */
#define TOUCH_TABLES (TOUCH_PAGES / 512)
#define TOUCH_PT_AREA 0x2000000ull       /* page directory, then the tables */
#define TOUCH_FRAMES 0x3000000ull        /* the frames every page maps onto */
#define TOUCH_FRAME_COUNT 1024ull
#define COPY_SRC 0x1200000ull
#define COPY_DST 0x1300000ull

extern uint64_t pdpt[512];

static uint64_t parse_count(const char *s)
{
	uint64_t v = 0;
	while (*s >= '0' && *s <= '9')
		v = v * 10 + (uint64_t)(*s++ - '0');
	return v;
}

/* The text after the first word and the spaces that follow it. */
static const char *after_word(const char *s)
{
	while (*s && *s != ' ')
		s++;
	while (*s == ' ')
		s++;
	return s;
}

static int starts_with(const char *s, const char *word)
{
	while (*word)
		if (*s++ != *word++)
			return 0;
	return *s == ' ' || *s == '\0';
}

static void alu(uint64_t n)
{
	uint64_t a = 0, b = 0, d = 0;
	__asm__ volatile("1: add %%rbx, %%rax\n\txor %%rax, %%rdx\n\tsub $1, %%rbx\n\t"
			 "dec %%rcx\n\tjnz 1b"
			 : "+c"(n), "+a"(a), "+b"(b), "+d"(d) :: "cc");
}

/* Map TOUCH_BASE .. + 512 MiB with 4-KiB pages through a new page
 * directory in PDPT entry 1. */
static void map_touch_area(void)
{
	uint64_t *dir = (uint64_t *)TOUCH_PT_AREA;
	for (uint64_t t = 0; t < TOUCH_TABLES; t++) {
		uint64_t *pt = (uint64_t *)(TOUCH_PT_AREA + (t + 1) * PAGE_SIZE);
		for (uint64_t i = 0; i < 512; i++)
			pt[i] = (TOUCH_FRAMES + ((t * 512 + i) % TOUCH_FRAME_COUNT) * PAGE_SIZE) |
				PTE_P | PTE_W;
		dir[t] = (uint64_t)pt | PTE_P | PTE_W;
	}
	for (uint64_t t = TOUCH_TABLES; t < 512; t++)
		dir[t] = 0;
	pdpt[TOUCH_BASE >> 30] = (uint64_t)dir | PTE_P | PTE_W;
	uint64_t cr3;
	__asm__ volatile("mov %%cr3, %0\n\tmov %0, %%cr3" : "=r"(cr3) :: "memory");
}

static void tlb(uint64_t rounds)
{
	__asm__ volatile("mov %0, %%r8\n"
			 "2: mov %[base], %%rsi\n\tmov %[pages], %%ecx\n"
			 "1: mov (%%rsi), %%al\n\tadd $4096, %%rsi\n\tdec %%ecx\n\tjnz 1b\n\t"
			 "dec %%r8d\n\tjnz 2b"
			 :: "r"(rounds), [base] "i"(TOUCH_BASE), [pages] "i"(TOUCH_PAGES)
			 : "rax", "rcx", "rsi", "r8", "cc", "memory");
}

static void copy_qwords(uint64_t rounds)
{
	__asm__ volatile("mov %0, %%r8\n"
			 "2: mov %[src], %%rsi\n\tmov %[dst], %%rdi\n\tmov $8192, %%ecx\n"
			 "1: mov (%%rsi), %%rax\n\tmov %%rax, (%%rdi)\n\tadd $8, %%rsi\n\t"
			 "add $8, %%rdi\n\tdec %%ecx\n\tjnz 1b\n\t"
			 "dec %%r8d\n\tjnz 2b"
			 :: "r"(rounds), [src] "i"(COPY_SRC), [dst] "i"(COPY_DST)
			 : "rax", "rcx", "rsi", "rdi", "r8", "cc", "memory");
}

static void movsb(uint64_t rounds)
{
	__asm__ volatile("mov %0, %%r8\n"
			 "2: mov %[src], %%rsi\n\tmov %[dst], %%rdi\n\tmov $65536, %%ecx\n\t"
			 "rep movsb\n\tdec %%r8d\n\tjnz 2b"
			 :: "r"(rounds), [src] "i"(COPY_SRC), [dst] "i"(COPY_DST)
			 : "rcx", "rsi", "rdi", "r8", "cc", "memory");
}

/* Leave through isa-debug-exit (mmulab, QEMU: the run ends there). Bochs
 * has no such device: it ignores the write and goes on to its shutdown
 * port, where the string "Shutdown" ends the simulation. */
#define BOCHS_SHUTDOWN_PORT 0x8900
__attribute__((noreturn)) static void loops_exit(uint32_t v)
{
	outl(DEBUG_EXIT_PORT, v);
	for (const char *s = "Shutdown"; *s; s++)
		outb(BOCHS_SHUTDOWN_PORT, (uint8_t)*s);
	guest_exit(v);
}

void kmain(uint32_t magic, uint32_t info);
void kmain(uint32_t magic, uint32_t info)
{
	const uint32_t *mbi = (const uint32_t *)(uint64_t)info;
	const char *cmd = "";
	if (mbi[0] & MB_INFO_CMDLINE_FLAG)
		cmd = (const char *)(uint64_t)mbi[MB_INFO_CMDLINE / 4];
	/* The command line is the kernel's path, then -append's text (as
	 * QEMU builds it). */
	cmd = after_word(cmd);
	uint64_t n = parse_count(after_word(cmd));
	if (n == 0)
		loops_exit(0x7e);
	if (starts_with(cmd, "alu")) {
		alu(n);
	} else if (starts_with(cmd, "tlb")) {
		map_touch_area();
		tlb(n);
	} else if (starts_with(cmd, "memcpy")) {
		copy_qwords(n);
	} else if (starts_with(cmd, "movsb")) {
		movsb(n);
	} else if (starts_with(cmd, "cworkload")) {
		for (uint64_t i = 0; i < n; i++)
			(void)workload();
	} else {
		loops_exit(0x7e);
	}
	loops_exit(0);
}
