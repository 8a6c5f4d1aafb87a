/* The reference forward pass against the published anchor: stories260K, greedy from
 * BOS for 256 steps, must print the text that llama2.c's documentation shows
 * (quoted in tests/data/stories260K/SOURCE.md). Everything else in tests/lm trusts
 * the reference because of this test. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "lm_test_util.h"
#include "ref_forward.h"

int main(void) {
    char path[1024], vpath[1024], spath[1024];
    snprintf(path, sizeof path, "%s/stories260K/stories260K.bin", test_data_dir());
    snprintf(vpath, sizeof vpath, "%s/stories260K/tok512.bin", test_data_dir());
    snprintf(spath, sizeof spath, "%s/stories260K/SOURCE.md", test_data_dir());
    char *expected = read_published_text(spath);
    CHECK(expected != NULL);

    ref_model m;
    ref_state s;
    ref_vocab v;
    CHECK(ref_load_llama2c(&m, path) == 0);
    CHECK(m.dim == 64 && m.n_layers == 5 && m.n_heads == 8 && m.n_kv_heads == 4 && m.vocab == 512);
    CHECK(m.wcls == m.tok_embd);
    CHECK(ref_state_alloc(&s, &m) == 0);
    CHECK(ref_vocab_load(&v, vpath, m.vocab) == 0);

    char text[8192] = "";
    int token = 1;
    for (int pos = 0; pos < 256; pos++) {
        const float *logits = ref_forward(&m, &s, token, pos);
        int next = 0;
        for (int i = 1; i < m.vocab; i++) if (logits[i] > logits[next]) next = i;
        if (next == 1) break;
        ref_vocab_append(&v, token, next, text, sizeof text);
        token = next;
    }
    CHECK_STR(text, expected);

    free(expected);
    ref_vocab_free(&v);
    ref_state_free(&s);
    ref_free(&m);
    return check_finish("test_ref_forward");
}
