/* The visualizer's state, shared by its drawing (ui/panels.c) and its
 * control loop (ui/gui.c). Private to ui/. */
#ifndef UI_GUI_STATE_H
#define UI_GUI_STATE_H

#include <SDL.h>

#include "emu/snapshot.h"
#include "ui/canvas.h"
#include "ui/gui.h"
#include "ui/hwmodel.h"
#include "ui/kmodel.h"
#include "ui/pgtree.h"
#include "ui/vmcore.h"

#define GUI_WALK_LINES 8
#define GUI_LINE_MAX 128

enum { GUI_SPACE_CR3 = 0, GUI_SPACE_KERNEL = 1, GUI_SPACE_TASK0 = 2 };

enum gui_mode { GUI_PAUSED, GUI_RUNNING, GUI_TO_FAULT, GUI_TO_ALLOC };

struct gui {
	struct gui_options o;
	struct machine *m;
	uint64_t user_limit;          /* -max-insns, 0 = none */
	struct snapshot_recorder rec;
	struct snapshot snap;
	struct vmcore vc;
	struct km_model km;
	struct pgtree pt;
	struct hw_model hw;
	struct canvas cv;
	SDL_Window *win;
	SDL_Rect rect[GUI_NPANELS];

	enum gui_mode mode;
	bool stopped;                 /* the machine stopped for good */
	uint64_t speed;               /* instructions per frame while running */
	unsigned space;               /* page tables shown: GUI_SPACE_CR3, _KERNEL, or a task + _TASK0 */
	int pt_cursor, pt_scroll;
	int pt_rows_y;                /* y of the first page-table row drawn */
	int map_row0;                 /* first frame-map row shown (scrolling) */
	bool pt_opened_rip;           /* tables along RIP's walk opened once */
	bool input_active;
	char input[20];
	bool have_probe;
	uint64_t probe_va;
	int zoom;                     /* frame cell size in pixels */
	int hover_x, hover_y;
	unsigned tlb_sel;             /* structure whose entries are listed */
	bool tlb_chosen;              /* tlb_sel set (by the user or the first frame) */
	bool help;
	char line[GUI_LINE_MAX];      /* serial line being received */
	size_t line_len;
	char last_line[GUI_LINE_MAX]; /* last complete serial line */
	char note[320];               /* last control message */
	double fps, mips;
	double km_cost, km_when;      /* CPU seconds of the last kernel-model build, and when */
};

/* ui/panels.c: draw every panel from the models. */
void panels_layout(struct gui *g);
void panels_draw(struct gui *g);
/* The frame under a pixel of the frame map, or -1. */
int64_t panels_frame_at(const struct gui *g, int x, int y);
/* The top-level page table of the address space shown, and its name. */
uint64_t panels_space_root(const struct gui *g, char *name, size_t len);

#endif
