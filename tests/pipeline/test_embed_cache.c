/* The embedding cache (engine/lm/embed.c, embed_cache.c, embed_cache_file.c) with the shipped
 * models: texts embedded together against each alone (within a stated tolerance), cached
 * vectors bit for bit, each distinct text embedded once, the bound and its eviction order, the
 * cache file written and read back, and refused or ignored when it is not this model's; the
 * dense stages' embed_cache parameter. */
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "check.h"
#include "test_files.h"
#include "embed_cache.h"
#include "pipe.h"
#include "plume/plume.h"

/* Packing texts into shared submits changes nothing in the arithmetic of a row on lavapipe
 * (measured: identical); another device may sum differently, so the promise is this. */
#define BATCH_TOLERANCE 1e-5

static const char *TEXTS[] = {
    "Once upon a time there was a little girl named Lily.",
    "",   /* BOS alone */
    "The cat sat on the mat.",
    "Tom and Sue went to the park. They played on the swings and ate ice cream. Then it rained, so "
    "they ran home and had a warm bath. Mom made soup for dinner and they were happy.",
    "The cat sat on the mat.",   /* the same text again: embedded once */
    "A dog.",
};
#define N_TEXTS (int)(sizeof TEXTS / sizeof TEXTS[0])

static const char *email_model_path(void) {
    static char path[1024];
    const char *src = getenv("PLUME_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/models/plume-email.gguf", src ? src : ".");
    return path;
}

static plume_embed_counts counts(void) {
    plume_embed_counts c;
    plume_lm_embed_counts(&c);
    return c;
}

static void write_bytes(const char *path, const void *p, size_t n) {
    FILE *f = fopen(path, "wb");
    fwrite(p, 1, n, f);
    fclose(f);
}

/* An invalid bound is an error naming the variable, before any model is loaded. */
static void test_bad_bound(void) {
    setenv("PLUME_EMBED_CACHE_MB", "lots", 1);
    plume_error err = { { 0 } };
    plume_lm *lm = plume_lm_acquire(pipe_model_path(), &err);
    CHECK(lm == NULL);
    CHECK_MSG(strstr(err.msg, "PLUME_EMBED_CACHE_MB=lots"), "%s", err.msg);
    plume_lm_release(lm);
    unsetenv("PLUME_EMBED_CACHE_MB");
}

/* Together (one call, shared submits) against one text per call from an empty cache; then
 * every later lookup gives the stored vectors bit for bit, without embedding. */
static void test_batched_against_alone(void) {
    plume_lm *lm = pipe_lm();
    const int D = plume_lm_get_info(lm)->dim;
    float *alone = calloc((size_t)N_TEXTS * D, sizeof *alone), *together = calloc((size_t)N_TEXTS * D, sizeof *together),
          *again = calloc((size_t)N_TEXTS * D, sizeof *again);
    plume_error err = { { 0 } };
    for (int i = 0; i < N_TEXTS; i++) {
        plume_lm_embed_cache_clear(lm);
        CHECK(plume_lm_embed(lm, &TEXTS[i], 1, alone + (size_t)i * D, &err) == 0);
    }
    plume_lm_embed_cache_clear(lm);
    plume_embed_counts a = counts();
    CHECK(plume_lm_embed(lm, TEXTS, N_TEXTS, together, &err) == 0);
    plume_embed_counts b = counts();
    CHECK(b.looked_up - a.looked_up == (uint64_t)N_TEXTS);
    CHECK(b.embedded - a.embedded == (uint64_t)N_TEXTS - 1);   /* the repeated text once */
    CHECK(b.passes - a.passes == 1);                            /* every text in one submit */
    double worst = 0;
    for (int i = 0; i < N_TEXTS * D; i++) {
        double d = fabs((double)alone[i] - together[i]);
        if (d > worst) worst = d;
    }
    printf("together against alone: largest difference %.3g (tolerance %g)\n", worst, BATCH_TOLERANCE);
    CHECK(worst <= BATCH_TOLERANCE);
    CHECK(!memcmp(together + 2 * D, together + 4 * D, (size_t)D * sizeof *together));
    CHECK(plume_lm_embed(lm, TEXTS, N_TEXTS, again, &err) == 0);
    CHECK(!memcmp(again, together, (size_t)N_TEXTS * D * sizeof *again));
    CHECK(plume_lm_embed(lm, &TEXTS[3], 1, again, &err) == 0);
    CHECK(!memcmp(again, together + 3 * D, (size_t)D * sizeof *again));
    plume_embed_counts c = counts();
    CHECK(c.embedded == b.embedded && c.passes == b.passes);
    CHECK(c.looked_up - b.looked_up == (uint64_t)N_TEXTS + 1);
    /* a fill without output is not a lookup, but embeds what is missing */
    const char *fresh[2] = { "A brand new sentence about a red ball.", TEXTS[0] };
    CHECK(plume_lm_embed(lm, fresh, 2, NULL, &err) == 0);
    plume_embed_counts d = counts();
    CHECK(d.looked_up == c.looked_up && d.embedded - c.embedded == 1);
    free(alone);
    free(together);
    free(again);
}

