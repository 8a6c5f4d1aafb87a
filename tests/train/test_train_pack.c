/* plume_train_pack. Plain text: joined end to end in a seeded order and cut into rows of
 * seq_len + 1 tokens overlapping by one; the rows rebuild a stream that is the documents,
 * each whole and once; every token but the first is a target exactly once; the order
 * depends on the seed alone. Examples with prompts: each whole in exactly one row, first
 * fit, the row naming exactly each example's target tokens, no more rows than needed; one too long for a row alone
 * and unchanged; bad examples refused. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/train.h"

enum { BOS = 1, EOS = 2, DOCS = 8 };

/* Document d: BOS, d + 1 words 100 d + k, EOS (lengths 3..10). */
static int32_t doc_tokens[DOCS][12];
static plume_train_example docs[DOCS];

static void make_docs(void) {
    for (int d = 0; d < DOCS; d++) {
        int n = 0;
        doc_tokens[d][n++] = BOS;
        for (int k = 0; k <= d; k++) doc_tokens[d][n++] = 100 * (d + 1) + k;
        doc_tokens[d][n++] = EOS;
        docs[d] = (plume_train_example){doc_tokens[d], n, 1, NULL};
    }
}

/* The stream the rows hold: row 0 whole, then every later row without its first token
 * (the previous row's last). Returns its length. */
static int unpack(const plume_train_example *rows, int n, int32_t *stream) {
    int at = 0;
    for (int r = 0; r < n; r++) {
        int skip = r ? 1 : 0;
        if (r) CHECK(rows[r].tokens[0] == stream[at - 1]);
        memcpy(stream + at, rows[r].tokens + skip, (size_t)(rows[r].n_tokens - skip) * sizeof *stream);
        at += rows[r].n_tokens - skip;
    }
    return at;
}

/* Which document starts at stream[at] (its first word after BOS), or -1. */
static int doc_at(const int32_t *stream, int len, int at) {
    if (at + 1 >= len || stream[at] != BOS) return -1;
    int d = stream[at + 1] / 100 - 1;
    return d >= 0 && d < DOCS ? d : -1;
}

static void test_rows(int seq_len, uint64_t seed, int *first_doc) {
    plume_train_example *rows = NULL;
    int n = 0, total = 0;
    plume_error err = {0};
    for (int d = 0; d < DOCS; d++) total += docs[d].n_tokens;   /* 3 + 4 + ... + 10 = 52 */
    CHECK(total == 52);
    CHECK(plume_train_pack(docs, DOCS, seq_len, seed, &rows, &n, &err) == 0);
    CHECK_MSG(n == (total - 1 + seq_len - 1) / seq_len, "seq_len %d: %d rows", seq_len, n);
    long targets = 0;
    for (int r = 0; r < n; r++) {
        CHECK(rows[r].n_prompt == 1);
        CHECK(rows[r].n_tokens <= seq_len + 1 && rows[r].n_tokens >= 2);
        if (r < n - 1) CHECK(rows[r].n_tokens == seq_len + 1);
        targets += rows[r].n_tokens - 1;
    }
    CHECK_MSG(targets == total - 1, "%ld targets for %d tokens", targets, total);
    int32_t stream[64];
    CHECK(unpack(rows, n, stream) == total);
    /* each document whole, once */
    int seen[DOCS] = {0};
    for (int at = 0; at < total;) {
        int d = doc_at(stream, total, at);
        CHECK_MSG(d >= 0, "no document starts at %d", at);
        if (d < 0) break;
        if (at == 0) *first_doc = d;
        CHECK(memcmp(stream + at, doc_tokens[d], (size_t)docs[d].n_tokens * sizeof *stream) == 0);
        seen[d]++;
        at += docs[d].n_tokens;
    }
    for (int d = 0; d < DOCS; d++) CHECK_MSG(seen[d] == 1, "document %d seen %d times", d, seen[d]);
    plume_train_examples_free(rows, n);
}

static void test_order(void) {
    /* the same seed, the same rows; the order is a function of the seed */
    int32_t a[64], b[64];
    plume_train_example *r1 = NULL, *r2 = NULL;
    int n1 = 0, n2 = 0, differ = 0;
    plume_error err = {0};
    CHECK(plume_train_pack(docs, DOCS, 7, 5, &r1, &n1, &err) == 0);
    CHECK(plume_train_pack(docs, DOCS, 7, 5, &r2, &n2, &err) == 0);
    CHECK(n1 == n2 && unpack(r1, n1, a) == unpack(r2, n2, b) && memcmp(a, b, 52 * sizeof *a) == 0);
    plume_train_examples_free(r2, n2);
    for (uint64_t seed = 6; seed < 10 && !differ; seed++) {
        CHECK(plume_train_pack(docs, DOCS, 7, seed, &r2, &n2, &err) == 0);
        unpack(r2, n2, b);
        differ = memcmp(a, b, 52 * sizeof *a) != 0;
        plume_train_examples_free(r2, n2);
    }
    CHECK_MSG(differ, "four other seeds all gave seed 5's order");
    plume_train_examples_free(r1, n1);
}

/* Examples with prompts: example e is BOS, a prompt of (e % 3) + 1 words 10 e + k, then
 * e % 4 + 1 target words 1000 + 10 e + k (its targets told apart from its prompt by value). */
