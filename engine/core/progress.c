/* The progress bar of `plume run` on a terminal (stderr).
 *
 * It is redrawn in place with a carriage return, so it must never be wider than the terminal:
 * a line one column too wide wraps, and every redraw then leaves a new line behind. Anything
 * else printed to stderr while the bar is on screen (a stage's log line, a warning, the
 * interrupt or crash message) first ends the bar's line through pl_progress_break. */
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <unistd.h>
#include "engine.h"

static atomic_int line_open;      /* the bar is drawn and its line not ended */
static int drawn_width;           /* characters drawn last time, to blank what a shorter line leaves */

static int terminal_columns(void) {
    struct winsize ws;
    if (ioctl(STDERR_FILENO, TIOCGWINSZ, &ws) == 0 && ws.ws_col > 0) return ws.ws_col;
    const char *env = getenv("COLUMNS");
    long n = env ? strtol(env, NULL, 10) : 0;
    return n > 0 && n < 10000 ? (int)n : 80;
}

int pl_progress_format(char *out, size_t size, int columns, size_t done, size_t failed, size_t total,
                       double elapsed) {
    double rate = elapsed > 0 ? (double)done / elapsed : 0;
    char eta[32] = "--:--", count[64], fail[48] = "", speed[32];
    if (rate > 0 && total >= done) {
        long s = (long)((double)(total - done) / rate + 0.5);
        snprintf(eta, sizeof eta, "%ld:%02ld", s / 60, s % 60);
    }
    snprintf(count, sizeof count, "%zu/%zu", done, total);
    if (failed) snprintf(fail, sizeof fail, " %zu failed", failed);
    snprintf(speed, sizeof speed, "%.1f/s", rate);
    /* The richest line that fits in columns - 1 (writing the last column wraps on some
     * terminals): first with a bar of 5 to 30 columns, fewer words each time, then without the
     * bar; the counts of records done and failed go last. */
    char forms[3][256];
    snprintf(forms[0], sizeof forms[0], "%s records%s  %s  ETA %s", count, fail, speed, eta);
    snprintf(forms[1], sizeof forms[1], "%s%s  ETA %s", count, fail, eta);
    snprintf(forms[2], sizeof forms[2], "%s%s", count, fail);
    const int room = columns - 1;
    out[0] = '\0';
    for (int k = 0; k < 6 && !out[0]; k++) {
        const char *text = forms[k % 3];
        int len = (int)strlen(text);
        if (k < 3) {
            int width = room - len - 3;   /* "[" bar "] " */
            if (width > 30) width = 30;
            if (width < 5) continue;
            int fill = total ? (int)((double)width * (double)done / (double)total) : 0;
            if (fill > width) fill = width;
            char bar[32];
            for (int i = 0; i < width; i++) bar[i] = i < fill ? '#' : '.';
            bar[width] = '\0';
            snprintf(out, size, "[%s] %s", bar, text);
        } else if (len <= room || k == 5) {
            snprintf(out, size, "%s", text);
        }
    }
    if (room >= 0 && strlen(out) > (size_t)room) out[room > 0 ? room : 0] = '\0';
    return (int)strlen(out);
}

void pl_progress_draw(size_t done, size_t failed, size_t total, double elapsed, int final) {
    char line[512];
    int n = pl_progress_format(line, sizeof line, terminal_columns(), done, failed, total, elapsed);
    /* blank the rest of a longer earlier line (no escape sequences: stderr may be any terminal) */
    int pad = drawn_width > n ? drawn_width - n : 0;
    fprintf(stderr, "\r%s%*s", line, pad, "");
    if (pad) fprintf(stderr, "\r%s", line);
    drawn_width = n;
    if (final) {
        fputc('\n', stderr);
        drawn_width = 0;
        atomic_store(&line_open, 0);
    } else {
        atomic_store(&line_open, 1);
    }
    fflush(stderr);
}

void pl_progress_break(void) {
    if (atomic_exchange(&line_open, 0)) {
        fputc('\n', stderr);
        drawn_width = 0;
    }
}

int pl_progress_line_open(void) {
    return atomic_load(&line_open);
}
