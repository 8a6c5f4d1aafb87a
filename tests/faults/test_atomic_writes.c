/* Every command that writes a file, killed mid-write: the file is the old one (or absent when
 * there was none), never half-written, and no temporary file is left beside it.
 *
 * Deterministic through the test hook of plume_output_file (plume/plume.h): with
 * PLUME_TEST_STOP_BEFORE_COMMIT=SUFFIX the command stops itself (SIGSTOP) when it is about to
 * commit the file whose path ends with SUFFIX, with its bytes written but not all flushed. The
 * test waits for that stop (a command that does not stop there does not write through
 * plume_output_file, and fails), checks the outputs are still untouched, then sends SIGKILL, or
 * SIGTERM and SIGCONT, and checks again once the process is gone. Each case runs once
 * uninterrupted first: its files are what "complete" means, and its listing says which names the
 * command may leave (anything else, such as a temporary file, is a failure). */
#include <dirent.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "test_env.h"
#include "test_files.h"

#pragma GCC diagnostic ignored "-Wformat-truncation"

#define MAX_ARGS 24
#define MAX_OUTPUTS 6   /* with room for the NULL that ends the list */
#define MAX_NAMES 64

static char plume_bin[1024], data[1024], root[256], inputs[512];

typedef struct write_case {
    const char *name;                 /* also the folder the command writes in */
    const char *args[MAX_ARGS];       /* "@" at the start of an argument stands for the case's folder */
    const char *stop;                 /* the suffix of the file the command is stopped before committing */
    const char *outputs[MAX_OUTPUTS]; /* files checked, relative to the case's folder */
    int finishes_on_sigterm;          /* plume run: SIGTERM lets the batch at hand finish, so a
                                         run stopped at its last commit completes the file */
} write_case;

/* ---- small helpers ---- */

static void sh(const char *fmt, ...) {
    char cmd[4096];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(cmd, sizeof cmd, fmt, ap);
    va_end(ap);
    if (system(cmd) != 0) {
        fprintf(stderr, "failed: %s\n", cmd);
        exit(1);
    }
}

/* The names under dir (relative, recursive, hidden ones too), sorted, as one string
 * "\n./a\n./b\n" (caller frees). */
static char *listing(const char *dir) {
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "cd '%s' 2>/dev/null && find . -mindepth 1 | LC_ALL=C sort", dir);
    FILE *p = popen(cmd, "r");
    char *buf = calloc(1, 1 << 16);
    buf[0] = '\n';
    size_t n = p ? fread(buf + 1, 1, (1 << 16) - 2, p) : 0;
    buf[n + 1] = '\0';
    if (p) pclose(p);
    return buf;
}

/* Every name of `now` is in `before` or in `allowed`. Reports the first that is not. */
static void only_known_names(const char *now, const char *before, const char *allowed, const char *what) {
    char *copy = strdup(now), *save = NULL;
    for (char *name = strtok_r(copy, "\n", &save); name; name = strtok_r(NULL, "\n", &save)) {
        char line[1024];
        snprintf(line, sizeof line, "\n%s\n", name);
        int known = strstr(before, line) || strstr(allowed, line);
        CHECK_MSG(known, "%s: '%s' was left behind", what, name);
    }
    free(copy);
}

/* ---- running a command ---- */

static void case_path(char *out, size_t n, const write_case *c, const char *rel) {
    snprintf(out, n, "%s/%s/%s", root, c->name, rel);
}

