/* plume convert: bring a model into GGUF.
 *   plume convert llama2c MODEL.bin TOKENIZER.bin -o MODEL.gguf [--type f32|f16|q8_0|q4_0] */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "plume/convert.h"

static void usage(FILE *f) {
    fprintf(f,
            "usage: plume convert llama2c MODEL.bin TOKENIZER.bin -o OUT.gguf [--type f32|f16|q8_0|q4_0]\n"
            "\n"
            "Converts a llama2.c checkpoint (legacy version-0 export) and its tokenizer.bin into a llama\n"
            "GGUF file with a SentencePiece ('llama') tokenizer. --type sets the weight matrices' type\n"
            "(default f32); norm weights stay f32, and with q8_0/q4_0 a matrix whose rows are not a\n"
            "multiple of 32 long is stored as f16. Weights keep llama2.c's layout: its RoPE rotates\n"
            "adjacent pairs (plume.rope.style = \"normal\"), so no Q/K permutation is applied.\n");
}

int cmd_convert(int argc, char **argv) {
    const char *out = NULL, *type_name = "f32", *pos[3] = { 0 };
    int n_pos = 0;
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(argv[i], "-o") || !strcmp(argv[i], "--output") || !strcmp(argv[i], "--type")) {
            if (i + 1 >= argc) {
                fprintf(stderr, "plume convert: %s needs a value\n", argv[i]);
                return 2;
            }
            if (!strcmp(argv[i], "--type")) type_name = argv[++i];
            else out = argv[++i];
            continue;
        }
        if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "plume convert: unknown option '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
        if (n_pos == 3) {
            fprintf(stderr, "plume convert: unexpected argument '%s'\n\n", argv[i]);
            usage(stderr);
            return 2;
        }
        pos[n_pos++] = argv[i];
    }
    if (n_pos == 0 || strcmp(pos[0], "llama2c")) {
        fprintf(stderr, "plume convert: the source format must be given first; plume knows 'llama2c'%s%s%s\n\n",
                n_pos ? " (got '" : "", n_pos ? pos[0] : "", n_pos ? "')" : "");
        usage(stderr);
        return 2;
    }
    if (n_pos != 3 || !out) {
        fprintf(stderr, "plume convert: need MODEL.bin, TOKENIZER.bin and -o OUT.gguf\n\n");
        usage(stderr);
        return 2;
    }
    plume_ggml_type type;
    if (!strcmp(type_name, "f32")) type = PLUME_GGML_F32;
    else if (!strcmp(type_name, "f16")) type = PLUME_GGML_F16;
    else if (!strcmp(type_name, "q8_0")) type = PLUME_GGML_Q8_0;
    else if (!strcmp(type_name, "q4_0")) type = PLUME_GGML_Q4_0;
    else {
        fprintf(stderr, "plume convert: --type '%s' is not one of f32, f16, q8_0, q4_0\n", type_name);
        return 2;
    }
    plume_error err = { { 0 } };
    plume_convert_stats st;
    if (plume_convert_llama2c(pos[1], pos[2], out, type, &st, &err)) {
        fprintf(stderr, "plume convert: %s\n", err.msg);
        return 1;
    }
    printf("wrote %s: llama, dim %d, hidden %d, %d layers, %d heads (%d kv), vocab %d, context %d, %s classifier; "
           "%d tensors (%d as %s), %llu bytes of weights\n",
           out, st.dim, st.hidden_dim, st.n_layers, st.n_heads, st.n_kv_heads, st.vocab_size, st.seq_len,
           st.shared_classifier ? "tied" : "separate", st.n_tensors, st.n_quantized,
           type == PLUME_GGML_F32 || type == PLUME_GGML_F16 ? "-" : plume_ggml_type_name(type), st.out_bytes);
    return 0;
}
