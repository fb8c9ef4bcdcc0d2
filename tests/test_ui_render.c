/* The visualizer drawn off-screen: after running the bundled kernel for a
 * while, every panel's rectangle holds more than one colour, the panels'
 * titles and the numbers of the models were drawn as text, a key press
 * changes what is drawn, and the screenshot file is a PNG or BMP of the
 * requested size. GUEST_KERNEL_PATH is the kernel image. */
#include <SDL.h>
#include <criterion/criterion.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "emu/snapshot.h"
#include "ui/gui.h"
#include "ui/vmcore.h"

#define W 1280
#define H 800

static struct gui *open_gui(const char *append, uint64_t insns)
{
	char err[400];
	struct gui_options o = { .mc = { .kernel = GUEST_KERNEL_PATH, .append = append },
				 .width = W, .height = H };
	cr_assert_eq(SDL_Init(0), 0);
	struct gui *g = gui_open(&o, err, sizeof err);
	cr_assert(g, "%s", err);
	gui_advance(g, insns);
	gui_frame(g);
	return g;
}

static void close_gui(struct gui *g)
{
	gui_close(g);
	SDL_Quit();
}

static unsigned colours_in(const struct gui *g, int x, int y, int w, int h)
{
	uint32_t seen[8];
	unsigned n = 0;
	for (int j = y + 4; j < y + h - 4 && n < 8; j += 3)
		for (int i = x + 4; i < x + w - 4 && n < 8; i += 3) {
			uint32_t p = gui_pixel(g, i, j);
			unsigned k = 0;
			while (k < n && seen[k] != p)
				k++;
			if (k == n)
				seen[n++] = p;
		}
	return n;
}

Test(ui_render, every_panel_has_content_and_its_title)
{
	struct gui *g = open_gui("report", 20000000);
	const char *log = gui_text_log(g);
	for (int p = 0; p < GUI_NPANELS; p++) {
		int x, y, w, h;
		gui_panel_rect(g, p, &x, &y, &w, &h);
		cr_assert_gt(w, 100);
		cr_assert_gt(h, 20);
		cr_assert_geq(colours_in(g, x, y, w, h), 3, "panel %s looks empty", gui_panel_title(p));
		if (p != GUI_STATUS)
			cr_assert(strstr(log, gui_panel_title(p)), "no title '%s'", gui_panel_title(p));
	}
	close_gui(g);
}

Test(ui_render, model_numbers_are_drawn)
{
	struct gui *g = open_gui("report", 20000000);
	const char *log = gui_text_log(g);
	char want[64];
	const struct machine *m = gui_machine(g);
	snprintf(want, sizeof want, "instructions %" PRIu64, m->cpu.insns);
	cr_assert(strstr(log, want), "counters: no '%s'", want);
	cr_assert(strstr(log, "kmalloc-64"), "slab caches listed");
	cr_assert(strstr(log, "zone DMA"), "buddy zones listed");
	cr_assert(strstr(log, "PML4E"), "page-table rows drawn");
	cr_assert(strstr(log, "-> PA "), "the walk of RIP explained");
	cr_assert(strstr(log, "L1D"), "TLB structures listed");
	close_gui(g);
}

Test(ui_render, help_key_shows_the_shortcuts)
{
	struct gui *g = open_gui("report", 1000000);
	cr_assert_null(strstr(gui_text_log(g), "single-step one instruction"));
	cr_assert(gui_key(g, "H"));
	gui_frame(g);
	cr_assert(strstr(gui_text_log(g), "single-step one instruction"));
	close_gui(g);
}

Test(ui_render, single_step_runs_one_instruction)
{
	struct gui *g = open_gui("report", 1000000);
	uint64_t before = gui_machine(g)->cpu.insns;
	cr_assert(gui_key(g, "S"));
	cr_assert_eq(gui_machine(g)->cpu.insns, before + 1);
	close_gui(g);
}

