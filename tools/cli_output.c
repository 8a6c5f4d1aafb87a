/* Output files for the subcommands: plume_output_file (written whole or not at all) with its
 * errors printed as "plume COMMAND: message", so a command replaces fopen/fclose one for one. */
#include <stdio.h>
#include "cli.h"

FILE *cli_output_open(plume_output_file *o, const char *command, const char *path) {
    plume_error err = { { 0 } };
    if (plume_output_open(o, path, &err)) {
        fprintf(stderr, "%s: %s\n", command, err.msg);
        return NULL;
    }
    return o->f;
}

int cli_output_close(plume_output_file *o, const char *command, int complete) {
    if (!complete) {
        plume_output_abort(o);
        return -1;
    }
    plume_error err = { { 0 } };
    if (plume_output_commit(o, &err)) {
        fprintf(stderr, "%s: %s\n", command, err.msg);
        return -1;
    }
    return 0;
}
