/* `plume convert llama2c` on stories260K (tests/data/stories260K, see SOURCE.md there):
 *   - converted to F32, F16 and Q8_0 GGUF through the library call the command uses, read back;
 *   - header values against the model card (dim 64, 5 layers, 8 heads, 4 kv heads, vocab 512,
 *     seq_len 512) and the hidden size read from the .bin's own header;
 *   - every tensor against the .bin, located from llama2.c's layout independently here: F32
 *     bit-identical, F16 within half an ulp (|err| <= |x|·2^-11 + 2^-25), Q8_0 within 0.57·d
 *     per block (d = max|x|/127), norms F32 in every file, ffn_down (rows of 172) F16 in Q8_0;
 *   - the converted tokenizer against llama2.c's encode(): the expected ids below were computed
 *     once by an independent Python re-implementation of run.c's encode() (dummy-prefix " "
 *     token, per-character lookup with <0xXX> byte fallback at id byte+3, then repeatedly merging
 *     the best-scoring adjacent pair, leftmost on ties) run on tok512.bin, and pasted here
 *     (the script is llama2c_encode.py beside this file);
 *   - the `plume` command itself gives a byte-identical file; bad inputs give clear errors;
 *   - plume_llama_read_hparams rejects a file with a wrong shape or a missing tensor. */
#include <stdint.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "test_files.h"
#include "plume/convert.h"
#include "plume/gguf.h"
#include "plume/tokenizer.h"

static char tmpdir[256], bin_path[512], tok_path[512];
static float *bin;        /* the checkpoint's floats (after the 7-int header) */
static int32_t hdr[7];

typedef struct expect_t {
    char name[64];
    uint32_t n_dims;
    int64_t ne0, ne1;
    const float *src;
} expect_t;

/* llama2.c's layout, from run.c's memory_map_weights. */
static int layout(expect_t *e) {
    int64_t D = hdr[0], H = hdr[1], L = hdr[2], NH = hdr[3], NKV = hdr[4], V = abs(hdr[5]), S = hdr[6];
    int64_t HS = D / NH, KV = HS * NKV;
    const float *p = bin;
    const float *emb = p; p += V * D;
    const float *rms_att = p; p += L * D;
    const float *wq = p; p += L * D * D;
    const float *wk = p; p += L * KV * D;
    const float *wv = p; p += L * KV * D;
    const float *wo = p; p += L * D * D;
    const float *rms_ffn = p; p += L * D;
    const float *w1 = p; p += L * H * D;
    const float *w2 = p; p += L * D * H;
    const float *w3 = p; p += L * H * D;
    const float *rms_final = p; p += D;
    p += S * HS;   /* freq_cis_real, freq_cis_imag */
    int n = 0;
    e[n++] = (expect_t){ "token_embd.weight", 2, D, V, emb };
    e[n++] = (expect_t){ "output_norm.weight", 1, D, 1, rms_final };
    for (int l = 0; l < L; l++) {
        const struct { const char *s; uint32_t nd; int64_t a, b; const float *src; } k[] = {
            { "attn_norm.weight", 1, D, 1, rms_att + l * D }, { "attn_q.weight", 2, D, D, wq + l * D * D },
            { "attn_k.weight", 2, D, KV, wk + l * KV * D }, { "attn_v.weight", 2, D, KV, wv + l * KV * D },
            { "attn_output.weight", 2, D, D, wo + l * D * D }, { "ffn_norm.weight", 1, D, 1, rms_ffn + l * D },
            { "ffn_gate.weight", 2, D, H, w1 + l * H * D }, { "ffn_down.weight", 2, H, D, w2 + l * D * H },
            { "ffn_up.weight", 2, D, H, w3 + l * H * D },
        };
        for (int i = 0; i < 9; i++) {
            snprintf(e[n].name, sizeof e[n].name, "blk.%d.%s", l, k[i].s);
            e[n].n_dims = k[i].nd;
            e[n].ne0 = k[i].a;
            e[n].ne1 = k[i].b;
            e[n].src = k[i].src;
            n++;
        }
    }
    return n;
}