static int32_t ptok[12][12];
static plume_train_example pex[12];

static void make_prompted(void) {
    for (int e = 0; e < 12; e++) {
        int n = 0, np = e % 3 + 1, nt = e % 4 + 1;
        ptok[e][n++] = BOS;
        for (int k = 0; k < np; k++) ptok[e][n++] = 10 * (e + 1) + k;
        int prompt = n;
        for (int k = 0; k < nt; k++) ptok[e][n++] = 1000 + 10 * (e + 1) + k;
        pex[e] = (plume_train_example){ptok[e], n, prompt, NULL};
    }
}

static void test_prompted(int seq_len) {
    plume_train_example *rows = NULL;
    int n = 0, seen[12] = {0};
    plume_error err = {0};
    CHECK(plume_train_pack(pex, 12, seq_len, 3, &rows, &n, &err) == 0);
    long want_targets = 0, got_targets = 0;
    for (int e = 0; e < 12; e++) want_targets += pex[e].n_tokens - pex[e].n_prompt;
    for (int r = 0; r < n; r++) {
        const plume_train_example *w = &rows[r];
        CHECK(w->targets && w->n_prompt == 1 && w->n_tokens <= seq_len + 1);
        CHECK(w->targets[0] == 0);
        for (int j = 0; j < w->n_tokens; j++) {
            /* a target is exactly a word >= 1000 */
            CHECK_MSG((w->targets[j] != 0) == (w->tokens[j] >= 1000), "row %d token %d (%d): target %d", r, j,
                      w->tokens[j], w->targets[j]);
            got_targets += w->targets[j] != 0;
            if (w->tokens[j] == BOS) {   /* an example starts: it is there whole */
                int e = w->tokens[j + 1] / 10 - 1;
                CHECK(e >= 0 && e < 12 && j + pex[e].n_tokens <= w->n_tokens &&
                      memcmp(w->tokens + j, ptok[e], (size_t)pex[e].n_tokens * sizeof(int32_t)) == 0);
                if (e >= 0 && e < 12) seen[e]++;
            }
        }
    }
    CHECK(got_targets == want_targets);
    for (int e = 0; e < 12; e++) CHECK_MSG(seen[e] == 1, "seq_len %d: example %d in %d rows", seq_len, e, seen[e]);
    /* packing saves rows: at most one row more than the tokens need */
    int total = 0;
    for (int e = 0; e < 12; e++) total += pex[e].n_tokens;
    CHECK_MSG(seq_len < 30 || n == (total + seq_len) / (seq_len + 1), "seq_len %d: %d rows for %d tokens", seq_len, n,
              total);
    plume_train_examples_free(rows, n);
}

static void test_prompted_long(void) {
    /* seq_len 4: rows of 5; examples of 6+ tokens go alone, unchanged, with their prompt */
    plume_train_example *rows = NULL;
    int n = 0, alone = 0;
    plume_error err = {0};
    CHECK(plume_train_pack(pex, 12, 4, 3, &rows, &n, &err) == 0);
    for (int r = 0; r < n; r++)
        if (!rows[r].targets) {
            alone++;
            int e = rows[r].tokens[1] / 10 - 1;
            CHECK(e >= 0 && e < 12 && rows[r].n_tokens == pex[e].n_tokens && rows[r].n_prompt == pex[e].n_prompt &&
                  rows[r].n_tokens > 5);
        } else {
            CHECK(rows[r].n_tokens <= 5);
        }
    int longer = 0;
    for (int e = 0; e < 12; e++) longer += pex[e].n_tokens > 5;
    CHECK_MSG(alone == longer && longer > 0, "%d rows alone for %d long examples", alone, longer);
    plume_train_examples_free(rows, n);
}

static void test_refuses(void) {
    plume_train_example bad[3] = {docs[0], docs[1], docs[2]};
    plume_train_example *rows = (plume_train_example *)1;
    int n = 7;
    plume_error err = {0};
    bad[1].n_prompt = bad[1].n_tokens;   /* no target */
    CHECK(plume_train_pack(bad, 3, 8, 1, &rows, &n, &err) == -1);
    CHECK_MSG(strstr(err.msg, "example 2: "), "message: %s", err.msg);
    CHECK(rows == NULL && n == 0);
    uint8_t t[3] = {0, 1, 1};
    bad[1] = docs[1];
    bad[1].targets = t;                 /* a row packed already */
    CHECK(plume_train_pack(bad, 3, 8, 1, &rows, &n, &err) == -1 && strstr(err.msg, "already packed"));
    CHECK(plume_train_pack(docs, DOCS, 0, 1, &rows, &n, &err) == -1);
}

int main(void) {
    make_docs();
    int first = -1;
    test_rows(4, 1, &first);      /* many short rows */
    test_rows(7, 1, &first);
    test_rows(51, 1, &first);     /* one row: the whole stream */
    test_rows(100, 1, &first);    /* one row, shorter than seq_len + 1 */
    test_order();
    make_prompted();
    test_prompted(7);    /* the longest example (8 tokens) fills a row */
    test_prompted(9);
    test_prompted(30);
    test_prompted_long();
    test_refuses();
    return check_finish("test_train_pack");
}
