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
    X(modules,  "list the stages plume can load, or explain one") \
    X(check,    "check a graph without running it") \
    X(graph,    "print a graph as Graphviz DOT") \
    X(run,      "run requests through a graph") \
    X(eval,     "score predictions: corpus BLEU, mean ROUGE-1/2/L") \
    X(import,   "import a corpus: Stack Exchange Posts.xml, git log, mbox") \
    X(dataset,  "build the paper's train/val/test requests from a corpus") \
    X(generate, "continue a prompt with a GGUF llama model") \
    X(tokenize, "print the tokens a model's tokenizer makes of a text") \
    X(train,    "train or fine-tune a model from a YAML description") \
    X(bpe,      "learn a byte-level BPE tokenizer from text files") \
    X(examples, "training examples from a pipeline run: generation + author pairs") \
    X(convert,  "convert a llama2.c model and tokenizer to GGUF") \
    X(devices,  "list Vulkan devices") \
    X(bench,    "measure prompt and decode speed of a model") \
    X(perplexity, "perplexity of a model on a text or token ids (per-token NLL with --json)") \
    X(experiment, "run several graphs over one test split and tabulate BLEU/ROUGE")

#define X(name, summary) int cmd_##name(int argc, char **argv);
PLUME_COMMANDS(X)
#undef X

#endif