static void check_model(const char *path, plume_ggml_type type) {
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    CHECK_MSG(plume_gguf_open(&g, path, &err) == 0, "%s", err.msg);
    if (!g) return;
    plume_llama_hparams hp;
    CHECK_MSG(plume_llama_read_hparams(g, &hp, &err) == 0, "%s", err.msg);
    CHECK(hp.n_embd == 64 && hp.n_layer == 5 && hp.n_head == 8 && hp.n_head_kv == 4);
    CHECK(hp.n_vocab == 512 && hp.n_ctx == 512);
    CHECK(hp.n_ff == (uint32_t)hdr[1] && hp.n_ff == 172);
    CHECK(hp.n_rot == 8);
    CHECK(hp.rms_eps == 1e-5f && hp.rope_freq_base == 10000.0f);
    CHECK(hp.rope_style == PLUME_ROPE_NORMAL);
    CHECK(hp.tied_output && plume_gguf_find_tensor(g, "output.weight") == NULL);
    const char *s = NULL;
    CHECK(plume_gguf_get_str(g, "general.architecture", &s, &err) == 0 && !strcmp(s, "llama"));
    CHECK(plume_gguf_get_str(g, "plume.rope.style", &s, &err) == 0 && !strcmp(s, "normal"));
    CHECK(g->n_tensors == 2 + 5 * 9);

    expect_t e[64];
    int n = layout(e), bad = 0;
    for (int i = 0; i < n; i++) {
        const int64_t ne[2] = { e[i].ne0, e[i].ne1 };
        const plume_gguf_tensor *t = NULL;
        CHECK_MSG(plume_gguf_expect_tensor(g, e[i].name, e[i].n_dims, ne, &t, &err) == 0, "%s", err.msg);
        if (!t) continue;
        size_t count = (size_t)(e[i].ne0 * e[i].ne1);
        plume_ggml_type want = type;
        if (e[i].n_dims == 1) want = PLUME_GGML_F32;
        else if (type == PLUME_GGML_Q8_0 && e[i].ne0 % 32) want = PLUME_GGML_F16;
        CHECK_MSG(t->type == want, "%s is %s, expected %s", e[i].name, plume_ggml_type_name(t->type),
                  plume_ggml_type_name(want));
        if (t->type == PLUME_GGML_F32) {
            CHECK_MSG(!memcmp(t->data, e[i].src, count * 4), "%s differs from the .bin", e[i].name);
            continue;
        }
        float *y = malloc(count * sizeof *y);
        CHECK(plume_ggml_to_f32(t->type, t->data, y, count, &err) == 0);
        for (size_t j = 0; j < count; j++) {
            float x = e[i].src[j], tol;
            if (t->type == PLUME_GGML_F16) {
                tol = fabsf(x) * 0x1p-11f + 0x1p-25f;
            } else {
                float amax = 0;
                for (size_t k = j / 32 * 32; k < j / 32 * 32 + 32; k++) amax = fmaxf(amax, fabsf(e[i].src[k]));
                tol = 0.57f * amax / 127.0f;
            }
            if (!(fabsf(y[j] - x) <= tol) && bad++ < 5)
                fprintf(stderr, "%s[%zu]: %g vs %g (tol %g)\n", e[i].name, j, y[j], x, tol);
        }
        free(y);
    }
    CHECK_MSG(bad == 0, "%s: %d values outside tolerance", path, bad);

    /* The tokenizer, against llama2.c's encode() (ids from the Python reference, see top). */
    plume_tokenizer *tk = NULL;
    CHECK_MSG(plume_tokenizer_from_gguf(&tk, g, &err) == 0, "%s", err.msg);
    if (tk) {
        static const struct { const char *text; int n; int32_t ids[24]; } cases[] = {
            { "Once upon a time", 5, { 1, 403, 407, 261, 378 } },
            { "Lily saw a big red ball.", 10, { 1, 317, 394, 261, 370, 352, 266, 268, 388, 426 } },
            { "Hello, world!", 9, { 1, 346, 306, 414, 432, 263, 304, 341, 443 } },
            { "Once upon a time, there was a little girl named Lily.", 16,
              { 1, 403, 407, 261, 378, 432, 383, 286, 261, 376, 298, 315, 421, 395, 317, 426 } },
            { "Lily's mom said, \"Don't worry.\"", 18,
              { 1, 317, 439, 419, 357, 336, 432, 313, 455, 289, 439, 413, 263, 304, 420, 422, 426, 436 } },
            { "  two spaces", 11, { 1, 410, 410, 259, 424, 414, 262, 427, 412, 331, 419 } },
            { "tab\tand\nnewline", 14, { 1, 259, 412, 430, 12, 412, 264, 13, 416, 411, 424, 421, 271, 411 } },
            { "\xc3\xbcn\xc3\xaf" "c\xc3\xb6" "d\xc3\xa9 \xe2\x98\x83", 16,   /* "ünïcödé ☃": byte fallback */
              { 1, 410, 198, 191, 416, 198, 178, 429, 198, 185, 418, 485, 410, 229, 155, 134 } },
        };
        for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
            int32_t *ids = NULL;
            size_t n_ids = 0;
            CHECK(plume_tokenize(tk, cases[c].text, strlen(cases[c].text), true, &ids, &n_ids, &err) == 0);
            bool same = ids && n_ids == (size_t)cases[c].n && !memcmp(ids, cases[c].ids, n_ids * sizeof *ids);
            CHECK_MSG(same, "'%s' tokenizes differently from llama2.c", cases[c].text);
            if (!same && ids) {
                for (size_t k = 0; k < n_ids; k++) fprintf(stderr, " %d", ids[k]);
                fputc('\n', stderr);
            }
            char *back = NULL;
            CHECK(plume_detokenize(tk, cases[c].ids, (size_t)cases[c].n, &back, NULL, &err) == 0);
            CHECK_STR(back, cases[c].text);
            free(back);
            free(ids);
        }
        size_t len;
        const char *p = plume_token_piece(tk, 1, 403, &len);   /* after BOS: "Once", the dummy space gone */
        CHECK(p && len == 4 && !memcmp(p, "Once", 4));
        p = plume_token_piece(tk, 403, 407, &len);
        CHECK(p && len == 5 && !memcmp(p, " upon", 5));
        p = plume_token_piece(tk, 403, 13, &len);               /* <0x0A> */
        CHECK(p && len == 1 && p[0] == '\n');
        CHECK(plume_tokenizer_token_type(tk, 0) == PLUME_TOKEN_UNKNOWN);
        CHECK(plume_tokenizer_token_type(tk, 1) == PLUME_TOKEN_CONTROL);
        CHECK(plume_tokenizer_token_type(tk, 2) == PLUME_TOKEN_CONTROL);
        CHECK(plume_tokenizer_token_type(tk, 3 + 0x41) == PLUME_TOKEN_BYTE);
        CHECK(plume_tokenizer_token_type(tk, 259) == PLUME_TOKEN_NORMAL);
        CHECK_STR(plume_tokenizer_token_text(tk, 259), "\xe2\x96\x81t");   /* llama2.c's " t" is SentencePiece's "▁t" */
        CHECK_STR(plume_tokenizer_token_text(tk, 1), "<s>");
        CHECK(plume_tokenizer_bos(tk) == 1 && plume_tokenizer_eos(tk) == 2 && plume_tokenizer_adds_bos(tk));
        plume_tokenizer_free(tk);
    }
    plume_gguf_close(g);
}

