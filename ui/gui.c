/* The visualizer's control loop (ui/gui.h): drive the machine in
 * slices, snapshot it between slices, rebuild the models, draw.
 *
 * Pacing: while running, each frame runs `speed` instructions, then
 * draws; frames are capped at 60 per second. The walk/event recorder
 * (an MMU observer, which turns the inline TLB fast path off while
 * attached) watches only the last GUI_SAMPLE_INSNS instructions of a
 * frame, so the guest keeps most of its headless speed. Host time is
 * read here for pacing only; the machine never sees it. */
#include "ui/gui.h"

#include <SDL.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "emu/devices.h"
#include "emu/run.h"
#include "ui/gui_state.h"

#define GUI_SAMPLE_INSNS 20000u      /* recorder window at the end of a frame */
#define GUI_CHUNK_INSNS 50000u       /* host time is looked at between chunks */
#define GUI_RUN_SECONDS 0.020        /* guest time per frame: the rest draws (>= 30 fps) */
#define GUI_DEFAULT_SPEED GUI_MAX_SPEED
#define GUI_MIN_SPEED 1000u
#define GUI_MAX_SPEED 64000000u
#define GUI_SEEK_BUDGET 200000u      /* single steps per frame when running to an event */
#define GUI_FRAME_MS 16              /* at most 60 frames per second */
#define GUI_FONT_PT 11
#define GUI_DEFAULT_W 1280
#define GUI_DEFAULT_H 800
#define GUI_SHOT_FRAMES 60
#define GUI_KM_SHARE 5.0             /* kernel model: at most 1/5 of the CPU time */

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* ---- serial --------------------------------------------------------------- */

static void gui_serial(void *ctx, uint8_t b)
{
	struct gui *g = ctx;
	if (g->o.echo_serial)
		putchar(b);
	if (b == '\n') {
		g->line[g->line_len] = '\0';
		memcpy(g->last_line, g->line, g->line_len + 1);
		g->line_len = 0;
	} else if (b >= ' ' && b < 0x7f && g->line_len + 1 < sizeof g->line) {
		g->line[g->line_len++] = (char)b;
	}
}

/* ---- running ---------------------------------------------------------------- */

/* Run up to n instructions; false once the machine stopped for good. */
static bool run_insns(struct gui *g, uint64_t n)
{
	struct machine *m = g->m;
	if (g->stopped)
		return false;
	uint64_t target = m->cpu.insns + n;
	if (g->user_limit && target > g->user_limit)
		target = g->user_limit;
	if (target <= m->cpu.insns) {
		g->stopped = true;
		snprintf(g->note, sizeof g->note, "instruction limit reached");
		return false;
	}
	m->cfg.max_insns = target;
	enum machine_stop st = machine_run(m);
	if (st == MACHINE_LIMIT)
		return true;
	g->stopped = true;
	g->mode = GUI_PAUSED;
	if (st == MACHINE_EXIT)
		snprintf(g->note, sizeof g->note, "guest exited with status %d", machine_exit_status(m));
	else
		snprintf(g->note, sizeof g->note, "%s", m->msg);
	return false;
}

void gui_advance(struct gui *g, uint64_t n)
{
	uint64_t window = n < GUI_SAMPLE_INSNS ? n : GUI_SAMPLE_INSNS;
	if (n > window && !run_insns(g, n - window))
		return;
	snapshot_recorder_attach(&g->rec, &g->m->cpu, true);
	run_insns(g, window);
	snapshot_recorder_attach(&g->rec, &g->m->cpu, false);
}

/* Single steps until a page fault was raised or RIP reached
 * alloc_pages, at most GUI_SEEK_BUDGET per frame. */