/* Starts plume with the case's arguments in the background; the hook set when `stop`. */
static pid_t start(const write_case *c, const char *stop) {
    char args[MAX_ARGS][1024];
    char *argv[MAX_ARGS + 2];
    int n = 0;
    argv[n++] = plume_bin;
    for (int i = 0; c->args[i]; i++, n++) {
        if (c->args[i][0] == '@') snprintf(args[i], sizeof args[i], "%s/%s%s", root, c->name, c->args[i] + 1);
        else snprintf(args[i], sizeof args[i], "%s", c->args[i]);
        argv[n] = args[i];
    }
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        char log[600];
        snprintf(log, sizeof log, "%s/%s.log", root, c->name);
        if (!freopen(log, "w", stderr) || !freopen("/dev/null", "w", stdout)) _exit(125);
        if (stop) setenv("PLUME_TEST_STOP_BEFORE_COMMIT", stop, 1);
        else unsetenv("PLUME_TEST_STOP_BEFORE_COMMIT");
        execv(plume_bin, argv);
        _exit(126);
    }
    return pid;
}

static char *log_of(const write_case *c) {
    char log[600];
    snprintf(log, sizeof log, "%s/%s.log", root, c->name);
    char *text = read_file_len(log, NULL);
    return text ? text : strdup("");
}

/* The case's folder emptied (or filled with an old version of every output). */
static void prepare(const write_case *c, int with_old) {
    sh("rm -rf '%s/%s' && mkdir -p '%s/%s'", root, c->name, root, c->name);
    for (int i = 0; with_old && c->outputs[i]; i++) {
        char path[1024], text[256];
        case_path(path, sizeof path, c, c->outputs[i]);
        sh("mkdir -p \"$(dirname '%s')\"", path);
        snprintf(text, sizeof text, "OLD %s: the previous version of this file\n", c->outputs[i]);
        write_file(path, text);
    }
}

/* Each output is untouched: the old text, or absent when there was none. */
static void untouched(const write_case *c, int with_old, const char *when) {
    for (int i = 0; c->outputs[i]; i++) {
        char path[1024], want[256];
        case_path(path, sizeof path, c, c->outputs[i]);
        snprintf(want, sizeof want, "OLD %s: the previous version of this file\n", c->outputs[i]);
        char *text = read_file_len(path, NULL);
        if (with_old) CHECK_MSG(text && !strcmp(text, want), "%s %s: %s is not the old file", c->name, when, c->outputs[i]);
        else CHECK_MSG(!text, "%s %s: %s exists", c->name, when, c->outputs[i]);
        free(text);
    }
}

/* One case: a complete run for reference, then stopped and killed with each signal, with and
 * without an old version of the outputs. */
static void run_case(const write_case *c) {
    /* the reference: complete files, and the names a complete run leaves */
    prepare(c, 0);
    pid_t pid = start(c, NULL);
    int status = 0;
    waitpid(pid, &status, 0);
    char *log = log_of(c);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 0, "%s: the uninterrupted run failed: %s", c->name, log);
    free(log);
    char dir[600];
    snprintf(dir, sizeof dir, "%s/%s", root, c->name);
    char *complete = listing(dir);
    char *whole[MAX_OUTPUTS] = { 0 };
    size_t whole_len[MAX_OUTPUTS] = { 0 };
    for (int i = 0; c->outputs[i]; i++) {
        char path[1024];
        case_path(path, sizeof path, c, c->outputs[i]);
        whole[i] = read_file_len(path, &whole_len[i]);
        CHECK_MSG(whole[i] && whole_len[i] > 0, "%s: the complete run wrote no %s", c->name, c->outputs[i]);
    }

    static const int signals[] = { SIGKILL, SIGTERM };
    for (int s = 0; s < 2; s++)
        for (int with_old = 0; with_old < 2; with_old++) {
            char what[200];
            snprintf(what, sizeof what, "%s (%s, %s)", c->name, signals[s] == SIGKILL ? "SIGKILL" : "SIGTERM",
                     with_old ? "old files" : "no old files");
            prepare(c, with_old);
            char *before = listing(dir);
            pid = start(c, c->stop);
            waitpid(pid, &status, WUNTRACED);
            if (!WIFSTOPPED(status)) {
                log = log_of(c);
                CHECK_MSG(0, "%s: did not stop before committing *%s (status %#x): %s", what, c->stop, status, log);
                free(log);
                free(before);
                continue;
            }
            untouched(c, with_old, "stopped mid-write");
            kill(pid, signals[s]);
            kill(pid, SIGCONT);   /* a stopped process takes SIGTERM once it runs again */
            waitpid(pid, &status, 0);
            if (c->finishes_on_sigterm && signals[s] == SIGTERM && WIFEXITED(status)) {
                /* it went on to the end: each output is the complete file */
                CHECK_MSG(WEXITSTATUS(status) == 0, "%s: exit status %d", what, WEXITSTATUS(status));
                for (int i = 0; c->outputs[i]; i++) {
                    char path[1024];
                    size_t len = 0;
                    case_path(path, sizeof path, c, c->outputs[i]);
                    char *text = read_file_len(path, &len);
                    CHECK_MSG(text && whole[i] && len == whole_len[i] && !memcmp(text, whole[i], len),
                              "%s: %s is not the complete file", what, c->outputs[i]);
                    free(text);
                }
            } else {
                CHECK_MSG(WIFSIGNALED(status) && WTERMSIG(status) == signals[s], "%s: status %#x", what, status);
                untouched(c, with_old, "killed");
            }
            char *now = listing(dir);
            only_known_names(now, before, complete, what);
            free(now);
            free(before);
        }
    free(complete);
    for (int i = 0; i < MAX_OUTPUTS; i++) free(whole[i]);
}

