/* Replays files through a fuzz target's entry point without libFuzzer: every file of
 * tests/fuzz/corpus/NAME (the seeds) and tests/fuzz/regressions/NAME (inputs that once
 * crashed). A crash, sanitizer report or abort() fails the test; the file being replayed is
 * named on stderr first, so the failing input is known. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "fuzz.h"

static int replay_dir(const char *dir) {
    DIR *d = opendir(dir);
    if (!d) return 0;   /* a target with no regressions yet */
    struct dirent *e;
    int n = 0;
    /* readdir order varies between file systems; inputs are independent, so order does not matter */
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.') continue;
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        FILE *f = fopen(path, "rb");
        CHECK_MSG(f != NULL, "cannot open %s", path);
        if (!f) continue;
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *buf = malloc(size > 0 ? (size_t)size : 1);
        CHECK(buf && fread(buf, 1, (size_t)size, f) == (size_t)size);
        fclose(f);
        fprintf(stderr, "replay %s (%ld bytes)\n", path, size);
        LLVMFuzzerTestOneInput(buf, (size_t)size);
        free(buf);
        n++;
    }
    closedir(d);
    return n;
}

int main(void) {
    int argc = 1;
    char *args[] = { (char *)PLUME_FUZZ_TARGET, NULL };
    char **argv = args;
    int saved_stdout = dup(1);   /* a target may send stdout to /dev/null; the summary goes to the real one */
    LLVMFuzzerInitialize(&argc, &argv);
    char dir[4096];
    snprintf(dir, sizeof dir, "%s/corpus/%s", PLUME_FUZZ_DIR, PLUME_FUZZ_TARGET);
    int seeds = replay_dir(dir);
    CHECK_MSG(seeds > 0, "no seed inputs in %s", dir);
    snprintf(dir, sizeof dir, "%s/regressions/%s", PLUME_FUZZ_DIR, PLUME_FUZZ_TARGET);
    int regressions = replay_dir(dir);
    fprintf(stderr, "%s: %d seeds, %d regressions replayed\n", PLUME_FUZZ_TARGET, seeds, regressions);
    if (saved_stdout >= 0) {
        fflush(stdout);
        dup2(saved_stdout, 1);
        close(saved_stdout);
    }
    return check_finish("fuzz_replay_" PLUME_FUZZ_TARGET);
}
