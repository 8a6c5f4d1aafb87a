/* plume train: trains (or fine-tunes) a llama model on the Vulkan device from a YAML
 * description of the model, tokenizer, data and hyper-parameters (docs/training.md, "Configuration").
 *
 *   plume train CONFIG.yaml [--steps N] [--resume]
 *
 * Progress (a bar on a terminal) and the validation loss go to stderr; OUT/ receives
 * model.gguf (F32) + model.optim (the checkpoint), loss.csv, loss.svg and the exports. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "commands.h"
#include "plume/train.h"

static void usage(FILE *f) {
    fprintf(f, "usage: plume train CONFIG.yaml [--steps N] [--resume]\n"
               "  --steps N   override train.steps\n"
               "  --resume    continue from OUT/model.gguf + OUT/model.optim when present\n"
               "docs/training.md, \"Configuration\", lists the configuration keys.\n");
}

int cmd_train(int argc, char **argv) {
    const char *config = NULL;
    long steps = 0;
    int resume = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(argv[i], "--steps") && i + 1 < argc) {
            char *end;
            steps = strtol(argv[++i], &end, 10);
            if (*end || steps < 1 || steps > 100000000) {
                fprintf(stderr, "plume train: --steps wants a number in 1..100000000, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(argv[i], "--resume")) {
            resume = 1;
        } else if (argv[i][0] == '-' || config) {
            fprintf(stderr, "plume train: unexpected argument '%s'\n", argv[i]);
            usage(stderr);
            return 2;
        } else {
            config = argv[i];
        }
    }
    if (!config) {
        usage(stderr);
        return 2;
    }
    plume_error err;
    plume_train_config c;
    if (plume_train_config_load(&c, config, &err)) {
        fprintf(stderr, "plume train: %s\n", err.msg);
        return 1;
    }
    if (steps) c.params.steps = (int)steps;
    if (resume) c.resume = 1;
    int rc = plume_train_run(&c, stderr, &err);
    if (rc) fprintf(stderr, "plume train: %s\n", err.msg);
    plume_train_config_free(&c);
    return rc ? 1 : 0;
}