/* The bound evicts the least recently used entry; the first vector of a text stays. */
static void test_bound(void) {
    const float v1[4] = { 1, 0, 0, 0 }, v2[4] = { 0, 1, 0, 0 }, v3[4] = { 0, 0, 1, 0 };
    float out[4];
    lm_embed_cache *probe = lm_embed_cache_new(4, 1 << 20);
    CHECK(lm_embed_cache_put(probe, "aa", 2, v1) == 1);
    uint64_t one = lm_embed_cache_bytes(probe);
    lm_embed_cache_free(probe);
    lm_embed_cache *c = lm_embed_cache_new(4, 2 * one + one / 2);   /* room for two entries */
    CHECK(lm_embed_cache_put(c, "aa", 2, v1) == 1);
    CHECK(lm_embed_cache_put(c, "bb", 2, v2) == 1);
    CHECK(lm_embed_cache_put(c, "aa", 2, v3) == 0);   /* there already: kept as it was */
    CHECK(lm_embed_cache_get(c, "aa", 2, out) == 1 && !memcmp(out, v1, sizeof v1));   /* aa now the newer */
    CHECK(lm_embed_cache_put(c, "cc", 2, v3) == 1);   /* evicts bb, the least recently used */
    CHECK(lm_embed_cache_count(c) == 2);
    CHECK(lm_embed_cache_get(c, "bb", 2, out) == 0);
    CHECK(lm_embed_cache_get(c, "aa", 2, out) == 1 && !memcmp(out, v1, sizeof v1));
    CHECK(lm_embed_cache_get(c, "cc", 2, out) == 1 && !memcmp(out, v3, sizeof v3));
    CHECK(lm_embed_cache_get(c, "a", 1, out) == 0);   /* a prefix is another text */
    char big[4096];
    memset(big, 'x', sizeof big);
    CHECK(lm_embed_cache_put(c, big, sizeof big, v1) == 0);   /* alone larger than the bound */
    CHECK(lm_embed_cache_count(c) == 2);
    lm_embed_cache_free(c);
}

static int attach(plume_lm *lm, const char *path, char *msg) {
    plume_error err = { { 0 } };
    int rc = plume_lm_embed_cache_attach(lm, path, &err);
    snprintf(msg, PLUME_ERROR_MAX, "%s", err.msg);
    return rc;
}

static int detach(plume_lm *lm, char *msg) {
    plume_error err = { { 0 } };
    int rc = plume_lm_embed_cache_detach(lm, &err);
    snprintf(msg, PLUME_ERROR_MAX, "%s", err.msg);
    return rc;
}

/* Refused: the file is left as it was and nothing is read. */
static void check_refused(plume_lm *lm, const char *path, const void *bytes, size_t n, const char *why) {
    char msg[PLUME_ERROR_MAX];
    write_bytes(path, bytes, n);
    plume_lm_embed_cache_clear(lm);
    CHECK_MSG(attach(lm, path, msg) == -1, "%s", why);
    CHECK_MSG(strstr(msg, path) && strstr(msg, why), "%s", msg);
    CHECK(plume_lm_embed_cache_detach(lm, NULL) == 0);   /* not bound: nothing to do */
    size_t size = 0;
    char *now = read_file_len(path, &size);
    CHECK(now && size == n && !memcmp(now, bytes, n));
    free(now);
}