/* Copies the F32 model into a new file with one change, for the shape checks. */
static int rewrite(const char *src, const char *dst, const char *drop, const char *swap_with_q, const char *arch) {
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    if (plume_gguf_open(&g, src, &err)) return -1;
    plume_gguf_writer *w = plume_gguf_writer_new();
    if (plume_gguf_writer_copy_metadata(w, g, &err)) fprintf(stderr, "%s\n", err.msg);
    if (arch) plume_gguf_writer_set_str(w, "general.architecture", arch, &err);
    for (uint64_t i = 0; i < g->n_tensors; i++) {
        const plume_gguf_tensor *t = &g->tensors[i];
        if (drop && !strcmp(t->name, drop)) continue;
        if (swap_with_q && !strcmp(t->name, swap_with_q)) {
            const plume_gguf_tensor *q = plume_gguf_find_tensor(g, "blk.0.attn_q.weight");
            plume_gguf_writer_add_tensor(w, t->name, q->type, q->n_dims, q->ne, q->data, &err);
            continue;
        }
        plume_gguf_writer_add_tensor(w, t->name, t->type, t->n_dims, t->ne, t->data, &err);
    }
    int rc = plume_gguf_writer_write(w, dst, &err);
    plume_gguf_writer_free(w);
    plume_gguf_close(g);
    return rc;
}