Test(ui_render, typed_address_is_walked)
{
	struct gui *g = open_gui("report", 1000000);
	cr_assert(gui_key(g, "/"));
	for (const char *k = "ffff888000001000"; *k; k++) {
		char name[2] = { (char)(*k >= 'a' ? *k - 32 : *k), 0 };
		cr_assert(gui_key(g, name));
	}
	cr_assert(gui_key(g, "Return"));
	gui_frame(g);
	cr_assert(strstr(gui_text_log(g), "VA 0xffff888000001000"), "%s", gui_text_log(g));
	cr_assert(strstr(gui_text_log(g), "-> PA 0x1000 "));
	close_gui(g);
}

Test(ui_render, hovering_a_frame_shows_its_struct_page)
{
	struct gui *g = open_gui("report", 20000000);
	int x, y, w, h;
	gui_panel_rect(g, GUI_FRAMES, &x, &y, &w, &h);
	cr_assert(strstr(gui_text_log(g), "hover a frame"));
	gui_pointer(g, x + w / 2, y + h / 3);
	gui_frame(g);
	const char *log = gui_text_log(g);
	cr_assert(strstr(log, "pfn 0x") && strstr(log, "_refcount"), "%s", log);
	close_gui(g);
}

Test(ui_render, kernel_address_space_is_shown_on_k)
{
	struct gui *g = open_gui("report", 20000000);
	cr_assert(strstr(gui_text_log(g), "current CR3, root"));
	cr_assert(strstr(gui_text_log(g), "processes: none listed"));
	cr_assert(gui_key(g, "K"));
	gui_frame(g);
	const char *log = gui_text_log(g);
	cr_assert(strstr(log, "kernel (init_mm), root 0x"), "%s", log);
	cr_assert_null(strstr(log, "root 0  ("), "the kernel's tables were found");
	cr_assert(strstr(log, "PML4E"), "its rows are drawn");
	close_gui(g);
}

#if defined(USER_INIT_PATH) && defined(USER_MPROT_PATH)
/* The visualizer over init running mprot, 6.8 million instructions in
 * (both processes live), one frame drawn. */
static struct gui *open_mprot_run(void)
{
	char err[400];
	struct gui_options o = { .mc = { .kernel = GUEST_KERNEL_PATH,
					 .initrd = USER_INIT_PATH "," USER_MPROT_PATH,
					 .append = "run=mprot" },
				 .width = W, .height = H };
	cr_assert_eq(SDL_Init(0), 0);
	struct gui *g = gui_open(&o, err, sizeof err);
	cr_assert(g, "%s", err);
	gui_advance(g, 6800000);
	gui_frame(g);
	return g;
}

/* With processes running, p shows the first one's page tables and its
 * VMAs (its /proc/PID/maps, read through VMCOREINFO). */
Test(ui_render, process_space_lists_its_vmas_on_p)
{
	struct gui *g = open_mprot_run();
	cr_assert_null(strstr(gui_text_log(g), "VMAs of pid"), "no VMA list for the CR3 view");
	cr_assert(gui_key(g, "P"));
	gui_frame(g);
	const char *log = gui_text_log(g);
	cr_assert(strstr(log, "VMAs of pid 1 (/proc/1/maps)"), "%s", log);
	cr_assert(strstr(log, "[stack]"), "the stack area is listed");
	cr_assert(strstr(log, "00400000-00401000 r--p init"), "init's first area is listed: %s", log);
	close_gui(g);
}

/* Each process's kernel stack is a vmalloc area, and the panel says whose. */
Test(ui_render, vmalloc_panel_names_each_process_kernel_stack)
{
	struct gui *g = open_mprot_run();
	const char *log = gui_text_log(g);
	cr_assert(strstr(log, "stack pid 1 init"), "%s", log);
	cr_assert(strstr(log, "stack pid 2 mprot"), "%s", log);
	close_gui(g);
}
#endif

