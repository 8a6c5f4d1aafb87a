/* plume — the command line: `plume SUBCOMMAND [ARGS]`. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plume/dist.h"
#ifdef PLUME_HAVE_MPI
#include "plume/dist_mpi.h"
#endif
#include "plume/gpu.h"
#include "plume/plume.h"

static const plume_command commands[] = {
#define X(name, summary) { #name, cmd_##name, summary },
    PLUME_COMMANDS(X)
#undef X
};
static const int n_commands = (int)(sizeof commands / sizeof commands[0]);

static void usage(FILE *f) {
    fprintf(f, "usage: plume COMMAND [ARGS]\n\ncommands:\n");
    for (int i = 0; i < n_commands; i++) fprintf(f, "  %-10s %s\n", commands[i].name, commands[i].summary);
    fprintf(f, "\n`plume COMMAND --help` explains one command; `plume --version` is `plume version`.\n");
}

int main(int argc, char **argv) {
    if (argc < 2) {
        usage(stderr);
        return 2;
    }
    if (!strcmp(argv[1], "help") || !strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
        usage(stdout);
        return 0;
    }
    if (!strcmp(argv[1], "--version") || !strcmp(argv[1], "-V")) argv[1] = "version";
    for (int i = 0; i < n_commands; i++) {
        if (strcmp(argv[1], commands[i].name)) continue;
        /* Under mpirun this process joins the MPI job (plume/dist.h); otherwise nothing happens. */
#ifdef PLUME_HAVE_MPI
        plume_dist_use(plume_dist_mpi());
#endif
        plume_error err;
        if (plume_dist_init(&argc, &argv, &err)) {
            fprintf(stderr, "plume: %s\n", err.msg);
            return 1;
        }
        /* A stage that crashes is named, with its module file and batch, and the finished results
         * are kept for --resume (plume_set_crash_reports). */
        plume_set_crash_reports(1);
        int rc = commands[i].run(argc - 1, argv + 1);
        /* Under PLUME_VALIDATE=1 (every test), a Vulkan validation message fails the command, so
         * tests that run `plume` (generate, bench, run with a model) fail on one as the C tests do. */
        const char *v = getenv("PLUME_VALIDATE");
        long messages = plume_gpu_validation_count();
        if (v && strcmp(v, "0") && messages > 0) {
            fprintf(stderr, "plume: %ld Vulkan validation message%s (PLUME_VALIDATE=%s)\n", messages,
                    messages == 1 ? "" : "s", v);
            if (rc == 0) rc = 1;
        }
        plume_dist_finalize();
        return rc;
    }
    fprintf(stderr, "plume: unknown command '%s'\n\n", argv[1]);
    usage(stderr);
    return 2;
}
