/* Drawing the panels (ui/gui_state.h). Layout: a status bar on top, then
 * two rows of three panels sized from the window, so the same code fits
 * 1280x800 and 1920x1080. */
#include <inttypes.h>
#include <stdio.h>
#include <string.h>

#include "ui/gui_state.h"

/* Palette (0xRRGGBB). */
#define COL_BG 0x14161c
#define COL_PANEL 0x1c1f27
#define COL_BORDER 0x3a3f4c
#define COL_TITLE 0x8ab4f8
#define COL_TEXT 0xd0d4dc
#define COL_DIM 0x7a808c
#define COL_CURSOR 0x2e3646
#define COL_WARN 0xf28b82
#define COL_OK 0x81c995
#define COL_USER 0x81c995
#define COL_KWRITE 0xfdd663
#define COL_KREAD 0x8ab4f8

static const uint32_t owner_col[KM_NOWNERS] = {
	[KM_UNKNOWN] = 0x30343e, [KM_NOT_RAM] = 0x101114, [KM_FREE] = 0x2f7d4f,
	[KM_PCP] = 0x7ec8a0, [KM_SLAB] = 0xe0a040, [KM_PAGETABLE] = 0xd05ce3,
	[KM_USER] = 0x4da3ff, [KM_ZERO] = 0xffffff, [KM_VMALLOC] = 0x40d0d0,
	[KM_KERNEL] = 0xe05050, [KM_RESERVED] = 0x707480, [KM_ALLOCATED] = 0xb08a60,
};

static const char *const panel_titles[GUI_NPANELS] = {
	[GUI_STATUS] = "Status", [GUI_PAGETABLES] = "Page tables",
	[GUI_FRAMES] = "Physical memory", [GUI_TLB] = "TLBs and caches",
	[GUI_SLAB] = "Slab caches and vmalloc", [GUI_BUDDY] = "Buddy free lists",
	[GUI_COUNTERS] = "Counters and timeline",
};

const char *gui_panel_title(enum gui_panel p)
{
	return p < GUI_NPANELS ? panel_titles[p] : "?";
}

void panels_layout(struct gui *g)
{
	int W = g->cv.s->w, H = g->cv.s->h, ch = g->cv.ch;
	int top = 2 * ch + 8, rowa = (H - top) * 56 / 100;
	int c1 = W * 37 / 100, c2 = W * 29 / 100, c3 = W - c1 - c2;
	g->rect[GUI_STATUS] = (SDL_Rect){ 0, 0, W, top };
	g->rect[GUI_PAGETABLES] = (SDL_Rect){ 0, top, c1, rowa };
	g->rect[GUI_FRAMES] = (SDL_Rect){ c1, top, c2, rowa };
	g->rect[GUI_TLB] = (SDL_Rect){ c1 + c2, top, c3, rowa };
	g->rect[GUI_SLAB] = (SDL_Rect){ 0, top + rowa, c1, H - top - rowa };
	g->rect[GUI_BUDDY] = (SDL_Rect){ c1, top + rowa, c2, H - top - rowa };
	g->rect[GUI_COUNTERS] = (SDL_Rect){ c1 + c2, top + rowa, c3, H - top - rowa };
}

/* Panel background and title; returns the content's first text row y. */
static int panel_begin(struct gui *g, enum gui_panel p)
{
	SDL_Rect r = g->rect[p];
	canvas_fill(&g->cv, r.x + 2, r.y + 2, r.w - 4, r.h - 4, COL_PANEL);
	canvas_outline(&g->cv, r.x + 2, r.y + 2, r.w - 4, r.h - 4, COL_BORDER);
	canvas_text(&g->cv, r.x + 8, r.y + 4, r.w - 16, COL_TITLE, panel_titles[p]);
	return r.y + 4 + g->cv.ch + 2;
}

#define TX(g, p) ((g)->rect[p].x + 8)
#define TW(g, p) ((g)->rect[p].w - 16)

/* ---- status --------------------------------------------------------------- */

static const char *mode_name(const struct gui *g)
{
	if (g->stopped)
		return "STOPPED";
	static const char *const n[] = { "PAUSED", "RUNNING", "RUN TO FAULT", "RUN TO ALLOC" };
	return n[g->mode];
}

