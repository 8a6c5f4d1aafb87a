/* Helpers the engine subcommands share: option parsing with --set, and error printing. */
#ifndef PLUME_TOOLS_CLI_H
#define PLUME_TOOLS_CLI_H
#include <stddef.h>
#include <stdio.h>
#include "plume/plume.h"
#include "plume/lm.h"

#define CLI_SETS_MAX 256

typedef struct cli_sets {
    const char *items[CLI_SETS_MAX];
    size_t count;
} cli_sets;

/* If argv[*i] is --set X or --set=X, records X, advances *i and returns 1; -1 on a usage error. */
int cli_take_set(int argc, char **argv, int *i, cli_sets *sets);
/* The value of option `name` at argv[*i] ("--name V" or "--name=V"), advancing *i; NULL if not it. */
const char *cli_value(int argc, char **argv, int *i, const char *name, int *missing);

/* Opens the module registry and loads the graph file at path with its --set options, printing
 * what went wrong (the graph's errors with their file:line:column) to stderr. Returns the graph
 * with *reg open for it, or NULL with nothing left open. */
plume_graph *cli_load_graph(const char *path, const cli_sets *sets, plume_registry **reg);

/* The whole of the file at path ("-": standard input) as a NUL-terminated string (caller frees),
 * its length in *len when len is not NULL. max_bytes is a power of two of 4096 or more; a file of
 * max_bytes - 1 bytes or more is refused. On failure NULL, with the reason printed as
 * "COMMAND: cannot open WHAT PATH: why" (or is larger than N MiB, cannot read, out of memory
 * reading); what names the input ("the prompt file") or is "". */
char *cli_read_whole(const char *command, const char *what, const char *path, size_t max_bytes, size_t *len);

/* A file written whole or not at all (plume_output_file), errors printed as "COMMAND: message".
 * cli_output_open returns the stream to write, or NULL. cli_output_close renames the file into
 * place when `complete`, or throws it away (leaving the old file) when not; 0, or -1 when the file
 * was not written. */
FILE *cli_output_open(plume_output_file *o, const char *command, const char *path);
int cli_output_close(plume_output_file *o, const char *command, int complete);
/* One line for --stats: the texts the rankers looked up against those embedded anew, between
 * two readings of plume_lm_embed_counts. Prints nothing when nothing was looked up. */
void cli_print_embed_counts(FILE *f, const char *who, const plume_embed_counts *before, const plume_embed_counts *after);

#endif