int main(void) {
    snprintf(plume_bin, sizeof plume_bin, "%s/bin/plume", ctest_env("PLUME_BUILD_DIR"));
    snprintf(data, sizeof data, "%s", ctest_env("PLUME_TEST_DATA"));
    make_test_dir(root, sizeof root, "plume-atomic");

    /* inputs, made by the commands themselves (their own tests check them) */
    snprintf(inputs, sizeof inputs, "%s/inputs", root);
    char posts[1100], laughs[1100], requests[1100], bin[1100], tokbin[1100], tiny[1100];
    snprintf(posts, sizeof posts, "%s/corpus/stackexchange/Posts.xml", data);
    snprintf(requests, sizeof requests, "%s/requests.jsonl", data);
    snprintf(laughs, sizeof laughs, "%s/corpus/stackexchange/hostile/billion_laughs.xml", data);
    snprintf(bin, sizeof bin, "%s/stories260K/stories260K.bin", data);
    snprintf(tokbin, sizeof tokbin, "%s/stories260K/tok512.bin", data);
    snprintf(tiny, sizeof tiny, "%s/train/tiny.jsonl", data);
    sh("mkdir -p %s", inputs);
    char corpus[600], graph[600], prompts[600], prompt_graph[600], tok[600], config[600], config_text[2048];
    snprintf(corpus, sizeof corpus, "%s/corpus.jsonl", inputs);
    snprintf(graph, sizeof graph, "%s/context.yaml", inputs);
    snprintf(prompt_graph, sizeof prompt_graph, "%s/prompt.yaml", inputs);
    snprintf(prompts, sizeof prompts, "%s/prompts.jsonl", inputs);
    snprintf(tok, sizeof tok, "%s/stories260K.gguf", inputs);
    snprintf(config, sizeof config, "%s/train.yaml", inputs);
    /* three authors of four documents each: one author per split with the options below */
    FILE *cf = fopen(corpus, "w");
    for (int a = 0; cf && a < 3; a++)
        for (int d = 0; d < 4; d++)
            fprintf(cf, "{\"id\":\"%c%d\",\"author\":\"%c\",\"time\":%d,\"title\":\"Title %d\",\"text\":\"Document %d of "
                        "author %c, long enough to be an example.\"}\n", 'a' + a, d, 'a' + a, 1000 + d, d, d, 'a' + a);
    if (!cf || fclose(cf)) return perror(corpus), 1;
    write_file(graph, "plume: 1\nstages:\n  p: { use: prompt.compose, in: { context: context }, out: { text: output } }\n"
                     "output: [output]\n");
    write_file(prompt_graph, "plume: 1\nstages:\n  p: { use: prompt.compose, in: { context: context }, out: { text: prompt } }\n"
                            "output: [prompt, context, target]\n");
    sh("%s run %s --data %s --out %s --no-progress 2>/dev/null", plume_bin, prompt_graph, requests, prompts);
    sh("%s convert llama2c %s %s -o %s >/dev/null 2>&1", plume_bin, bin, tokbin, tok);
    /* a 2-step training run of a tiny model, checkpointed after step 1 (about a second on lavapipe) */
    snprintf(config_text, sizeof config_text,
             "plume: 1\nmodel:\n  shape: {dim: 64, hidden_dim: 172, layers: 2, heads: 4, kv_heads: 2, context: 128}\n"
             "tokenizer: %s\ndata:\n  train: %s\ntrain:\n  lr: 0.003\n  steps: 2\n  batch: 2\n  seq_len: 32\n"
             "  seed: 7\n  checkpoint_every: 1\nexport: [f16]\nout: %s/train/run\n",
             tok, tiny, root);
    write_file(config, config_text);

    const write_case cases[] = {
        { "import", { "import", "stackexchange", posts, "-o", "@/corpus.jsonl" }, "corpus.jsonl", { "corpus.jsonl" }, 0 },
        { "dataset", { "dataset", "build", corpus, "-o", "@", "--min-examples", "1", "--min-profile", "1", "--min-chars", "10",
                      "--train", "0.34", "--val", "0.33" },
          "train.jsonl", { "train.jsonl", "val.jsonl", "test.jsonl" }, 0 },
        { "run", { "run", graph, "--data", requests, "--out", "@/results.jsonl", "--no-progress" }, "results.jsonl",
          { "results.jsonl" }, 1 },
        { "experiment", { "experiment", graph, "--data", requests, "--out-dir", "@/exp" }, "results.md",
          { "exp/results.md", "exp/results.csv", "exp/results.svg" }, 0 },
        { "experiment_pairs", { "experiment", graph, "--data", requests, "--limit", "5", "--out-dir", "@/exp" },
          "pairs.jsonl", { "exp/context.pairs.jsonl", "exp/results.md" }, 0 },
        { "examples", { "examples", prompts, "--requests", requests, "-o", "@/examples.jsonl" }, "examples.jsonl",
          { "examples.jsonl" }, 0 },
        { "bpe", { "bpe", "-o", "@/tok.gguf", "--vocab", "300", requests }, "tok.gguf", { "tok.gguf" }, 0 },
        { "convert", { "convert", "llama2c", bin, tokbin, "-o", "@/model.gguf" }, "model.gguf", { "model.gguf" }, 0 },
        { "train", { "train", config }, "run/model.gguf", { "run/model.gguf", "run/model.optim", "run/loss.svg", "run/loss.csv" }, 0 },
        { "train", { "train", config }, "model-f16.gguf", { "run/model-f16.gguf" }, 0 },
    };
    for (size_t i = 0; i < sizeof cases / sizeof *cases; i++) run_case(&cases[i]);

    /* a refused input (the billion laughs) leaves the old output as it was, and nothing beside it */
    const write_case refused = { "refused", { "import", "stackexchange", laughs, "-o", "@/corpus.jsonl" }, "", { "corpus.jsonl" }, 0 };
    prepare(&refused, 1);
    char refused_dir[600];
    snprintf(refused_dir, sizeof refused_dir, "%s/refused", root);
    char *before = listing(refused_dir);
    int status = 0;
    waitpid(start(&refused, NULL), &status, 0);
    char *log = log_of(&refused);
    CHECK_MSG(WIFEXITED(status) && WEXITSTATUS(status) == 1 && strstr(log, "billion_laughs.xml:3: the document type declares entities"),
              "status %#x: %s", status, log);
    untouched(&refused, 1, "refused");
    char *after = listing(refused_dir);
    CHECK_STR(after, before);
    free(log);
    free(before);
    free(after);

    remove_tree(root);
    return check_finish("test_atomic_writes");
}