static void draw_status(struct gui *g)
{
	SDL_Rect r = g->rect[GUI_STATUS];
	const struct snapshot *s = &g->snap;
	canvas_fill(&g->cv, r.x, r.y, r.w, r.h, 0x0e1015);
	canvas_textf(&g->cv, r.x + 8, r.y + 3, r.w - 16, g->mode == GUI_PAUSED ? COL_KWRITE : COL_OK,
		     "%s  speed %" PRIu64 " insns/frame  %.1f MIPS  %.0f fps  RIP %016" PRIx64
		     "  CPL%u  %s  CR3 %#" PRIx64 "   h: help",
		     mode_name(g), g->speed, g->mips, g->fps, s->rip, s->cpl, cpu_mode_name(s->mode),
		     s->cr3);
	canvas_textf(&g->cv, r.x + 8, r.y + 4 + g->cv.ch, r.w - 16, COL_TEXT, "guest: %s%s%s",
		     g->last_line[0] ? g->last_line : "(no output yet)", g->note[0] ? "   | " : "",
		     g->note);
}

/* ---- page tables ---------------------------------------------------------- */

static uint32_t entry_colour(const struct pgt_row *r)
{
	if (!r->present)
		return COL_DIM;
	if (r->entry & PTE_US)
		return COL_USER;
	return (r->entry & PTE_RW) ? COL_KWRITE : COL_KREAD;
}

static void pt_row_text(const struct gui *g, const struct pgt_row *r, char *buf, size_t len)
{
	char fl[48], idx[16];
	pgtree_flags_text(r->entry, r->level, r->leaf, fl, sizeof fl);
	if (r->last > r->first)
		snprintf(idx, sizeof idx, "%u-%u", r->first, r->last);
	else
		snprintf(idx, sizeof idx, "%u", r->first);
	const char *mark = !r->present || r->leaf ? "   " : r->expanded ? "[-]" : "[+]";
	if (!r->present)
		snprintf(buf, len, "%*s%s %-5s %-7s %016" PRIx64 "  %s", 2 * r->depth, "", mark,
			 pgtree_level_name(g->pt.mode, r->level), idx, r->va, fl);
	else
		snprintf(buf, len, "%*s%s %-5s %-7s %016" PRIx64 " -> %#" PRIx64 " %s%s", 2 * r->depth, "",
			 mark, pgtree_level_name(g->pt.mode, r->level), idx, r->va, r->target, fl,
			 r->empty ? " (empty)" : "");
}

/* The process list on one line: pid and name, the one shown marked. */
static void draw_tasks(struct gui *g, int x, int y, int w)
{
	char line[256];
	int n = snprintf(line, sizeof line, "processes:");
	if (!g->km.ntasks)
		snprintf(line + n, sizeof line - (size_t)n, " none listed by the kernel");
	for (unsigned i = 0; i < g->km.ntasks && n < (int)sizeof line; i++)
		n += snprintf(line + n, sizeof line - (size_t)n, " %s%d:%s%s",
			      g->space == GUI_SPACE_TASK0 + i ? "[" : "", g->km.task[i].pid,
			      g->km.task[i].comm, g->space == GUI_SPACE_TASK0 + i ? "]" : "");
	canvas_text(&g->cv, x, y, w, COL_DIM, line);
}

/* The VMAs of the process shown (its /proc/PID/maps, one area a line:
 * range, rights, name), at most max lines from y; returns the lines used. */
#define GUI_VMA_LINES 6
static int draw_vmas(struct gui *g, int x, int y, int w)
{
	if (g->space < GUI_SPACE_TASK0 || g->space >= GUI_SPACE_TASK0 + g->km.ntasks)
		return 0;
	const struct km_task *t = &g->km.task[g->space - GUI_SPACE_TASK0];
	char maps[4096];
	int n = km_format_maps(&g->vc, &g->snap, t->mm, maps, sizeof maps);
	canvas_textf(&g->cv, x, y, w, COL_TITLE, "VMAs of pid %d (/proc/%d/maps): %d", t->pid, t->pid,
		     n < 0 ? 0 : n);
	int used = 1;
	const char *line = maps;
	for (int i = 0; n > 0 && i < n && used < GUI_VMA_LINES && *line; i++, used++) {
		const char *nl = strchr(line, '\n');
		int len = nl ? (int)(nl - line) : (int)strlen(line);
		const char *sp = memchr(line, ' ', (size_t)len);
		int range = sp ? (int)(sp - line) : len;
		const char *name = line + len;
		while (name > line && name[-1] != ' ')
			name--;
		canvas_textf(&g->cv, x, y + used * g->cv.ch, w, COL_USER, "%.*s %.4s %.*s", range, line,
			     sp ? sp + 1 : "", (int)(line + len - name), name);
		line = nl ? nl + 1 : line + len;
	}
	return used;
}

