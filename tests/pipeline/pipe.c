#include "pipe.h"
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "plume/plume.h"
#include "test_files.h"

static char tmp_dir[256];
static plume_lm *lm;

const char *pipe_model_path(void) {
    static char path[1024];
    const char *src = getenv("PLUME_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/models/stories260K.gguf", src ? src : ".");
    return path;
}

const char *pipe_tmp(const char *name) {
    static char slots[8][512];
    static int next;
    if (!tmp_dir[0]) make_test_dir(tmp_dir, sizeof tmp_dir, "plume-pipeline");
    char *s = slots[next++ % 8];
    snprintf(s, 512, "%s/%s", tmp_dir, name);
    return s;
}

int pipe_write(const char *path, const char *text) {
    FILE *f = fopen(path, "w");
    if (!f) return -1;
    fputs(text, f);
    return fclose(f) ? -1 : 0;
}

json_t *pipe_run(const char *yaml, const char *requests, size_t batch) {
    /* ${MODEL} → the model path (a plain string replace; the graph's own ${VAR:-x} stay) */
    const char *model = pipe_model_path();
    size_t cap = strlen(yaml) + 16 * strlen(model) + 1, n = 0;
    char *text = malloc(cap);
    for (const char *p = yaml; *p;) {
        if (!strncmp(p, "${MODEL}", 8)) {
            strcpy(text + n, model);
            n += strlen(model);
            p += 8;
        } else {
            text[n++] = *p++;
        }
    }
    text[n] = '\0';
    plume_error err = { { 0 } };
    plume_registry *reg = plume_registry_open(&err);
    plume_graph *g = reg ? plume_graph_parse(reg, text, n, "test.yaml", ".", NULL, 0, &err) : NULL;
    json_t *out = NULL;
    if (g) {
        plume_run_options opt = plume_run_defaults();
        opt.data = requests;
        opt.out = pipe_tmp("results.jsonl");
        opt.batch = batch;
        plume_run_report rep;
        if (plume_run(g, &opt, &rep, &err) == 0) {
            out = json_array();
            FILE *f = fopen(opt.out, "r");
            char *line = NULL;
            size_t lcap = 0;
            while (f && getline(&line, &lcap, f) > 0) json_array_append_new(out, json_loads(line, 0, NULL));
            free(line);
            if (f) fclose(f);
        }
    }
    if (!out) fprintf(stderr, "pipe_run: %s\n", err.msg);
    plume_graph_free(g);
    plume_registry_close(reg);
    free(text);
    return out;
}

const char *pipe_email_requests(size_t n) {
    char src[1024];
    const char *dir = getenv("PLUME_SOURCE_DIR");
    snprintf(src, sizeof src, "%s/data/email/dataset/test.jsonl", dir ? dir : ".");
    const char *dst = pipe_tmp("email.jsonl");
    FILE *in = fopen(src, "r"), *out = fopen(dst, "w");
    char *line = NULL;
    size_t cap = 0;
    for (size_t i = 0; in && out && i < n && getline(&line, &cap, in) > 0; i++) fputs(line, out);
    free(line);
    if (in) fclose(in);
    if (out) fclose(out);
    return dst;
}

plume_lm *pipe_lm(void) {
    if (!lm) {
        plume_error err = { { 0 } };
        if (!(lm = plume_lm_acquire(pipe_model_path(), &err))) {
            fprintf(stderr, "%s\n", err.msg);
            exit(1);
        }
    }
    return lm;
}

void pipe_done(void) {
    plume_lm_release(lm);
    lm = NULL;
    if (tmp_dir[0]) remove_tree(tmp_dir);
}

char *pipe_generate_alone(const char *prompt, int max_tokens, int beams) {
    plume_gen_params p;
    plume_gen_params_default(&p);
    p.max_tokens = max_tokens;
    p.beams = beams;
    plume_gen_result r;
    plume_error err = { { 0 } };
    if (plume_lm_generate(pipe_lm(), &prompt, 1, &p, &r, &err)) return NULL;
    char *t = r.text;
    r.text = NULL;
    plume_gen_result_free(&r);
    return t;
}
