/* plume train's configuration and run: bad YAML and JSON Lines give FILE:LINE:COLUMN
 * errors with hints; a small run from a YAML file trains (the loss falls), evaluates,
 * writes the checkpoint, exports, loss.csv and loss.svg; --resume continues it. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "check.h"
#include "stories_gguf.h"
#include "test_files.h"
#include "plume/convert.h"
#include "plume/gguf.h"
#include "plume/gpu.h"
#include "plume/train.h"

static char dir[256];

/* Writes the file NAME of the test's folder. */
static void write_in_dir(const char *name, const char *text) {
    char p[400];
    snprintf(p, sizeof p, "%s/%s", dir, name);
    write_file(p, text);
}

/* Loads a config written from TEXT; returns the error message (static) or NULL on success. */
static const char *load_err(const char *text) {
    static plume_error err;
    char p[400];
    write_in_dir("c.yaml", text);
    snprintf(p, sizeof p, "%s/c.yaml", dir);
    plume_train_config c;
    if (plume_train_config_load(&c, p, &err)) return err.msg;
    plume_train_config_free(&c);
    return NULL;
}

#define CHECK_ERR(text, want) do { const char *m_ = load_err(text); \
    CHECK_MSG(m_ && strstr(m_, want), "config error '%s' lacks '%s'", m_ ? m_ : "(none)", want); } while (0)

static const char *GOOD =
    "plume: 1\n"
    "model:\n"
    "  shape: {dim: 32, hidden_dim: 64, layers: 2, heads: 4, kv_heads: 2, context: 64}\n"
    "tokenizer: tok.gguf\n"
    "data: {train: train.jsonl, validation: val.jsonl}\n"
    "train:\n"
    "  lr: 0.01\n"
    "  warmup: 5\n"
    "  decay: sqrt\n"
    "  steps: 30\n"
    "  batch: 2\n"
    "  accumulation: 2\n"
    "  seq_len: 32\n"
    "  weight_decay: 0.0\n"
    "  clip: 1.0\n"
    "  seed: 3\n"
    "  eval_every: 10\n"
    "  checkpoint_every: 15\n"
    "export: [f16, q8_0]\n"
    "out: run\n";

static void test_bad_configs(void) {
    CHECK(load_err(GOOD) == NULL);
    CHECK_ERR("model:\n  shape: {dim: 32, hidden: 64}\n", "c.yaml:2:20: unknown key 'hidden' in 'shape'");
    CHECK_ERR("model:\n  shape: {dim: 32, hidden: 64}\n", "hint: known keys are dim, hidden_dim");
    CHECK_ERR("train:\n  lr: fast\n", "c.yaml:2:7: 'lr' wants a number");
    CHECK_ERR("train:\n  steps: 2.5\n", "c.yaml:2:10: 'steps' wants a whole number");
    CHECK_ERR("train:\n  decay: exponential\n", "c.yaml:2:10: 'decay' is 'exponential'; hint: constant, linear");
    CHECK_ERR("export: [f32]\n", "c.yaml:1:10: 'export' lists 'f32'");
    CHECK_ERR("train: [1, 2]\n", "c.yaml:1:8: 'train' wants a mapping");
    CHECK_ERR("model: {shape: {dim: 8\n", "c.yaml:2:1: YAML:");
    CHECK_ERR("tokenizer: t.gguf\nout: x\ndata: {train: t.jsonl}\n", "c.yaml:1:1: no model");
    CHECK_ERR("data: {train: t.jsonl, pack: often}\n", "c.yaml:1:30: 'pack' wants true or false, got 'often'");
    CHECK_ERR("model: {init: m.gguf}\nout: x\n", "no training data");
    CHECK_ERR("", "empty");
}

static int count_lines(const char *path) {
    FILE *f = fopen(path, "r");
    if (!f) return -1;
    int n = 0, ch;
    while ((ch = fgetc(f)) != EOF) n += ch == '\n';
    fclose(f);
    return n;
}