static void draw_walk_box(struct gui *g, int y)
{
	int x = TX(g, GUI_PAGETABLES), w = TW(g, GUI_PAGETABLES);
	char lines[GUI_WALK_LINES][96];
	canvas_fill(&g->cv, x - 4, y - 2, w + 8, 1, COL_BORDER);
	canvas_textf(&g->cv, x, y, w, g->input_active ? COL_KWRITE : COL_TITLE,
		     "walk of VA (/ to type): %s%s", g->input_active ? g->input : "",
		     g->input_active ? "_" : "");
	y += g->cv.ch;
	uint64_t va = g->have_probe ? g->probe_va : g->snap.rip;
	if (g->snap.paging == PAGING_NONE) {
		canvas_text(&g->cv, x, y, w, COL_DIM, "paging is off: linear = physical");
		return;
	}
	unsigned n = pgtree_explain(&g->snap, va, lines, GUI_WALK_LINES);
	for (unsigned i = 0; i < n; i++, y += g->cv.ch)
		canvas_text(&g->cv, x, y, w, i + 1 == n ? COL_OK : COL_TEXT, lines[i]);
}

static void draw_pagetables(struct gui *g)
{
	int y = panel_begin(g, GUI_PAGETABLES), x = TX(g, GUI_PAGETABLES), w = TW(g, GUI_PAGETABLES);
	const SDL_Rect *r = &g->rect[GUI_PAGETABLES];
	char name[48];
	panels_space_root(g, name, sizeof name);
	canvas_textf(&g->cv, x, y, w, COL_DIM, "%s, root %#" PRIx64 "  (k: kernel, p: processes)", name,
		     g->pt.root);
	y += g->cv.ch;
	draw_tasks(g, x, y, w);
	y += g->cv.ch + 2;
	int box = (GUI_WALK_LINES + 1) * g->cv.ch + 6;
	if (g->space >= GUI_SPACE_TASK0)
		box += GUI_VMA_LINES * g->cv.ch + 6;
	int rows = (r->y + r->h - box - y - 4) / g->cv.ch;
	g->pt_rows_y = y;
	if (g->pt_cursor >= (int)g->pt.n)
		g->pt_cursor = g->pt.n ? (int)g->pt.n - 1 : 0;
	if (g->pt_cursor < g->pt_scroll)
		g->pt_scroll = g->pt_cursor;
	if (rows > 0 && g->pt_cursor >= g->pt_scroll + rows)
		g->pt_scroll = g->pt_cursor - rows + 1;
	if (!g->pt.n)
		canvas_text(&g->cv, x, y, w, COL_DIM, "no paging structures (paging off)");
	for (int i = 0; i < rows && g->pt_scroll + i < (int)g->pt.n; i++) {
		const struct pgt_row *row = &g->pt.row[g->pt_scroll + i];
		char buf[160];
		if (g->pt_scroll + i == g->pt_cursor)
			canvas_fill(&g->cv, x - 4, y + i * g->cv.ch, w + 8, g->cv.ch, COL_CURSOR);
		pt_row_text(g, row, buf, sizeof buf);
		canvas_text(&g->cv, x, y + i * g->cv.ch, w, entry_colour(row), buf);
	}
	int walk_y = r->y + r->h - box;
	if (g->space >= GUI_SPACE_TASK0) {
		canvas_fill(&g->cv, x - 4, walk_y - 2, w + 8, 1, COL_BORDER);
		draw_vmas(g, x, walk_y, w);
		walk_y += GUI_VMA_LINES * g->cv.ch + 6;
	}
	draw_walk_box(g, walk_y);
}

/* ---- physical memory map -------------------------------------------------- */

static uint32_t frame_colour(const struct km_model *k, uint64_t pfn)
{
	unsigned o = k->owner[pfn];
	if (o == KM_FREE) { /* darker green for larger blocks */
		unsigned ord = k->order[pfn] > 10 ? 10 : k->order[pfn];
		return (uint32_t)(0x50 - 3 * ord) << 16 | (uint32_t)(0xc0 - 8 * ord) << 8 |
		       (uint32_t)(0x70 - 4 * ord);
	}
	return owner_col[o < KM_NOWNERS ? o : 0];
}

