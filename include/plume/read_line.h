/* plume — reading a text file line by line, with a cap on the length of a line.
 *
 * getline() grows its buffer to whatever a file holds before the next newline, so one hostile
 * line (a 10 GB file without a newline) could take all memory. Every reader of JSON Lines and
 * text lines in plume (requests, results, documents, corpora, examples, training data) goes
 * through this one, so an over-long line is always refused the same way: an error naming the
 * file and the line, never a silent skip or an allocation as large as the input. */
#ifndef PLUME_READ_LINE_H
#define PLUME_READ_LINE_H

#include <stdio.h>
#include <sys/types.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The cap plume's own JSON Lines readers use: one request, one document, one result line. */
#define PLUME_LINE_MAX ((size_t)64 << 20)

/* Reads the next line, newline included (as getline does), into *buf (grown as needed, at most
 * max + 1 bytes, NUL-terminated). A longer line is cut at max bytes and the rest of it skipped;
 * *too_long is then set. Returns the bytes kept, or -1 at the end of the file (or a read error:
 * see ferror) with nothing read, or -2 when out of memory. */
PLUME_API ssize_t plume_read_line(FILE *f, char **buf, size_t *cap, size_t max, int *too_long);

/* A file read line by line, which counts its lines so that every message can name the place. */
typedef struct plume_line_reader {
    FILE *f;
    const char *path;     /* as given: messages name it */
    size_t max;           /* the longest line accepted, in bytes, newline included */
    size_t line_no;       /* 1-based number of the line last read */
    int too_long;         /* the line last read was over max (plume_line_next said so) */
    char *buf;
    size_t cap;
    int owns_file;
} plume_line_reader;

/* Opens path for reading. 0, or -1 with err set ("PATH: cannot open: REASON"). */
PLUME_API int plume_line_open(plume_line_reader *r, const char *path, size_t max, plume_error *err);
/* Reads from a file the caller opened (and closes); path only names it in messages. */
PLUME_API void plume_line_attach(plume_line_reader *r, FILE *f, const char *path, size_t max);
/* The next line, newline included and NUL-terminated, in *line (valid until the next call) and
 * *len. Returns 1 for a line, 0 at the end of the file, -1 with err set: a line over the cap
 * ("PATH:LINE: a line longer than MAX bytes"; r->too_long is set and the rest of that line has
 * been skipped, so a caller that fails only that line can read on), a read error, or out of
 * memory. */
PLUME_API int plume_line_next(plume_line_reader *r, char **line, size_t *len, plume_error *err);
/* Frees the buffer, and closes the file when plume_line_open opened it. */
PLUME_API void plume_line_close(plume_line_reader *r);

/* 1 when line[0..len) holds only white space (a blank line, which JSON Lines readers skip). */
PLUME_API int plume_line_is_blank(const char *line, size_t len);

#ifdef __cplusplus
}
#endif
#endif