static void test_run(void) {
    plume_error err;
    /* a small set: the model should learn it */
    const char *lines[] = {
        "{\"prompt\": \"Lily saw a cat.\", \"target\": \" The cat was happy and ran to the park.\"}\n",
        "{\"prompt\": \"Tom had a red ball.\", \"target\": \" He liked to play with it every day.\"}\n",
        "{\"prompt\": \"The sun was big.\", \"target\": \" It made the flowers grow tall.\"}\n",
        "{\"prompt\": \"Sam found a box.\", \"target\": \" Inside the box was a little toy.\"}\n"};
    char train[2048] = "";
    for (int i = 0; i < 4; i++) strcat(train, lines[i]);
    write_in_dir("train.jsonl", train);
    write_in_dir("val.jsonl", lines[1]);
    write_in_dir("c.yaml", GOOD);
    char p[400];
    snprintf(p, sizeof p, "%s/c.yaml", dir);
    plume_train_config c;
    if (plume_train_config_load(&c, p, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        CHECK(0);
        return;
    }
    c.params.steps = 20;   /* stop early, then resume to 30 */
    CHECK(plume_train_run(&c, stdout, &err) == 0);
    char csv[400], svg[400], gg[400], q8[400];
    snprintf(csv, sizeof csv, "%s/run/loss.csv", dir);
    snprintf(svg, sizeof svg, "%s/run/loss.svg", dir);
    snprintf(gg, sizeof gg, "%s/run/model.gguf", dir);
    snprintf(q8, sizeof q8, "%s/run/model-q8_0.gguf", dir);
    CHECK(count_lines(csv) == 21);
    /* rows past the checkpoint (step 20), as a run killed between checkpoints by an older plume
     * left them, and a row cut short: resuming keeps steps 1..20 and repeats none */
    FILE *extra = fopen(csv, "a");
    CHECK(extra && fputs("21,9.000000,,0.001,1\n22,9.000000,,0.001,1\n23,9.", extra) >= 0 && fclose(extra) == 0);
    c.params.steps = 30;
    c.resume = 1;
    if (plume_train_run(&c, stdout, &err)) fprintf(stderr, "resume: %s\n", err.msg);
    CHECK(count_lines(csv) == 31);
    FILE *f = fopen(csv, "r");
    char line[256];
    double first = 0, last = 0, val = 0;
    int vals = 0, expect_step = 1;
    while (f && fgets(line, sizeof line, f)) {
        int s;
        double l, v;
        if (sscanf(line, "%d,", &s) == 1) {
            CHECK_MSG(s == expect_step && !strstr(line, "9.000000"), "loss.csv: step %d where %d was due: %s", s,
                      expect_step, line);
            expect_step++;
        }
        if (sscanf(line, "%d,%lf,%lf", &s, &l, &v) == 3) {
            vals++;
            val = v;
        }
        if (sscanf(line, "%d,%lf", &s, &l) == 2) {
            if (s == 1) first = l;
            last = l;
        }
    }
    if (f) fclose(f);
    printf("loss %.3f at step 1, %.3f at step 30, validation %.3f\n", first, last, val);
    CHECK(vals == 3);   /* steps 10, 20, 30 */
    CHECK(first > 5.5 && last < first - 2.0);
    FILE *s = fopen(svg, "r");
    CHECK(s && fgets(line, sizeof line, s) && strncmp(line, "<svg", 4) == 0);
    if (s) fclose(s);
    plume_gguf *g = NULL;
    CHECK(plume_gguf_open(&g, gg, &err) == 0 && plume_gguf_find(g, "tokenizer.ggml.tokens"));
    uint32_t step = 0;
    CHECK(g && plume_gguf_get_u32(g, "plume.train.step", &step, &err) == 0 && step == 30);
    plume_gguf_close(g);
    CHECK(access(q8, R_OK) == 0);
    plume_train_config_free(&c);

    /* bad data */
    plume_train_example *ex;
    int n;
    char jp[400], tp[400];
    snprintf(jp, sizeof jp, "%s/bad.jsonl", dir);
    snprintf(tp, sizeof tp, "%s/tok.gguf", dir);
    write_in_dir("bad.jsonl", "{\"prompt\": \"a\", \"target\": \"b\"}\n\n{\"prompt\": \"a\", \"target\": }\n");
    CHECK(plume_train_read_jsonl(jp, tp, 1, &ex, &n, &err) == -1 && strstr(err.msg, "bad.jsonl:3:"));
    /* a second line of 70 MiB (a sparse file): refused at the cap, naming the line */
    write_in_dir("bad.jsonl", "{\"prompt\": \"a\", \"target\": \"b\"}\n{\"prompt\": \"");
    CHECK(truncate(jp, (off_t)70 << 20) == 0);
    CHECK(plume_train_read_jsonl(jp, tp, 1, &ex, &n, &err) == -1);
    CHECK_MSG(strstr(err.msg, "bad.jsonl:2: a line longer than 67108864 bytes") != NULL, "%s", err.msg);
    write_in_dir("bad.jsonl", "{\"prompt\": \"a\"}\n");
    CHECK(plume_train_read_jsonl(jp, tp, 1, &ex, &n, &err) == -1 && strstr(err.msg, "bad.jsonl:1: wants an object"));
    write_in_dir("bad.jsonl", "{\"prompt\": \"a\", \"target\": \"\"}\n");
    CHECK(plume_train_read_jsonl(jp, tp, 0, &ex, &n, &err) == -1 && strstr(err.msg, "target is empty"));
    write_in_dir("bad.jsonl", "{\"prompt\": \"Lily\", \"target\": \" ran\"}\n");
    CHECK(plume_train_read_jsonl(jp, tp, 1, &ex, &n, &err) == 0 && n == 1);
    if (n == 1) {
        /* BOS, the prompt's tokens, then the target's, then EOS */
        CHECK(ex[0].tokens[0] == 1 && ex[0].tokens[ex[0].n_tokens - 1] == 2 && ex[0].n_prompt >= 2);
        plume_train_examples_free(ex, n);
    }
    remove(jp);
}

int main(void) {
    make_test_dir(dir, sizeof dir, "plume-train-cfg");
    char tok[400];
    snprintf(tok, sizeof tok, "%s/tok.gguf", dir);
    if (convert_stories260k(tok)) return 1;
    test_bad_configs();
    test_run();
    const char *names[] = {"run/model.gguf", "run/model.optim", "run/loss.csv", "run/loss.svg", "run/model-f16.gguf",
                           "run/model-q8_0.gguf", "train.jsonl", "val.jsonl", "c.yaml", "tok.gguf"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        char p[400];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        remove(p);
    }
    char p[400];
    snprintf(p, sizeof p, "%s/run", dir);
    rmdir(p);
    rmdir(dir);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_train_config");
}