struct map_geom {
	int x, y, cols, rows, cell, gap;
};

static struct map_geom map_geom(const struct gui *g)
{
	const SDL_Rect *r = &g->rect[GUI_FRAMES];
	struct map_geom m = { .x = r->x + 8, .y = r->y + 6 + 2 * g->cv.ch, .cell = g->zoom };
	m.gap = m.cell >= 4 ? 1 : 0;
	int legend = 8 * g->cv.ch;
	m.cols = (r->w - 16) / (m.cell + m.gap);
	m.rows = (r->h - (m.y - r->y) - legend) / (m.cell + m.gap);
	if (m.cols < 1)
		m.cols = 1;
	if (m.rows < 1)
		m.rows = 1;
	return m;
}

int64_t panels_frame_at(const struct gui *g, int x, int y)
{
	struct map_geom m = map_geom(g);
	int cx = (x - m.x) / (m.cell + m.gap), cy = (y - m.y) / (m.cell + m.gap);
	if (x < m.x || y < m.y || cx >= m.cols || cy >= m.rows)
		return -1;
	uint64_t pfn = ((uint64_t)cy + (uint64_t)g->map_row0) * (uint64_t)m.cols + (uint64_t)cx;
	return pfn < g->km.nframes ? (int64_t)pfn : -1;
}

static void draw_legend(struct gui *g, int y)
{
	int x = TX(g, GUI_FRAMES), w = TW(g, GUI_FRAMES), col = 0;
	for (unsigned o = 0; o < KM_NOWNERS; o++) {
		if (!g->km.owner_count[o] && o != KM_FREE)
			continue;
		int cx = x + (col % 2) * (w / 2), cy = y + (col / 2) * g->cv.ch;
		canvas_fill(&g->cv, cx, cy + 3, g->cv.ch - 6, g->cv.ch - 6, owner_col[o]);
		canvas_textf(&g->cv, cx + g->cv.ch, cy, w / 2 - g->cv.ch, COL_TEXT, "%s %" PRIu64,
			     km_owner_name((enum km_owner)o), g->km.owner_count[o]);
		col++;
	}
}

static void draw_hover(struct gui *g, int y)
{
	int x = TX(g, GUI_FRAMES), w = TW(g, GUI_FRAMES);
	int64_t pfn = panels_frame_at(g, g->hover_x, g->hover_y);
	struct km_page pg;
	if (pfn < 0) {
		canvas_text(&g->cv, x, y, w, COL_DIM, "hover a frame for its struct page");
		return;
	}
	canvas_textf(&g->cv, x, y, w, COL_TEXT, "pfn %#" PRIx64 " (pa %#" PRIx64 "): %s", (uint64_t)pfn,
		     (uint64_t)pfn << 12, km_owner_name((enum km_owner)g->km.owner[pfn]));
	if (km_page(&g->km, &g->vc, &g->snap, (uint64_t)pfn, &pg))
		canvas_textf(&g->cv, x, y + g->cv.ch, w, COL_TEXT,
			     "flags %#" PRIx64 " private %" PRIu64 " _mapcount %d _refcount %d %s%s",
			     pg.flags, pg.private_, pg.mapcount, pg.refcount, pg.slab_name[0] ? "slab " : "",
			     pg.slab_name);
}

static void draw_frames(struct gui *g)
{
	int y = panel_begin(g, GUI_FRAMES);
	struct map_geom m = map_geom(g);
	canvas_textf(&g->cv, TX(g, GUI_FRAMES), y, TW(g, GUI_FRAMES), COL_DIM,
		     "%" PRIu64 " frames, %d px each (z/x zoom, wheel scrolls)%s", g->km.nframes, m.cell,
		     g->km.ok ? "" : "  [hardware view]");
	uint64_t total_rows = (g->km.nframes + (uint64_t)m.cols - 1) / (uint64_t)m.cols;
	if ((uint64_t)g->map_row0 + (uint64_t)m.rows > total_rows)
		g->map_row0 = total_rows > (uint64_t)m.rows ? (int)(total_rows - (uint64_t)m.rows) : 0;
	uint64_t first = (uint64_t)g->map_row0 * (uint64_t)m.cols;
	uint64_t shown = (uint64_t)m.cols * (uint64_t)m.rows;
	for (uint64_t i = 0; first + i < g->km.nframes && i < shown; i++) {
		int cx = m.x + (int)(i % (uint64_t)m.cols) * (m.cell + m.gap);
		int cy = m.y + (int)(i / (uint64_t)m.cols) * (m.cell + m.gap);
		canvas_fill(&g->cv, cx, cy, m.cell, m.cell, frame_colour(&g->km, first + i));
	}
	int ly = m.y + m.rows * (m.cell + m.gap) + 4;
	draw_hover(g, ly);
	draw_legend(g, ly + 2 * g->cv.ch + 2);
}

