/* plume_train_pack: plain-text examples joined end to end in a seeded order and cut into
 * rows of seq_len + 1 tokens overlapping by one. Checked by hand-made documents: the rows
 * rebuild a stream that is the documents, each whole and once; every token but the first
 * is a target exactly once; the order depends on the seed alone; a prompt is refused. */
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
        docs[d] = (plume_train_example){doc_tokens[d], n, 1};
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

static void test_refuses_prompts(void) {
    plume_train_example bad[3] = {docs[0], docs[1], docs[2]};
    bad[1].n_prompt = 3;
    plume_train_example *rows = (plume_train_example *)1;
    int n = 7;
    plume_error err = {0};
    CHECK(plume_train_pack(bad, 3, 8, 1, &rows, &n, &err) == -1);
    CHECK_MSG(strstr(err.msg, "example 2 has a prompt of 2 tokens"), "message: %s", err.msg);
    CHECK(rows == NULL && n == 0);
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
    test_refuses_prompts();
    return check_finish("test_train_pack");
}