static void check_shapes(const char *f32_path) {
    char path[600];
    snprintf(path, sizeof path, "%s/broken.gguf", tmpdir);
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    plume_llama_hparams hp;
    /* An unchanged copy still loads: the writer reproduces what the reader read. */
    CHECK(rewrite(f32_path, path, NULL, NULL, NULL) == 0);
    CHECK(plume_gguf_open(&g, path, &err) == 0 && plume_llama_read_hparams(g, &hp, &err) == 0);
    plume_gguf_close(g);
    {   /* ... and is byte for byte the file it was read from */
        size_t a_n = 0, b_n = 0;
        uint8_t *a = (uint8_t *)read_file_len(f32_path, &a_n), *b = (uint8_t *)read_file_len(path, &b_n);
        CHECK(a && b && a_n == b_n && !memcmp(a, b, a_n));
        free(a);
        free(b);
    }
    CHECK(rewrite(f32_path, path, NULL, "blk.2.attn_k.weight", NULL) == 0);
    CHECK(plume_gguf_open(&g, path, &err) == 0);
    CHECK(g && plume_llama_read_hparams(g, &hp, &err) == -1 && strstr(err.msg, "blk.2.attn_k.weight") &&
          strstr(err.msg, "[64, 64]") && strstr(err.msg, "expected [64, 32]"));
    plume_gguf_close(g);
    CHECK(rewrite(f32_path, path, "blk.4.ffn_up.weight", NULL, NULL) == 0);
    CHECK(plume_gguf_open(&g, path, &err) == 0);
    CHECK(g && plume_llama_read_hparams(g, &hp, &err) == -1 && strstr(err.msg, "'blk.4.ffn_up.weight' is missing"));
    plume_gguf_close(g);
    CHECK(rewrite(f32_path, path, NULL, NULL, "gpt2") == 0);
    CHECK(plume_gguf_open(&g, path, &err) == 0);
    CHECK(g && plume_llama_read_hparams(g, &hp, &err) == -1 && strstr(err.msg, "'gpt2'"));
    plume_gguf_close(g);
    unlink(path);
}

static void check_errors(void) {
    plume_error err = { { 0 } };
    char cut[600], out[600];
    snprintf(cut, sizeof cut, "%s/cut.bin", tmpdir);
    snprintf(out, sizeof out, "%s/never.gguf", tmpdir);
    size_t n;
    uint8_t *b = (uint8_t *)read_file_len(bin_path, &n);
    CHECK(b != NULL);
    if (!b) return;
    FILE *f = fopen(cut, "wb");
    CHECK(f != NULL);
    if (!f) { free(b); return; }
    fwrite(b, 1, 100000, f);
    fclose(f);
    CHECK(plume_convert_llama2c(cut, tok_path, out, PLUME_GGML_F32, NULL, &err) == -1 && strstr(err.msg, "truncated") &&
          strstr(err.msg, "cut.bin"));
    f = fopen(cut, "wb");
    fwrite(b, 1, 20, f);
    fclose(f);
    CHECK(plume_convert_llama2c(cut, tok_path, out, PLUME_GGML_F32, NULL, &err) == -1 && strstr(err.msg, "header"));
    /* A header with a negative layer count. */
    memcpy(b + 8, "\xff\xff\xff\xff", 4);
    f = fopen(cut, "wb");
    fwrite(b, 1, n, f);
    fclose(f);
    CHECK(plume_convert_llama2c(cut, tok_path, out, PLUME_GGML_F32, NULL, &err) == -1 && strstr(err.msg, "n_layers"));
    free(b);
    /* A tokenizer cut short. */
    b = (uint8_t *)read_file_len(tok_path, &n);
    CHECK(b != NULL && n > 3000);
    if (!b) return;
    f = fopen(cut, "wb");
    if (!f) { free(b); return; }
    fwrite(b, 1, 3000, f);
    fclose(f);
    CHECK(plume_convert_llama2c(bin_path, cut, out, PLUME_GGML_F32, NULL, &err) == -1 && strstr(err.msg, "truncated in token"));
    free(b);
    CHECK(plume_convert_llama2c(bin_path, tok_path, out, PLUME_GGML_Q6_K, NULL, &err) == -1);
    CHECK(access(out, F_OK) != 0);   /* nothing written on failure */
    unlink(cut);
}