static void seek(struct gui *g)
{
	uint64_t faults = g->m->cpu.mmu.stats.faults_pf, target = g->km.alloc_pages;
	if (g->mode == GUI_TO_ALLOC && !target) {
		snprintf(g->note, sizeof g->note, "no alloc_pages in VMCOREINFO: cannot stop there");
		g->mode = GUI_PAUSED;
		return;
	}
	snapshot_recorder_attach(&g->rec, &g->m->cpu, true);
	for (unsigned i = 0; i < GUI_SEEK_BUDGET && run_insns(g, 1); i++) {
		bool hit = g->mode == GUI_TO_FAULT ? g->m->cpu.mmu.stats.faults_pf != faults
						   : g->m->cpu.rip == target;
		if (hit) {
			snprintf(g->note, sizeof g->note, "%s",
				 g->mode == GUI_TO_FAULT ? "stopped after a page fault"
							 : "stopped at alloc_pages");
			g->mode = GUI_PAUSED;
			break;
		}
	}
	snapshot_recorder_attach(&g->rec, &g->m->cpu, false);
}

/* ---- models ------------------------------------------------------------------ */

/* Open the tables on the walk of RIP once, so the first view shows where
 * the CPU is. */
static void open_rip_path(struct gui *g)
{
	struct mmu_debug_walk w;
	if (g->pt_opened_rip || g->snap.paging == PAGING_NONE ||
	    !snapshot_probe(&g->snap, g->snap.rip, mmu_acc(ACC_FETCH, 0, false, false), &w) || !w.ok)
		return;
	for (int pass = 0; pass < 4; pass++) {
		for (size_t i = 0; i < g->pt.n; i++) {
			const struct pgt_row *r = &g->pt.row[i];
			bool on_path = r->present && !r->leaf && !r->expanded;
			for (unsigned l = 0; on_path && l + 1 < w.nlevels; l++)
				if ((w.lv[l + 1].entry_pa & ~UINT64_C(0xfff)) == r->target) {
					pgtree_toggle(&g->pt, r);
					g->pt_cursor = (int)i;
				}
		}
		pgtree_build(&g->pt, &g->snap, panels_space_root(g, NULL, 0), g->snap.paging);
	}
	g->pt_opened_rip = true;
}

static double cpu_s(void);

/* Snapshot, models, drawing. The kernel model reads every struct page:
 * with throttle, it is rebuilt only when its last build took at most a
 * fifth of the time since, so large guests keep the frame rate. */
static void frame(struct gui *g, bool throttle)
{
	if (!snapshot_take(&g->snap, g->m, &g->rec))
		snprintf(g->note, sizeof g->note, "out of memory copying the TLBs");
	vmcore_update(&g->vc, &g->snap);
	double t0 = cpu_s();
	if (!throttle || t0 - g->km_when >= GUI_KM_SHARE * g->km_cost) {
		km_build(&g->km, &g->vc, &g->snap);
		g->km_when = cpu_s();
		g->km_cost = g->km_when - t0;
	}
	hw_build(&g->hw, &g->snap, g->km.ok ? (int64_t)g->km.mem_free_kb : -1);
	if (g->space >= GUI_SPACE_TASK0 + g->km.ntasks)
		g->space = GUI_SPACE_CR3; /* the task is gone */
	uint64_t root = panels_space_root(g, NULL, 0);
	pgtree_build(&g->pt, &g->snap, root,
		     root || g->space == GUI_SPACE_CR3 ? g->snap.paging : PAGING_NONE);
	open_rip_path(g);
	if (!g->tlb_chosen) { /* list the fullest structure first */
		for (unsigned i = 0; i < g->hw.nstruct; i++)
			if (g->hw.st[i].n > g->hw.st[g->tlb_sel].n)
				g->tlb_sel = i;
		g->tlb_chosen = g->hw.nstruct > 0;
	}
	panels_draw(g);
}

void gui_frame(struct gui *g)
{
	frame(g, false);
}

/* ---- input ------------------------------------------------------------------- */

static void probe_input(struct gui *g)
{
	char *end;
	errno = 0;
	uint64_t va = strtoull(g->input, &end, 16);
	if (errno || !g->input[0] || *end) {
		snprintf(g->note, sizeof g->note, "not a hex address: '%s'", g->input);
		return;
	}
	g->probe_va = va;
	g->have_probe = true;
}

