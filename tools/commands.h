/* The `plume` subcommands: each lives in its own cmd_NAME.c and has this signature.
 * argv[0] is the subcommand's name; the return value is the process exit status. */
#ifndef PLUME_TOOLS_COMMANDS_H
#define PLUME_TOOLS_COMMANDS_H

typedef int (*plume_command_fn)(int argc, char **argv);

typedef struct plume_command {
    const char *name;
    plume_command_fn run;
    const char *summary;
} plume_command;

/* One declaration per cmd_*.c file, in the order `plume help` lists them. */
#define PLUME_COMMANDS(X) \
    X(version, "print plume's version and ABI") \
    X(devices, "list Vulkan devices") \
    X(convert, "convert a llama2.c model and tokenizer to GGUF") \
    X(generate, "continue a prompt with a GGUF llama model") \
    X(bench, "measure prompt and decode speed of a model") \
    X(train, "train or fine-tune a model from a YAML description (README.train.md)") \
    X(bpe, "learn a byte-level BPE tokenizer from text files")

#define X(name, summary) int cmd_##name(int argc, char **argv);
PLUME_COMMANDS(X)
#undef X

#endif