static void test_file(void) {
    plume_lm *lm = pipe_lm();
    const int D = plume_lm_get_info(lm)->dim;
    char *path = strdup(pipe_tmp("embeddings.cache")), *bad = strdup(pipe_tmp("bad.cache")), msg[PLUME_ERROR_MAX];
    float *first = calloc((size_t)N_TEXTS * D, sizeof *first), *later = calloc((size_t)N_TEXTS * D, sizeof *later);
    plume_error err = { { 0 } };

    /* written whole at the detach: magic first, the entries after */
    plume_lm_embed_cache_clear(lm);
    CHECK(attach(lm, path, msg) == 0);   /* no file yet: an empty start */
    CHECK(plume_lm_embed(lm, TEXTS, N_TEXTS, first, &err) == 0);
    CHECK(detach(lm, msg) == 0);
    size_t size = 0;
    char *file = read_file_len(path, &size);
    CHECK(file && size > 64 && !memcmp(file, "PLUMEEMB", 8));

    /* read back: the same vectors bit for bit, nothing embedded, the file untouched */
    plume_lm_embed_cache_clear(lm);
    plume_embed_counts a = counts();
    CHECK(attach(lm, path, msg) == 0);
    CHECK(plume_lm_embed(lm, TEXTS, N_TEXTS, later, &err) == 0);
    plume_embed_counts b = counts();
    CHECK(b.loaded - a.loaded == (uint64_t)N_TEXTS - 1 && b.embedded == a.embedded);
    CHECK(!memcmp(first, later, (size_t)N_TEXTS * D * sizeof *first));
    CHECK(attach(lm, path, msg) == 0);   /* a second stage naming the same file */
    char other_path[600];
    snprintf(other_path, sizeof other_path, "%s.other", path);
    CHECK(attach(lm, other_path, msg) == -1);
    CHECK_MSG(strstr(msg, "cached in") && strstr(msg, path), "%s", msg);
    CHECK(detach(lm, msg) == 0 && detach(lm, msg) == 0);
    size_t size2 = 0;
    char *same = read_file_len(path, &size2);
    CHECK(same && size2 == size && !memcmp(same, file, size));
    free(same);

    /* refused: foreign, truncated, damaged */
    const char json[] = "{\"id\": 1, \"text\": \"not embeddings\"}\n";
    check_refused(lm, bad, json, sizeof json - 1, "not a plume embedding cache");
    check_refused(lm, bad, file, 30, "truncated");
    check_refused(lm, bad, file, size - 5, "truncated");
    char *flip = malloc(size);
    memcpy(flip, file, size);
    flip[size - 3] ^= 0x40;   /* a vector's bits */
    check_refused(lm, bad, flip, size, "checksum");
    memcpy(flip, file, size);
    flip[32] ^= 1;            /* the entry count */
    check_refused(lm, bad, flip, size, "checksum");
    free(flip);

    /* another model's file: ignored with a message, replaced at the detach */
    plume_lm *other = plume_lm_acquire(email_model_path(), &err);
    CHECK(other != NULL);
    if (other) {
        CHECK(attach(other, path, msg) == 1);
        CHECK_MSG(strstr(msg, "another model") && strstr(msg, "ignored"), "%s", msg);
        CHECK(plume_lm_embed(other, TEXTS, 1, NULL, &err) == 0);
        CHECK(detach(other, msg) == 0);
        plume_lm_release(other);
        plume_lm_embed_cache_clear(lm);
        a = counts();
        CHECK(attach(lm, path, msg) == 1);   /* now it is the other model's */
        CHECK(counts().loaded == a.loaded);
        CHECK(detach(lm, msg) == 0);
    }

    /* no name, or standard output: there is nothing to read back */
    CHECK(attach(lm, "", msg) == -1 && strstr(msg, "needs a file name"));
    CHECK(attach(lm, "-", msg) == -1 && strstr(msg, "needs a file name"));

    /* a file that cannot be written: an error naming it, and no temporary file left */
    char nodir[600];
    snprintf(nodir, sizeof nodir, "%s.missing/embeddings.cache", path);
    CHECK(attach(lm, nodir, msg) == 0);
    const char *novel = "A text this cache has never seen.";
    CHECK(plume_lm_embed(lm, &novel, 1, later, &err) == 0);
    CHECK(detach(lm, msg) == -1);
    CHECK_MSG(strstr(msg, nodir) && strstr(msg, "embedding cache") && strstr(msg, "does the folder exist"), "%s", msg);
    free(file);
    free(first);
    free(later);
    free(path);
    free(bad);
}

static const char *REQUESTS =
    "{\"id\":\"1\",\"user\":\"u\",\"context\":\"Lily went to the park.\",\"profile\":["
    "{\"id\":\"a\",\"title\":\"Park\",\"text\":\"We went to the park and played. It was fun.\",\"time\":1},"
    "{\"id\":\"b\",\"title\":\"\",\"text\":\"The cat sat on the mat.\",\"time\":2}]}\n"
    "{\"id\":\"2\",\"user\":\"u\",\"context\":\"The cat was hungry.\",\"profile\":["
    "{\"id\":\"a\",\"title\":\"Park\",\"text\":\"We went to the park and played. It was fun.\",\"time\":1},"
    "{\"id\":\"b\",\"title\":\"\",\"text\":\"The cat sat on the mat.\",\"time\":2}]}\n";

static const char *STAGE_GRAPH =
    "plume: 1\n"
    "models: { enc: \"${MODEL}\" }\n"
    "stages:\n"
    "  r: { use: %s, in: { query: context, profile: profile }, out: { entries: ranked },\n"
    "       with: { %s embed_cache: \"%s\" } }\n"
    "output: [ranked]\n";

/* The stages: a user's profile is embedded once for both requests; a second run with the file
 * embeds nothing and ranks the same; a file that is not a cache stops the stage with its name. */