static bool input_key(struct gui *g, SDL_Keycode k)
{
	size_t n = strlen(g->input);
	if (k == SDLK_RETURN || k == SDLK_KP_ENTER) {
		probe_input(g);
		g->input_active = false;
	} else if (k == SDLK_ESCAPE) {
		g->input_active = false;
	} else if (k == SDLK_BACKSPACE) {
		if (n)
			g->input[n - 1] = '\0';
	} else if (((k >= '0' && k <= '9') || (k >= 'a' && k <= 'f') || k == 'x') &&
		   n + 1 < sizeof g->input) {
		g->input[n] = (char)k;
		g->input[n + 1] = '\0';
	}
	return true;
}

static void move_cursor(struct gui *g, int d)
{
	g->pt_cursor += d;
	if (g->pt_cursor < 0)
		g->pt_cursor = 0;
}

/* Keys that change running state; false if k is not one of them. */
static bool run_key(struct gui *g, SDL_Keycode k)
{
	switch (k) {
	case SDLK_SPACE: g->mode = g->mode == GUI_PAUSED ? GUI_RUNNING : GUI_PAUSED; break;
	case SDLK_s: g->mode = GUI_PAUSED; run_insns(g, 1); break;
	case SDLK_f: g->mode = GUI_TO_FAULT; break;
	case SDLK_a: g->mode = GUI_TO_ALLOC; break;
	case SDLK_PLUS: case SDLK_EQUALS: case SDLK_KP_PLUS:
		g->speed = g->speed * 2 > GUI_MAX_SPEED ? GUI_MAX_SPEED : g->speed * 2;
		break;
	case SDLK_MINUS: case SDLK_KP_MINUS:
		g->speed = g->speed / 2 < GUI_MIN_SPEED ? GUI_MIN_SPEED : g->speed / 2;
		break;
	default: return false;
	}
	return true;
}

/* Keys that change what is shown. */
static bool view_key(struct gui *g, SDL_Keycode k)
{
	switch (k) {
	case SDLK_UP: move_cursor(g, -1); break;
	case SDLK_DOWN: move_cursor(g, 1); break;
	case SDLK_PAGEUP: move_cursor(g, -20); break;
	case SDLK_PAGEDOWN: move_cursor(g, 20); break;
	case SDLK_RETURN:
		if (g->pt_cursor < (int)g->pt.n)
			pgtree_toggle(&g->pt, &g->pt.row[g->pt_cursor]);
		break;
	case SDLK_k:
		g->space = g->space == GUI_SPACE_KERNEL ? GUI_SPACE_CR3 : GUI_SPACE_KERNEL;
		g->pt_cursor = g->pt_scroll = 0;
		break;
	case SDLK_p: /* the next process, then back to CR3 */
		g->space = g->space < GUI_SPACE_TASK0 ? GUI_SPACE_TASK0 : g->space + 1;
		if (g->space >= GUI_SPACE_TASK0 + g->km.ntasks)
			g->space = GUI_SPACE_CR3;
		g->pt_cursor = g->pt_scroll = 0;
		break;
	case SDLK_SLASH: g->input_active = true; g->input[0] = '\0'; break;
	case SDLK_z: g->zoom = g->zoom < 16 ? g->zoom + 1 : 16; break;
	case SDLK_x: g->zoom = g->zoom > 1 ? g->zoom - 1 : 1; break;
	case SDLK_t: g->tlb_chosen = true; g->tlb_sel = g->hw.nstruct ? (g->tlb_sel + 1) % g->hw.nstruct : 0; break;
	case SDLK_h: case SDLK_F1: g->help = !g->help; break;
	default: return false;
	}
	return true;
}

static bool handle_key(struct gui *g, SDL_Keycode k)
{
	if (g->input_active)
		return input_key(g, k);
	return run_key(g, k) || view_key(g, k);
}

void gui_pointer(struct gui *g, int x, int y)
{
	g->hover_x = x;
	g->hover_y = y;
}

bool gui_key(struct gui *g, const char *name)
{
	SDL_Keycode k = SDL_GetKeyFromName(name);
	if (k == SDLK_UNKNOWN)
		return false;
	return handle_key(g, k);
}

static bool in_panel(const struct gui *g, enum gui_panel p, int x, int y)
{
	SDL_Point pt = { x, y };
	return SDL_PointInRect(&pt, &g->rect[p]);
}