/* ---- buddy ---------------------------------------------------------------- */

static void draw_buddy(struct gui *g)
{
	int y = panel_begin(g, GUI_BUDDY), x = TX(g, GUI_BUDDY), w = TW(g, GUI_BUDDY);
	if (!g->km.ok) {
		canvas_text(&g->cv, x, y, w, COL_DIM, g->km.why);
		return;
	}
	for (unsigned z = 0; z < g->km.nzones; z++) {
		const struct km_zone *zn = &g->km.zone[z];
		canvas_textf(&g->cv, x, y, w, COL_TITLE, "zone %s: %" PRIu64 " pages free, %" PRId64
			     " per-CPU", zn->name, zn->free_pages, zn->pcp_count);
		y += g->cv.ch;
		canvas_textf(&g->cv, x, y, w, COL_DIM, "unusable free memory: "
			     "order 3 %.0f%%, order 9 %.0f%%", 100 * km_unusable_index(zn, 3, g->km.norders),
			     100 * km_unusable_index(zn, 9, g->km.norders));
		y += g->cv.ch;
		char line[160];
		int n = snprintf(line, sizeof line, "order");
		for (unsigned o = 0; o < g->km.norders && o < KM_MAX_ORDER && n < (int)sizeof line; o++)
			n += snprintf(line + n, sizeof line - (size_t)n, "%4u", o);
		canvas_text(&g->cv, x, y, w, COL_DIM, line);
		y += g->cv.ch;
		n = snprintf(line, sizeof line, "free ");
		for (unsigned o = 0; o < g->km.norders && o < KM_MAX_ORDER && n < (int)sizeof line; o++)
			n += snprintf(line + n, sizeof line - (size_t)n, "%4" PRIu64, zn->nr_free[o]);
		canvas_text(&g->cv, x, y, w, COL_TEXT, line);
		y += g->cv.ch;
		for (unsigned o = 0; o < g->km.norders && o < KM_MAX_ORDER; o++) { /* pages per order, as bars */
			uint64_t pages = zn->nr_free[o] << o;
			int h = zn->free_pages ? (int)((uint64_t)(2 * g->cv.ch) * pages / zn->free_pages) : 0;
			h = h > 2 * g->cv.ch ? 2 * g->cv.ch : h;
			canvas_fill(&g->cv, x + (5 + 4 * (int)o + 1) * g->cv.cw, y + 2 * g->cv.ch - h,
				    3 * g->cv.cw, h ? h : 1, COL_OK);
		}
		y += 2 * g->cv.ch + 6;
	}
	canvas_textf(&g->cv, x, y, w, COL_TEXT, "MemTotal %" PRIu64 " kB  MemFree %" PRIu64
		     " kB  Slab %" PRIu64 " kB", g->km.mem_total_kb, g->km.mem_free_kb, g->km.slab_kb);
}

/* ---- slab and vmalloc ------------------------------------------------------ */

