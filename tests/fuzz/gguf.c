/* Fuzz target: bytes → plume_gguf_open_memory, then what a loader reads from a file that
 * opened: every key and tensor looked up, the llama hyper-parameters, and the tokenizer
 * (which tokenizes and detokenizes a fixed text when it builds). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "fuzz.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

int LLVMFuzzerInitialize(int *argc, char ***argv) { return 0; }

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
    plume_error err;
    plume_gguf *g = NULL;
    if (plume_gguf_open_memory(&g, data, size, "fuzz.gguf", &err)) {
        if (g || !err.msg[0]) abort();
        return 0;
    }
    plume_llama_hparams hp;
    plume_llama_read_hparams(g, &hp, &err);
    const char *s;
    uint32_t u;
    plume_gguf_get_str(g, "general.architecture", &s, &err);
    plume_gguf_get_u32(g, "llama.block_count", &u, &err);
    plume_llama_tensor(g, 0, "attn_q.weight");
    plume_gguf_find_tensor(g, "token_embd.weight");
    plume_tokenizer *t = NULL;
    if (plume_tokenizer_from_gguf(&t, g, &err) == 0) {
        static const char text[] = " Hello, world! \xc3\xa9t\xc3\xa9 12345\n\ttabs";
        int32_t *ids = NULL;
        size_t n = 0;
        char *back = NULL;
        if (plume_tokenize(t, text, sizeof text - 1, true, &ids, &n, &err) == 0)
            plume_detokenize(t, ids, n, &back, NULL, &err);
        for (int32_t id = -1; id < 4; id++) {
            size_t len;
            plume_token_piece(t, -1, id, &len);
            plume_tokenizer_token_text(t, id);
        }
        free(ids);
        free(back);
        plume_tokenizer_free(t);
    }
    plume_gguf_close(g);
    return 0;
}
