/* See fuzz.h. */
#define _GNU_SOURCE
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>
#include "fuzz.h"

const char *fuzz_test_data(void) {
    const char *d = getenv("PLUME_TEST_DATA");
    return d && *d ? d : PLUME_FUZZ_DATA_DIR;
}

static int file_fd = -1;
static char file_path[64];

const char *fuzz_file(const uint8_t *data, size_t size) {
    fuzz_file_close();
    file_fd = memfd_create("plume-fuzz", 0);
    if (file_fd < 0) return NULL;
    for (size_t off = 0; off < size;) {
        ssize_t k = write(file_fd, data + off, size - off);
        if (k <= 0) {
            fuzz_file_close();
            return NULL;
        }
        off += (size_t)k;
    }
    snprintf(file_path, sizeof file_path, "/proc/self/fd/%d", file_fd);
    return file_path;
}

void fuzz_file_close(void) {
    if (file_fd >= 0) close(file_fd);
    file_fd = -1;
}

void fuzz_quiet_stdout(void) {
    int fd = open("/dev/null", O_WRONLY);
    if (fd >= 0) {
        fflush(stdout);
        dup2(fd, 1);
        close(fd);
    }
}