static void draw_slab(struct gui *g)
{
	int y = panel_begin(g, GUI_SLAB), x = TX(g, GUI_SLAB), w = TW(g, GUI_SLAB);
	const SDL_Rect *r = &g->rect[GUI_SLAB];
	if (!g->km.ok) {
		canvas_text(&g->cv, x, y, w, COL_DIM, g->km.why);
		return;
	}
	int bottom = r->y + r->h - 4 - 5 * g->cv.ch;
	canvas_text(&g->cv, x, y, w, COL_DIM,
		    "name              active    num objsize per pages slabs");
	y += g->cv.ch;
	unsigned shown = 0;
	for (; shown < g->km.ncaches && y + 2 * g->cv.ch <= bottom; shown++, y += g->cv.ch) {
		const struct km_cache *c = &g->km.cache[shown];
		canvas_textf(&g->cv, x, y, w, c->active_objs ? COL_TEXT : COL_DIM,
			     "%-17s %6" PRIu64 " %6" PRIu64 " %7u %3u %5u %5" PRIu64, c->name,
			     c->active_objs, c->num_objs, c->objsize, c->objperslab, c->pagesperslab,
			     c->num_slabs);
	}
	if (shown < g->km.ncaches)
		canvas_textf(&g->cv, x, y, w, COL_DIM, "... %u more caches", g->km.ncaches - shown);
	y = bottom;
	canvas_textf(&g->cv, x, y, w, COL_TITLE, "vmalloc areas: %u", g->km.nvm);
	y += g->cv.ch;
	for (unsigned i = 0; i < g->km.nvm && y < r->y + r->h - g->cv.ch; i++, y += g->cv.ch) {
		const struct km_vmarea *a = &g->km.vm[i];
		char owner[40];
		if (a->stack_of >= 0)
			snprintf(owner, sizeof owner, "stack pid %d %s", g->km.task[a->stack_of].pid,
				 g->km.task[a->stack_of].comm);
		else
			snprintf(owner, sizeof owner, "pages=%u", a->nr_pages);
		canvas_textf(&g->cv, x, y, w, COL_TEXT, "%016" PRIx64 "-%016" PRIx64 " %6" PRIu64 " %s",
			     a->start, a->end, a->size, owner);
	}
	if (!g->km.nvm)
		canvas_text(&g->cv, x, y, w, COL_DIM, "(none)");
}

/* ---- TLBs ------------------------------------------------------------------ */

static void draw_tlb_entries(struct gui *g, int y, int bottom)
{
	int x = TX(g, GUI_TLB), w = TW(g, GUI_TLB);
	if (g->tlb_sel >= g->hw.nstruct)
		g->tlb_sel = 0;
	if (!g->hw.nstruct)
		return;
	const struct hw_struct *st = &g->hw.st[g->tlb_sel];
	canvas_textf(&g->cv, x, y, w, COL_TITLE, "%s entries (t: next structure), youngest first",
		     st->name);
	y += g->cv.ch;
	canvas_text(&g->cv, x, y, w, COL_DIM, "tag (linear)      frame (physical)  size rights pcid  age");
	y += g->cv.ch;
	static const char *const sz[] = { "4K", "2M", "4M", "1G" };
	for (size_t i = 0; i < st->n && y + g->cv.ch <= bottom; i++, y += g->cv.ch) {
		const struct hw_entry *e = &g->hw.e[st->first + i];
		char rt[8];
		hw_rights_text(e->rights, rt, sizeof rt);
		canvas_textf(&g->cv, x, y, w, COL_TEXT, "%016" PRIx64 "  %016" PRIx64 "  %-3s  %s  %-4s %" PRIu64,
			     e->la, e->pa, st->pwc ? "-" : sz[e->size & 3], rt,
			     (e->pcid & TLB_PCID_GLOBAL) ? "G" : "", e->age);
		if (!(e->pcid & TLB_PCID_GLOBAL))
			canvas_textf(&g->cv, x + 48 * g->cv.cw, y, 4 * g->cv.cw, COL_TEXT, "%u", e->pcid);
	}
}

static void draw_walks(struct gui *g, int y, int bottom)
{
	int x = TX(g, GUI_TLB), w = TW(g, GUI_TLB);
	canvas_textf(&g->cv, x, y, w, COL_TITLE, "last walks (sampled): %u", g->snap.nwalk);
	y += g->cv.ch;
	static const char *const cn[] = { "L1", "L2", "L3", "M" };
	for (int i = (int)g->snap.nwalk - 1; i >= 0 && y < bottom; i--, y += g->cv.ch) {
		const struct snap_walk *wk = &g->snap.walk[i];
		char steps[64] = "";
		int n = 0;
		for (unsigned j = 0; j < wk->nsteps && n < (int)sizeof steps; j++)
			n += snprintf(steps + n, sizeof steps - (size_t)n, " %s:%s",
				      pgtree_level_name(g->snap.paging, wk->step[j].level),
				      cn[wk->step[j].cache & 3]);
		canvas_textf(&g->cv, x, y, w, wk->fault ? COL_WARN : COL_TEXT, "%016" PRIx64 " %s %3u cyc%s",
			     wk->la, wk->fault ? "FAULT" : "ok   ", wk->cycles, steps);
	}
}

