/* The visualizer: one window of synchronized panels over a running
 * guest (docs/gui.md). This header has no SDL types: emu/main.c and
 * tests use it. */
#ifndef UI_GUI_H
#define UI_GUI_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "emu/machine.h"

enum gui_panel {
	GUI_STATUS,
	GUI_PAGETABLES,
	GUI_FRAMES,
	GUI_TLB,
	GUI_SLAB,
	GUI_BUDDY,
	GUI_COUNTERS,
	GUI_NPANELS
};

struct gui_options {
	struct machine_config mc;  /* the machine (mc.model must stay valid) */
	int width, height;         /* window / screenshot size in pixels */
	bool window;               /* open a window (else draw off-screen only) */
	uint64_t insns_per_frame;  /* initial speed */
	bool echo_serial;          /* copy the guest's serial output to stdout */
};

struct gui;

/* Boot the machine and prepare drawing; NULL with one line in err. */
struct gui *gui_open(const struct gui_options *o, char *err, size_t errlen);
void gui_close(struct gui *g);
/* Run the guest n instructions (or until it stops); the recorder of
 * walks and events watches the last part. */
void gui_advance(struct gui *g, uint64_t n);
/* Snapshot the machine, rebuild the models and draw one frame. */
void gui_frame(struct gui *g);
/* One frame of the interactive loop without input or pacing: run the
 * guest for a frame's share of host time (if running), then draw and
 * show the frame. */
void gui_run_frame(struct gui *g);
/* The interactive loop: events, running at the chosen speed, at most 60
 * frames per second, until the window is closed. */
void gui_loop(struct gui *g);
bool gui_save(const struct gui *g, const char *path, char *err, size_t errlen);

/* For tests and benchmarks. */
const char *gui_text_log(const struct gui *g);   /* strings drawn in the last frame */
void gui_panel_rect(const struct gui *g, enum gui_panel p, int *x, int *y, int *w, int *h);
const char *gui_panel_title(enum gui_panel p);
uint32_t gui_pixel(const struct gui *g, int x, int y);
const struct machine *gui_machine(const struct gui *g);
/* A key press as the window would get it: SDL key name ("Space", "S",
 * "Return", "/"). False for an unknown name. */
bool gui_key(struct gui *g, const char *name);

/* The mouse pointer moved to (x, y), as the window would report it. */
void gui_pointer(struct gui *g, int x, int y);

/* `mmulab gui`: the run options plus --screenshot FILE, --after-insns N,
 * --size WxH; the process exit status. */
int gui_command(int argc, char **argv);

#endif