/* Wheel: scroll the page tables or the frame map under the pointer. */
static void mouse_wheel(struct gui *g, int dy)
{
	if (in_panel(g, GUI_PAGETABLES, g->hover_x, g->hover_y))
		move_cursor(g, -3 * dy);
	else if (in_panel(g, GUI_FRAMES, g->hover_x, g->hover_y))
		g->map_row0 = g->map_row0 - 4 * dy < 0 ? 0 : g->map_row0 - 4 * dy;
}

/* Click on a page-table row: select it, and open or close its table. */
static void mouse_click(struct gui *g, int x, int y)
{
	if (!in_panel(g, GUI_PAGETABLES, x, y) || y < g->pt_rows_y)
		return;
	int row = g->pt_scroll + (y - g->pt_rows_y) / g->cv.ch;
	if (row >= (int)g->pt.n)
		return;
	g->pt_cursor = row;
	pgtree_toggle(&g->pt, &g->pt.row[row]);
}

/* False when the window was closed or q/Esc pressed. */
static bool poll_events(struct gui *g)
{
	SDL_Event e;
	while (SDL_PollEvent(&e)) {
		if (e.type == SDL_QUIT)
			return false;
		if (e.type == SDL_MOUSEMOTION) {
			g->hover_x = e.motion.x;
			g->hover_y = e.motion.y;
		} else if (e.type == SDL_MOUSEWHEEL) {
			mouse_wheel(g, e.wheel.y);
		} else if (e.type == SDL_MOUSEBUTTONDOWN && e.button.button == SDL_BUTTON_LEFT) {
			mouse_click(g, e.button.x, e.button.y);
		}
		if (e.type != SDL_KEYDOWN)
			continue;
		SDL_Keycode k = e.key.keysym.sym;
		if (!g->input_active && (k == SDLK_q || k == SDLK_ESCAPE))
			return false;
		if (g->input_active || k != SDLK_q)
			handle_key(g, k);
	}
	return true;
}

/* ---- window ------------------------------------------------------------------- */

static void present(struct gui *g)
{
	SDL_Surface *ws = g->win ? SDL_GetWindowSurface(g->win) : NULL;
	if (!ws)
		return;
	SDL_BlitSurface(g->cv.s, NULL, ws, NULL);
	SDL_UpdateWindowSurface(g->win);
}

/* This thread's CPU time: the guest's share of a frame is measured in
 * it, so drawing costs the guest the same fraction on a loaded host as
 * on an idle one. */
static double cpu_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

/* Run the guest for GUI_RUN_SECONDS of CPU time or `speed` instructions,
 * whichever comes first; the recorder watches the last chunk. */
static void run_timed(struct gui *g)
{
	double t0 = cpu_s();
	uint64_t done = 0;
	while (done + GUI_CHUNK_INSNS < g->speed && cpu_s() - t0 < GUI_RUN_SECONDS) {
		if (!run_insns(g, GUI_CHUNK_INSNS))
			return;
		done += GUI_CHUNK_INSNS;
	}
	gui_advance(g, g->speed - done < GUI_CHUNK_INSNS ? g->speed - done : GUI_CHUNK_INSNS);
}

void gui_run_frame(struct gui *g)
{
	if (g->mode == GUI_RUNNING)
		run_timed(g);
	else if (g->mode != GUI_PAUSED)
		seek(g);
	frame(g, g->mode == GUI_RUNNING);
	present(g);
}

void gui_loop(struct gui *g)
{
	double last = now_s(), insns_t = last;
	uint64_t insns0 = g->m->cpu.insns;
	unsigned frames = 0;
	while (poll_events(g)) {
		uint32_t t0 = SDL_GetTicks();
		gui_run_frame(g);
		frames++;
		double t = now_s();
		if (t - last >= 1.0) {
			g->fps = frames / (t - last);
			g->mips = (double)(g->m->cpu.insns - insns0) / (t - insns_t) / 1e6;
			frames = 0;
			last = insns_t = t;
			insns0 = g->m->cpu.insns;
		}
		uint32_t spent = SDL_GetTicks() - t0;
		if (spent < GUI_FRAME_MS)
			SDL_Delay(GUI_FRAME_MS - spent);
	}
}