static void draw_tlb(struct gui *g)
{
	int y = panel_begin(g, GUI_TLB), x = TX(g, GUI_TLB), w = TW(g, GUI_TLB);
	const SDL_Rect *r = &g->rect[GUI_TLB];
	canvas_text(&g->cv, x, y, w, COL_DIM, "structure       valid/size  hit%    lookups  lat");
	y += g->cv.ch;
	for (unsigned i = 0; i < g->hw.nstruct; i++, y += g->cv.ch) {
		const struct hw_struct *st = &g->hw.st[i];
		if (i == g->tlb_sel)
			canvas_fill(&g->cv, x - 4, y, w + 8, g->cv.ch, COL_CURSOR);
		canvas_textf(&g->cv, x, y, w, COL_TEXT, "%-14s %5zu/%-5u %6.2f %10" PRIu64 " %4u", st->name,
			     st->n, st->capacity, hw_rate(st->hits, st->lookups), st->lookups, st->latency);
	}
	static const char *const cl[] = { "L1D", "L2", "L3" };
	char line[160];
	int n = snprintf(line, sizeof line, "walk reads by cache:");
	for (unsigned l = 0; l < g->snap.cache_nlevels && l < 3; l++)
		n += snprintf(line + n, sizeof line - (size_t)n, " %s %.1f%%", cl[l],
			      hw_rate(g->snap.cache_hits[l], g->snap.cache_hits[l] + g->snap.cache_misses[l]));
	snprintf(line + n, sizeof line - (size_t)n, "  DRAM %" PRIu64, g->snap.dram_accesses);
	canvas_text(&g->cv, x, y + 2, w, COL_TEXT, line);
	y += g->cv.ch + 6;
	int walks_h = 7 * g->cv.ch;
	draw_tlb_entries(g, y, r->y + r->h - walks_h - 4);
	draw_walks(g, r->y + r->h - walks_h, r->y + r->h - 4);
}

/* ---- counters and timeline ---------------------------------------------------- */

static void draw_timeline(struct gui *g, int x, int y, int w, int h)
{
	const struct hw_model *hw = &g->hw;
	canvas_fill(&g->cv, x, y, w, h, 0x101218);
	int lane = h / 4;
	static const char *const names[] = { "cycles/insn", "faults", "TLB flushes", "allocation" };
	static const uint32_t cols[] = { COL_TITLE, COL_WARN, COL_KWRITE, COL_OK };
	for (int l = 0; l < 4; l++)
		canvas_text(&g->cv, x + 2, y + l * lane, 12 * g->cv.cw, COL_DIM, names[l]);
	int x0 = x + 12 * g->cv.cw, bw = (w - 12 * g->cv.cw) / HW_TIMELINE;
	if (bw < 1)
		bw = 1;
	for (unsigned i = 0; i < hw->ntl; i++) {
		const struct hw_sample *s = &hw->tl[i];
		int bx = x0 + (int)(HW_TIMELINE - hw->ntl + i) * bw;
		double cpi = s->insns ? (double)s->cycles / (double)s->insns : 0;
		int bar = (int)(cpi / 8.0 * (lane - 2)); /* CPI 8 fills the lane */
		bar = bar < 1 ? 1 : bar > lane - 2 ? lane - 2 : bar;
		canvas_fill(&g->cv, bx, y + lane - 1 - bar, bw, bar, cols[0]);
		if (s->faults)
			canvas_fill(&g->cv, bx, y + lane + 2, bw, lane - 4, cols[1]);
		if (s->flushes)
			canvas_fill(&g->cv, bx, y + 2 * lane + 2, bw, lane - 4, cols[2]);
		if (s->free_kb_delta < 0)
			canvas_fill(&g->cv, bx, y + 3 * lane + 2, bw, lane - 4, cols[3]);
	}
}