static void test_stage_param(void) {
    plume_lm *lm = pipe_lm();
    char *req = strdup(pipe_tmp("two.jsonl")), *file = strdup(pipe_tmp("stage.cache")), yaml[1024];
    CHECK(pipe_write(req, REQUESTS) == 0);
    snprintf(yaml, sizeof yaml, STAGE_GRAPH, "rank.doc_dense", "model: enc,", file);
    plume_lm_embed_cache_clear(lm);
    plume_embed_counts a = counts();
    json_t *r1 = pipe_run(yaml, req, 1);   /* one record per batch: the second finds the profile cached */
    plume_embed_counts b = counts();
    CHECK(r1 && json_array_size(r1) == 2);
    CHECK(b.looked_up - a.looked_up == 6 && b.embedded - a.embedded == 4);   /* 2 queries + 2 documents */
    plume_lm_embed_cache_clear(lm);
    json_t *r2 = pipe_run(yaml, req, 8);
    plume_embed_counts c = counts();
    CHECK(r2 && c.embedded == b.embedded && c.loaded - b.loaded == 4);
    char *s1 = json_dumps(r1, JSON_SORT_KEYS), *s2 = json_dumps(r2, JSON_SORT_KEYS);
    CHECK(s1 && s2 && !strcmp(s1, s2));
    free(s1);
    free(s2);
    json_decref(r1);
    json_decref(r2);

    CHECK(pipe_write(file, "plume: 1\nstages: {}\n") == 0);   /* a graph, named by mistake */
    json_t *r3 = pipe_run(yaml, req, 8);
    CHECK(r3 == NULL);
    size_t size = 0;
    char *kept = read_file_len(file, &size);
    CHECK(kept && !strcmp(kept, "plume: 1\nstages: {}\n"));
    free(kept);
    json_decref(r3);

    /* rank.doc_by_snippet without a model embeds nothing: a cache file there is a mistake */
    snprintf(yaml, sizeof yaml, STAGE_GRAPH, "rank.doc_by_snippet", "", file);
    CHECK(pipe_run(yaml, req, 8) == NULL);
    free(req);
    free(file);
}

static char *run_cli(const char *cmd) {
    const char *log = pipe_tmp("cli.log");
    char full[4096];
    snprintf(full, sizeof full, "%s 2> %s", cmd, log);
    CHECK_MSG(system(full) == 0, "%s", full);
    size_t size = 0;
    return read_file_len(log, &size);
}

/* The command line: `plume run --stats` reports the counts; a second `plume experiment` with the
 * cache file in PLUME_EMBED_CACHE embeds nothing anew. */
static void test_cli(void) {
    char *req = strdup(pipe_tmp("cli.jsonl")), *graph = strdup(pipe_tmp("dense.yaml")),
         *file = strdup(pipe_tmp("cli.cache")), *dir = strdup(pipe_tmp("experiment")), yaml[2048], cmd[4096];
    const char *bin = getenv("PLUME_BUILD_DIR");
    CHECK(pipe_write(req, REQUESTS) == 0);
    snprintf(yaml, sizeof yaml,
             "plume: 1\n"
             "models: { enc: \"%s\" }\n"
             "stages:\n"
             "  rank: { use: rank.doc_dense, in: { query: context, profile: profile }, out: { entries: ranked },\n"
             "          with: { model: enc, embed_cache: \"${PLUME_EMBED_CACHE:-}\" } }\n"
             "  pick: { use: prompt.compose, in: { context: context, entries: ranked }, out: { text: output } }\n"
             "output: [output]\n",
             pipe_model_path());
    CHECK(pipe_write(graph, yaml) == 0);
    snprintf(cmd, sizeof cmd, "%s/bin/plume run %s --data %s --out %s.out --stats --no-progress", bin, graph, req, req);
    char *log = run_cli(cmd);
    CHECK_MSG(log && strstr(log, "plume: embeddings: 6 texts looked up, 4 embedded anew in 1 forward pass\n"), "%s",
              log ? log : "");
    free(log);
    for (int pass = 0; pass < 2; pass++) {
        snprintf(cmd, sizeof cmd, "PLUME_EMBED_CACHE=%s %s/bin/plume experiment %s --data %s --out-dir %s", file, bin,
                 graph, req, dir);
        log = run_cli(cmd);
        const char *want = pass == 0 ? "dense: embeddings: 6 texts looked up, 4 embedded anew in 1 forward pass\n"
                                     : "dense: embeddings: 6 texts looked up, 0 embedded anew in 0 forward passes, "
                                       "4 read from cache files\n";
        CHECK_MSG(log && strstr(log, want), "pass %d: %s", pass, log ? log : "");
        free(log);
    }
    free(req);
    free(graph);
    free(file);
    free(dir);
}

int main(void) {
    test_bad_bound();
    test_batched_against_alone();
    test_bound();
    test_file();
    test_stage_param();
    test_cli();
    pipe_done();
    return check_finish("test_embed_cache");
}