/* ---- lifetime ------------------------------------------------------------------- */

static bool open_window(struct gui *g, char *err, size_t errlen)
{
	/* Frames are drawn in software: show them through the plain window
	 * framebuffer, not a texture (which costs a GL upload per frame and,
	 * under the offscreen driver, a software GL). */
	SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
	if (SDL_InitSubSystem(SDL_INIT_VIDEO) < 0) {
		snprintf(err, errlen, "mmulab: gui: no display (%s); try --screenshot FILE", SDL_GetError());
		return false;
	}
	/* SDL falls back to a driver that shows nothing when no display
	 * answers; only accept that when asked for by name (tests, bench). */
	const char *drv = SDL_GetCurrentVideoDriver(), *asked = SDL_getenv("SDL_VIDEODRIVER");
	if (drv && (!strcmp(drv, "offscreen") || !strcmp(drv, "dummy")) && !(asked && *asked)) {
		snprintf(err, errlen, "mmulab: gui: no display (set DISPLAY or WAYLAND_DISPLAY); try "
				      "--screenshot FILE");
		return false;
	}
	g->win = SDL_CreateWindow("mmulab", SDL_WINDOWPOS_UNDEFINED, SDL_WINDOWPOS_UNDEFINED,
				  g->o.width, g->o.height, 0);
	if (!g->win) {
		snprintf(err, errlen, "mmulab: gui: %s", SDL_GetError());
		return false;
	}
	return true;
}

struct gui *gui_open(const struct gui_options *o, char *err, size_t errlen)
{
	struct gui *g = calloc(1, sizeof *g);
	if (!g || !(g->m = calloc(1, sizeof *g->m))) {
		free(g);
		snprintf(err, errlen, "mmulab: out of memory");
		return NULL;
	}
	g->o = *o;
	if (g->o.width <= 0 || g->o.height <= 0) {
		g->o.width = GUI_DEFAULT_W;
		g->o.height = GUI_DEFAULT_H;
	}
	g->speed = o->insns_per_frame ? o->insns_per_frame : GUI_DEFAULT_SPEED;
	g->zoom = 3;
	g->mode = GUI_PAUSED;
	struct machine_config mc = o->mc;
	g->user_limit = mc.max_insns;
	mc.serial_sink = gui_serial;
	mc.serial_ctx = g;
	snapshot_init(&g->snap);
	km_init(&g->km);
	hw_init(&g->hw);
	pgtree_init(&g->pt);
	if (!machine_init(g->m, &mc, err, errlen)) {
		free(g->m);
		g->m = NULL;
		gui_close(g);
		return NULL;
	}
	snapshot_recorder_init(&g->rec, &g->m->cpu);
	if (!canvas_init(&g->cv, g->o.width, g->o.height, GUI_FONT_PT, err, errlen) ||
	    (o->window && !open_window(g, err, errlen))) {
		gui_close(g);
		return NULL;
	}
	panels_layout(g);
	return g;
}

void gui_close(struct gui *g)
{
	if (!g)
		return;
	if (g->m) {
		snapshot_recorder_attach(&g->rec, &g->m->cpu, false);
		machine_free(g->m);
		free(g->m);
	}
	if (g->win)
		SDL_DestroyWindow(g->win);
	canvas_free(&g->cv);
	km_free(&g->km);
	hw_free(&g->hw);
	snapshot_free(&g->snap);
	free(g);
}

bool gui_save(const struct gui *g, const char *path, char *err, size_t errlen)
{
	return canvas_save(&g->cv, path, err, errlen);
}

const char *gui_text_log(const struct gui *g)
{
	return g->cv.log ? g->cv.log : "";
}

void gui_panel_rect(const struct gui *g, enum gui_panel p, int *x, int *y, int *w, int *h)
{
	const SDL_Rect *r = &g->rect[p < GUI_NPANELS ? p : 0];
	*x = r->x;
	*y = r->y;
	*w = r->w;
	*h = r->h;
}

