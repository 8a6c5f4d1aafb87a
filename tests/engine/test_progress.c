/* The progress bar's line (engine/core/progress.c): the widest form that fits the terminal, never
 * wider than its width - 1 (the last column wraps on some terminals), with the failures shown. */
#include <string.h>
#include "check.h"
#include "engine.h"

int main(void) {
    char line[512];
    /* 12 of 20 done in 4 s: 3.0/s, 8 left -> 2.67 s -> ETA 0:03; 1 failed.
     * 80 columns: the text is 39 characters, the bar its widest (30), 30 * 12/20 = 18 filled. */
    int n = pl_progress_format(line, sizeof line, 80, 12, 1, 20, 4.0);
    CHECK_STR(line, "[##################............] 12/20 records 1 failed  3.0/s  ETA 0:03");
    CHECK(n == 72);
    /* no failures: none mentioned */
    pl_progress_format(line, sizeof line, 80, 12, 0, 20, 4.0);
    CHECK_STR(line, "[##################............] 12/20 records  3.0/s  ETA 0:03");
    /* 40 columns: the full text (39) leaves no room for a bar; the shorter one (24) leaves
     * 39 - 24 - 3 = 12 columns of bar, 12 * 12/20 = 7.2 -> 7 filled; 39 characters in all */
    n = pl_progress_format(line, sizeof line, 40, 12, 1, 20, 4.0);
    CHECK_STR(line, "[#######.....] 12/20 1 failed  ETA 0:03");
    CHECK(n == 39);
    /* 20 columns: no bar fits; the counts alone do */
    pl_progress_format(line, sizeof line, 20, 12, 1, 20, 4.0);
    CHECK_STR(line, "12/20 1 failed");
    /* before the first batch: no rate, no ETA */
    pl_progress_format(line, sizeof line, 80, 0, 0, 20, 0.0);
    CHECK_STR(line, "[..............................] 0/20 records  0.0/s  ETA --:--");
    /* whatever the width, the line fits in it */
    for (int cols = 1; cols <= 200; cols++) {
        n = pl_progress_format(line, sizeof line, cols, 123456, 789, 1000000, 17.5);
        CHECK_MSG(n == (int)strlen(line) && n <= cols - 1, "%d columns: '%s' (%d)", cols, line, n);
    }
    return check_finish("test_progress");
}