static int run(const char *cmd) {
    int st = system(cmd);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    const char *data = getenv("PLUME_TEST_DATA"), *build = getenv("PLUME_BUILD_DIR"), *base = getenv("TMPDIR");
    if (!data) data = "tests/data";
    snprintf(bin_path, sizeof bin_path, "%s/stories260K/stories260K.bin", data);
    snprintf(tok_path, sizeof tok_path, "%s/stories260K/tok512.bin", data);
    snprintf(tmpdir, sizeof tmpdir, "%s/plume-convert-XXXXXX", base && *base ? base : "/tmp");
    if (!mkdtemp(tmpdir)) { perror("mkdtemp"); return 1; }
    size_t n;
    uint8_t *raw = (uint8_t *)read_file_len(bin_path, &n);
    CHECK(raw && n == 1056540);
    if (!raw) return check_finish("test_convert");
    memcpy(hdr, raw, sizeof hdr);
    bin = malloc(n - 28);
    memcpy(bin, raw + 28, n - 28);
    CHECK(hdr[0] == 64 && hdr[2] == 5 && hdr[3] == 8 && hdr[4] == 4 && hdr[5] == 512 && hdr[6] == 512);

    static const struct { plume_ggml_type type; const char *name; } types[] = {
        { PLUME_GGML_F32, "f32" }, { PLUME_GGML_F16, "f16" }, { PLUME_GGML_Q8_0, "q8_0" },
    };
    char paths[3][600];
    for (int i = 0; i < 3; i++) {
        snprintf(paths[i], sizeof paths[i], "%s/stories260K-%s.gguf", tmpdir, types[i].name);
        plume_error err = { { 0 } };
        plume_convert_stats st;
        CHECK_MSG(plume_convert_llama2c(bin_path, tok_path, paths[i], types[i].type, &st, &err) == 0, "%s", err.msg);
        CHECK(st.n_tensors == 47 && st.hidden_dim == 172 && st.shared_classifier == 1);
        /* Q8_0: every matrix but the 5 ffn_down (rows of 172) is quantized: 1 + 5 × 6 = 31. */
        CHECK(st.n_quantized == (types[i].type == PLUME_GGML_Q8_0 ? 31 : 0));
        check_model(paths[i], types[i].type);
    }
    check_shapes(paths[0]);
    check_errors();

    /* The command line: the same bytes as the library call, and usage errors exit 2. */
    if (build) {
        char cmd[2400], cli[600];
        snprintf(cli, sizeof cli, "%s/cli.gguf", tmpdir);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' convert llama2c '%s' '%s' -o '%s' --type q8_0 > /dev/null",
                 build, bin_path, tok_path, cli);
        CHECK(run(cmd) == 0);
        size_t a_n = 0, b_n = 0;
        uint8_t *a = (uint8_t *)read_file_len(cli, &a_n), *b = (uint8_t *)read_file_len(paths[2], &b_n);
        CHECK(a && b && a_n == b_n && !memcmp(a, b, a_n));
        free(a);
        free(b);
        unlink(cli);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' convert llama2c '%s' '%s' -o '%s' --type q3 2> /dev/null",
                 build, bin_path, tok_path, cli);
        CHECK(run(cmd) == 2);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' convert hf x y -o z 2> /dev/null", build);
        CHECK(run(cmd) == 2);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' convert llama2c /nonexistent.bin '%s' -o '%s' 2> /dev/null",
                 build, tok_path, cli);
        CHECK(run(cmd) == 1);
    }
    for (int i = 0; i < 3; i++) unlink(paths[i]);
    rmdir(tmpdir);
    free(raw);
    free(bin);
    return check_finish("test_convert");
}