uint32_t gui_pixel(const struct gui *g, int x, int y)
{
	return canvas_pixel(&g->cv, x, y);
}

const struct machine *gui_machine(const struct gui *g)
{
	return g->m;
}

/* ---- the command ------------------------------------------------------------------ */

struct gui_cli {
	const char *screenshot;
	uint64_t after;
	int w, h;
	bool run;
};

/* Take the gui's own options out of argv (the rest are `run` options). */
static int take_gui_opts(int *argc, char **argv, struct gui_cli *c)
{
	int out = 0;
	for (int i = 0; i < *argc; i++) {
		const char *a = argv[i][0] == '-' && argv[i][1] == '-' ? argv[i] + 1 : argv[i];
		bool valued = !strcmp(a, "-screenshot") || !strcmp(a, "-after-insns") || !strcmp(a, "-size");
		if (!strcmp(a, "-run")) {
			c->run = true;
			continue;
		}
		if (!strncmp(a, "-trace", 6)) { /* one MMU observer: the recorder's or the trace's */
			fprintf(stderr, "mmulab: gui: %s is not supported here (use mmulab run)\n", argv[i]);
			return RUN_STATUS_USAGE;
		}
		if (!valued) {
			argv[out++] = argv[i];
			continue;
		}
		if (i + 1 >= *argc) {
			fprintf(stderr, "mmulab: gui: %s needs a value\n", argv[i]);
			return RUN_STATUS_USAGE;
		}
		const char *v = argv[++i];
		char *end;
		errno = 0;
		if (!strcmp(a, "-screenshot"))
			c->screenshot = v;
		else if (!strcmp(a, "-after-insns") &&
			 ((c->after = strtoull(v, &end, 10)), errno || *end || *v < '0' || *v > '9')) {
			fprintf(stderr, "mmulab: gui: bad instruction count '%s'\n", v);
			return RUN_STATUS_USAGE;
		} else if (!strcmp(a, "-size") &&
			   (sscanf(v, "%dx%d", &c->w, &c->h) != 2 || c->w < 640 || c->h < 400 ||
			    c->w > 7680 || c->h > 4320)) {
			fprintf(stderr, "mmulab: gui: bad size '%s' (WxH, from 640x400)\n", v);
			return RUN_STATUS_USAGE;
		}
	}
	*argc = out;
	return 0;
}

/* Run in GUI_SHOT_FRAMES frames, so the timeline has a history. */
static int screenshot(struct gui *g, const struct gui_cli *c)
{
	char err[300];
	for (unsigned i = 0; i < GUI_SHOT_FRAMES; i++) {
		gui_advance(g, c->after / GUI_SHOT_FRAMES + (i == 0 ? c->after % GUI_SHOT_FRAMES : 0));
		gui_frame(g);
	}
	if (!gui_save(g, c->screenshot, err, sizeof err)) {
		fprintf(stderr, "%s\n", err);
		return RUN_STATUS_USAGE;
	}
	return 0;
}

int gui_command(int argc, char **argv)
{
	struct gui_cli c = { 0 };
	struct gui_options o = { 0 };
	struct mmu_model model;
	const char *serial;
	char err[400];
	int rc = take_gui_opts(&argc, argv, &c);
	if (rc || (rc = run_parse_config(argc, argv, &o.mc, &model, &serial)))
		return rc;
	o.width = c.w;
	o.height = c.h;
	o.window = !c.screenshot;
	o.echo_serial = strcmp(serial, "none") != 0;
	if (SDL_Init(0) < 0) {
		fprintf(stderr, "mmulab: gui: %s\n", SDL_GetError());
		return RUN_STATUS_USAGE;
	}
	struct gui *g = gui_open(&o, err, sizeof err);
	if (!g) {
		fprintf(stderr, "%s\n", err);
		SDL_Quit();
		return RUN_STATUS_USAGE;
	}
	if (c.screenshot) {
		rc = screenshot(g, &c);
	} else {
		g->mode = c.run ? GUI_RUNNING : GUI_PAUSED;
		gui_loop(g);
	}
	fflush(stdout);
	gui_close(g);
	SDL_Quit();
	return rc;
}
