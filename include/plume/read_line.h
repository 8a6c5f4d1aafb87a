/* plume — reading a text file line by line, with a cap on the length of a line.
 *
 * getline() grows its buffer to whatever a file holds before the next newline, so one hostile
 * line (a 10 GB file without a newline) could take all memory. */
#ifndef PLUME_READ_LINE_H
#define PLUME_READ_LINE_H

#include <stdio.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Reads the next line, newline included (as getline does), into *buf (grown as needed, at most
 * max + 1 bytes, NUL-terminated). A longer line is cut at max bytes and the rest of it skipped;
 * *too_long is then set. Returns the bytes kept, or -1 at the end of the file (or a read error:
 * see ferror) with nothing read, or -2 when out of memory. */
PLUME_API ssize_t plume_read_line(FILE *f, char **buf, size_t *cap, size_t max, int *too_long);

#ifdef __cplusplus
}
#endif
#endif