/* Frames until the visualizer paused by itself (at most max). */
static unsigned frames_until_paused(struct gui *g, unsigned max)
{
	unsigned n = 0;
	while (n < max && !strstr(gui_text_log(g), "PAUSED")) {
		gui_run_frame(g);
		n++;
	}
	return n;
}

Test(ui_render, run_to_allocation_stops_at_alloc_pages)
{
	struct gui *g = open_gui("selftest", 14000000);
	static struct snapshot s;
	static struct vmcore v;
	uint64_t alloc_pages;
	cr_assert(gui_key(g, "A"));
	gui_run_frame(g);
	frames_until_paused(g, 20);
	cr_assert(strstr(gui_text_log(g), "stopped at alloc_pages"), "%s", gui_text_log(g));
	snapshot_init(&s);
	cr_assert(snapshot_take(&s, gui_machine(g), NULL));
	vmcore_update(&v, &s);
	cr_assert(vmcore_get(&v, "SYMBOL", "alloc_pages", &alloc_pages));
	cr_assert_eq(s.rip, alloc_pages);
	snapshot_free(&s);
	close_gui(g);
}

/* Instructions the kernel runs with `append` before its first page fault
 * (found in slices of FAULT_SLICE; 0 if it exits without one). */
#define FAULT_SLICE 100000u
static uint64_t insns_before_first_fault(const char *append)
{
	char err[400];
	struct machine *m = calloc(1, sizeof *m);
	struct machine_config cfg = { .kernel = GUEST_KERNEL_PATH, .append = append };
	cr_assert(m && machine_init(m, &cfg, err, sizeof err), "%s", err);
	uint64_t at = 0;
	do {
		at = m->cpu.insns;
		m->cfg.max_insns = at + FAULT_SLICE;
	} while (machine_run(m) == MACHINE_LIMIT && !m->cpu.mmu.stats.faults_pf);
	bool faulted = m->cpu.mmu.stats.faults_pf != 0;
	machine_free(m);
	free(m);
	return faulted ? at : 0;
}

Test(ui_render, run_to_fault_stops_after_the_page_fault)
{
	uint64_t before = insns_before_first_fault("faulttest");
	cr_assert_gt(before, 0, "faulttest raises a page fault");
	struct gui *g = open_gui("faulttest", before);
	cr_assert_eq(gui_machine(g)->cpu.mmu.stats.faults_pf, 0);
	cr_assert(gui_key(g, "F"));
	gui_run_frame(g);
	frames_until_paused(g, 20);
	cr_assert(strstr(gui_text_log(g), "stopped after a page fault"), "%s", gui_text_log(g));
	cr_assert_eq(gui_machine(g)->cpu.mmu.stats.faults_pf, 1);
	close_gui(g);
}

static void check_file_header(const char *path, const char *magic)
{
	FILE *f = fopen(path, "rb");
	char buf[8] = { 0 };
	cr_assert(f);
	cr_assert_eq(fread(buf, 1, sizeof buf, f), sizeof buf);
	fclose(f);
	cr_assert_eq(memcmp(buf, magic, strlen(magic)), 0, "%s is not a %s file", path, magic);
}

Test(ui_render, screenshots_are_written_as_png_and_bmp)
{
	struct gui *g = open_gui("report", 500000);
	char err[300], png[64], bmp[64];
	snprintf(png, sizeof png, "ui_render_%d.png", (int)getpid());
	snprintf(bmp, sizeof bmp, "ui_render_%d.bmp", (int)getpid());
	cr_assert(gui_save(g, png, err, sizeof err), "%s", err);
	cr_assert(gui_save(g, bmp, err, sizeof err), "%s", err);
	check_file_header(png, "\x89PNG\r\n");
	check_file_header(bmp, "BM");
	SDL_Surface *s = SDL_LoadBMP(bmp);
	cr_assert(s);
	cr_assert_eq(s->w, W);
	cr_assert_eq(s->h, H);
	SDL_FreeSurface(s);
	remove(png);
	remove(bmp);
	close_gui(g);
}