static void draw_events(struct gui *g, int y, int bottom)
{
	int x = TX(g, GUI_COUNTERS), w = TW(g, GUI_COUNTERS);
	static const char *const fk[] = { "CR0", "CR3", "CR4", "INVLPG", "INVPCID", "#PF", "API" };
	for (int i = (int)g->snap.nev - 1; i >= 0 && y < bottom; i--) {
		const struct snap_event *e = &g->snap.ev[i];
		if (e->kind == SNAP_EV_TLB_FILL)
			continue;
		if (e->kind == SNAP_EV_FAULT)
			canvas_textf(&g->cv, x, y, w, COL_WARN, "%12" PRIu64 "  fault vector %u ec %#x at %#" PRIx64,
				     e->cycle, e->code >> 16, e->code & 0xffff, e->arg);
		else
			canvas_textf(&g->cv, x, y, w, COL_KWRITE, "%12" PRIu64 "  flush %s %#" PRIx64 ", %u entries",
				     e->cycle, fk[e->sub % 7], e->arg, e->code);
		y += g->cv.ch;
	}
}

static void draw_counters(struct gui *g)
{
	int y = panel_begin(g, GUI_COUNTERS), x = TX(g, GUI_COUNTERS), w = TW(g, GUI_COUNTERS);
	const SDL_Rect *r = &g->rect[GUI_COUNTERS];
	const struct hw_model *hw = &g->hw;
	canvas_textf(&g->cv, x, y, w, COL_TEXT, "cycles %" PRIu64 "   instructions %" PRIu64 "   CPI %.3f",
		     hw->cycles, hw->insns, hw->cpi);
	y += g->cv.ch;
	canvas_textf(&g->cv, x, y, w, COL_TEXT, "faults #PF %" PRIu64 " #GP %" PRIu64 "   walks %" PRIu64
		     "   flushes %" PRIu64 "   MMU cycles %" PRIu64, g->snap.mstats.faults_pf,
		     g->snap.mstats.faults_gp, hw->walks, hw->flushes, g->snap.mmu_cycles);
	y += g->cv.ch + 4;
	int th = 4 * (g->cv.ch + 2);
	draw_timeline(g, x, y, w, th);
	y += th + 4;
	canvas_text(&g->cv, x, y, w, COL_TITLE, "recent events (sampled)");
	draw_events(g, y + g->cv.ch, r->y + r->h - 4);
}

/* ---- help ------------------------------------------------------------------------ */

static const char *const help_lines[] = {
	"Keys",
	"space     run / pause",
	"s         single-step one instruction",
	"f         run to the next page fault",
	"a         run to the next allocation (alloc_pages)",
	"+ / -     faster / slower",
	"up/down   move in the page tables; PgUp/PgDn by page",
	"enter     open / close the table under the cursor",
	"k         kernel (init_mm) / current address space",
	"p         next process's address space",
	"/         type a virtual address to walk (hex, enter)",
	"z / x     zoom the frame map in / out",
	"t         next TLB / paging-structure cache",
	"h or F1   this help",
	"q / esc   quit",
};

static void draw_help(struct gui *g)
{
	int n = (int)(sizeof help_lines / sizeof help_lines[0]);
	int w = 60 * g->cv.cw, h = (n + 2) * g->cv.ch;
	int x = (g->cv.s->w - w) / 2, y = (g->cv.s->h - h) / 2;
	canvas_fill(&g->cv, x, y, w, h, 0x262b36);
	canvas_outline(&g->cv, x, y, w, h, COL_TITLE);
	for (int i = 0; i < n; i++)
		canvas_text(&g->cv, x + 2 * g->cv.cw, y + (i + 1) * g->cv.ch, w - 4 * g->cv.cw,
			    i ? COL_TEXT : COL_TITLE, help_lines[i]);
}

void panels_draw(struct gui *g)
{
	canvas_clear(&g->cv, COL_BG);
	draw_status(g);
	draw_pagetables(g);
	draw_frames(g);
	draw_tlb(g);
	draw_slab(g);
	draw_buddy(g);
	draw_counters(g);
	if (g->help)
		draw_help(g);
}

uint64_t panels_space_root(const struct gui *g, char *name, size_t len)
{
	if (g->space == GUI_SPACE_KERNEL) {
		if (name)
			snprintf(name, len, "kernel (init_mm)");
		return g->km.kernel_pgd;
	}
	if (g->space >= GUI_SPACE_TASK0 && g->space - GUI_SPACE_TASK0 < g->km.ntasks) {
		const struct km_task *t = &g->km.task[g->space - GUI_SPACE_TASK0];
		if (name)
			snprintf(name, len, "pid %d %s", t->pid, t->comm);
		return t->pgd_pa;
	}
	if (name)
		snprintf(name, len, "current CR3");
	return g->snap.cr3;
}
