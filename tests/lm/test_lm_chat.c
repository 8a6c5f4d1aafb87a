/* Chat models end to end, on a random-weight model whose tokenizer is a small byte-level
 * vocabulary (the 256 byte tokens, then <|im_start|> 256, <|im_end|> 257, <|endoftext|> 258, all
 * control tokens; EOS 258) carrying a ChatML template with a default system message:
 *   - the rendered prompt is the ChatML text, and generation with parse_special reads it as
 *     5 marker tokens plus one token per other byte (every byte is a token here); without
 *     parse_special every byte of the markers is a token too;
 *   - tokenizer.ggml.eot_token_id stops generation: the same weights with the greedy run's
 *     second new token declared end-of-turn stop right before its first occurrence, reason
 *     "eos"; beam search never returns it;
 *   - `plume generate --chat` runs, and refuses a model without a template;
 *   - a graph with prompt.compose chat: true and generate.lm chat: true writes the prompt in
 *     the template. */
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "byte_tokens.h"
#include "check.h"
#include "run_cmd.h"
#include "lm_test_util.h"
#include "plume/lm.h"
#include "random_model.h"
#include "plume/tokenizer.h"

static char dir[] = "/tmp/plume-lm-chat-XXXXXX";

static const char TEMPLATE[] =
    "{% for message in messages %}{% if loop.first and messages[0]['role'] != 'system' %}"
    "{{ '<|im_start|>system\\nBe kind.<|im_end|>\\n' }}{% endif %}"
    "{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}"
    "{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
static const char RENDERED[] =
    "<|im_start|>system\nBe kind.<|im_end|>\n<|im_start|>user\nHi<|im_end|>\n<|im_start|>assistant\n";

/* The vocabulary GGUF (tokenizer only), with the chat template when WITH_TEMPLATE. */
static int write_vocab(const char *path, int with_template, plume_error *err) {
    const char *tok[259];
    int32_t types[259];
    byte_level_tokens(tok);
    for (int b = 0; b < 256; b++) types[b] = 1;
    tok[256] = "<|im_start|>", tok[257] = "<|im_end|>", tok[258] = "<|endoftext|>";
    types[256] = types[257] = types[258] = 3;
    const char *merges[1] = { "Ġ Ġ" };
    plume_gguf_writer *w = plume_gguf_writer_new();
    int rc = plume_gguf_writer_set_str(w, "tokenizer.ggml.model", "gpt2", err) ||
             plume_gguf_writer_set_str(w, "tokenizer.ggml.pre", "qwen2", err) ||
             plume_gguf_writer_set_arr(w, "tokenizer.ggml.tokens", PLUME_GGUF_STRING, 259, tok, err) ||
             plume_gguf_writer_set_arr(w, "tokenizer.ggml.token_type", PLUME_GGUF_INT32, 259, types, err) ||
             plume_gguf_writer_set_arr(w, "tokenizer.ggml.merges", PLUME_GGUF_STRING, 1, merges, err) ||
             plume_gguf_writer_set_u32(w, "tokenizer.ggml.eos_token_id", 258, err) ||
             plume_gguf_writer_set_u32(w, "tokenizer.ggml.bos_token_id", 258, err) ||
             (with_template && plume_gguf_writer_set_str(w, "tokenizer.chat_template", TEMPLATE, err)) ||
             plume_gguf_writer_write(w, path, err);
    plume_gguf_writer_free(w);
    return rc ? -1 : 0;
}


static plume_gen_params greedy(int max_tokens, int parse_special, int ignore_eos) {
    plume_gen_params p;
    plume_gen_params_default(&p);
    p.max_tokens = max_tokens;
    p.parse_special = parse_special;
    p.add_bos = 0;
    p.ignore_eos = ignore_eos;
    return p;
}

int main(void) {
    const char *build = getenv("PLUME_BUILD_DIR");
    CHECK(mkdtemp(dir) != NULL);
    char vocab[256], vocab_plain[256], model[256], model_eot[256], model_plain[256];
    snprintf(vocab, sizeof vocab, "%s/vocab.gguf", dir);
    snprintf(vocab_plain, sizeof vocab_plain, "%s/vocab-plain.gguf", dir);
    snprintf(model, sizeof model, "%s/chat.gguf", dir);
    snprintf(model_eot, sizeof model_eot, "%s/chat-eot.gguf", dir);
    snprintf(model_plain, sizeof model_plain, "%s/plain.gguf", dir);
    plume_error err = { { 0 } };
    CHECK_MSG(write_vocab(vocab, 1, &err) == 0 && write_vocab(vocab_plain, 0, &err) == 0, "%s", err.msg);
    random_model_spec spec = { 64, 96, 2, 8, 2, 0, 256, PLUME_GGML_F32, 0, 0, 0.0f, 5, vocab };
    CHECK_MSG(random_model_write(&spec, model, &err) == 0, "%s", err.msg);
    spec.vocab_gguf = vocab_plain;
    CHECK_MSG(random_model_write(&spec, model_plain, &err) == 0, "%s", err.msg);

    plume_lm *lm = plume_lm_acquire(model, &err);
    CHECK_MSG(lm != NULL, "%s", err.msg);
    if (!lm) return check_finish("test_lm_chat");
    CHECK_STR(plume_lm_chat_family(lm, &err), "chatml");
    const plume_chat_message hi = { "user", "Hi" };
    char *prompt = plume_lm_chat_render(lm, &hi, 1, 1, &err);
    CHECK_STR(prompt, RENDERED);
    const char *prompts[1] = { prompt ? prompt : "" };

    /* 3 <|im_start|> (12 bytes each) and 2 <|im_end|> (10 bytes each) are 5 tokens; the rest one
     * token a byte. Without parse_special, every byte is a token. */
    size_t marker_bytes = 3 * 12 + 2 * 10, total = strlen(RENDERED);
    plume_gen_params p = greedy(6, 1, 1);
    plume_gen_result out = { 0 }, plain = { 0 };
    CHECK_MSG(plume_lm_generate(lm, prompts, 1, &p, &out, &err) == 0, "%s", err.msg);
    CHECK(out.n_prompt_tokens == (int)(total - marker_bytes + 5));
    p = greedy(1, 0, 1);
    CHECK(plume_lm_generate(lm, prompts, 1, &p, &plain, &err) == 0 && plain.n_prompt_tokens == (int)total);
    plume_gen_result_free(&plain);

    /* BOS written as text and parsed is not doubled; unparsed, it is 13 bytes after the added BOS
     * (byte b is token b in this vocabulary) */
    int32_t ids[32];
    CHECK(plume_lm_tokenize_special(lm, "<|endoftext|>Hi", 1, 1, ids, 32, &err) == 3 && ids[0] == 258 &&
          ids[1] == 'H' && ids[2] == 'i');
    CHECK(plume_lm_tokenize_special(lm, "<|endoftext|>Hi", 1, 0, ids, 32, &err) == 16 && ids[0] == 258 && ids[1] != 258);

    /* The greedy run's second new token declared end-of-turn: generation stops at its first
     * occurrence, without it. */
    CHECK(out.n_tokens == 6);
    int32_t eot = out.n_tokens > 1 ? out.tokens[1] : 0;
    int first = 0;
    while (first < out.n_tokens && out.tokens[first] != eot) first++;
    CHECK_MSG(model_file_set_u32(model, model_eot, "tokenizer.ggml.eot_token_id", (uint32_t)eot, &err) == 0, "%s",
              err.msg);
    plume_lm *lm_eot = plume_lm_acquire(model_eot, &err);
    CHECK_MSG(lm_eot != NULL, "%s", err.msg);
    if (lm_eot) {
        CHECK(plume_lm_is_eog(lm_eot, eot) && plume_lm_is_eog(lm_eot, 258) && plume_lm_is_eog(lm_eot, 257));
        plume_gen_result stopped = { 0 }, beams = { 0 };
        p = greedy(6, 1, 0);
        CHECK(plume_lm_generate(lm_eot, prompts, 1, &p, &stopped, &err) == 0);
        CHECK(stopped.n_tokens == first && !strcmp(stopped.stop_reason, "eos"));
        CHECK(stopped.n_tokens == 0 || !memcmp(stopped.tokens, out.tokens, (size_t)first * sizeof *out.tokens));
        p.beams = 2;
        CHECK(plume_lm_generate(lm_eot, prompts, 1, &p, &beams, &err) == 0);
        for (int i = 0; i < beams.n_tokens; i++) CHECK(beams.tokens[i] != eot);
        plume_gen_result_free(&stopped);
        plume_gen_result_free(&beams);
        plume_lm_release(lm_eot);
    }
    plume_gen_result_free(&out);
    free(prompt);

    /* no template: refused by name */
    plume_lm *lm_plain = plume_lm_acquire(model_plain, &err);
    if (lm_plain) {
        CHECK(plume_lm_chat_render(lm_plain, &hi, 1, 1, &err) == NULL);
        CHECK_MSG(strstr(err.msg, "has no tokenizer.chat_template"), "%s", err.msg);
        plume_lm_release(lm_plain);
    }
    plume_lm_release(lm);

    char cmd[2048], *text = NULL;
    CHECK(build != NULL);
    if (build) {
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s' --chat --system 'Be brief.' -p Hi -n 3 2>&1", build,
                 model);
        CHECK(run_cmd(cmd, &text) == 0);
        free(text);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s' --system 'Be brief.' -p Hi -n 3 2>&1", build, model);
        CHECK(run_cmd(cmd, &text) == 2 && text && strstr(text, "--system needs --chat"));
        free(text);
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s' --chat -p Hi -n 3 2>&1", build, model_plain);
        CHECK(run_cmd(cmd, &text) == 1 && text && strstr(text, "--chat:") && strstr(text, "has no tokenizer.chat_template"));
        free(text);

        /* a graph: compose writes the context as the user's message in the template */
        char graph[256], req[256], res[256];
        snprintf(graph, sizeof graph, "%s/chat.yaml", dir);
        snprintf(req, sizeof req, "%s/req.jsonl", dir);
        snprintf(res, sizeof res, "%s/res.jsonl", dir);
        FILE *f = fopen(graph, "w");
        if (f) {
            fprintf(f,
                    "plume: 1\nmodels: { writer: { path: \"%s\" } }\nstages:\n"
                    "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt },\n"
                    "            with: { instruction: \"\", model: writer, chat: true, budget_unit: tokens, budget: 200 } }\n"
                    "  gen: { use: generate.lm, in: { prompt: prompt }, out: { text: output },\n"
                    "         with: { model: writer, max_tokens: 3, beams: 1, chat: true } }\n"
                    "output: [prompt]\n",
                    model);
            fclose(f);
        }
        f = fopen(req, "w");
        if (f) {
            fputs("{\"id\": \"r1\", \"user\": \"u\", \"context\": \"Hi\", \"profile\": []}\n", f);
            fclose(f);
        }
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' run '%s' --data '%s' --out '%s' 2>&1; cat '%s'", build, graph, req, res,
                 res);
        CHECK(run_cmd(cmd, &text) == 0);
        /* the prompt, as JSON: the template around "passage start: Hi" (the random model's output
         * is random bytes, not UTF-8 text, so only the prompt is written out) */
        CHECK_MSG(text && strstr(text, "\"prompt\":\"<|im_start|>system\\nBe kind.<|im_end|>\\n<|im_start|>user\\n"
                                       "passage start: Hi<|im_end|>\\n<|im_start|>assistant\\n\""),
                  "%s", text ? text : "");
        free(text);
        /* a model without a template fails when the graph loads, naming the stage's option */
        f = fopen(graph, "w");
        if (f) {
            fprintf(f,
                    "plume: 1\nmodels: { writer: { path: \"%s\" } }\nstages:\n"
                    "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt },\n"
                    "            with: { model: writer, chat: true } }\n"
                    "output: [prompt]\n",
                    model_plain);
            fclose(f);
        }
        snprintf(cmd, sizeof cmd, "'%s/bin/plume' run '%s' --data '%s' --out '%s' 2>&1", build, graph, req, res);
        CHECK(run_cmd(cmd, &text) != 0);
        CHECK_MSG(text && strstr(text, "prompt.compose: chat: true:") && strstr(text, "has no tokenizer.chat_template"),
                  "%s", text ? text : "");
        free(text);
        /* chat: true without a model to take the template from */
        f = fopen(graph, "w");
        if (f) {
            fputs("plume: 1\nstages:\n"
                  "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt }, with: { chat: true } }\n"
                  "output: [prompt]\n",
                  f);
            fclose(f);
        }
        CHECK(run_cmd(cmd, &text) != 0);
        CHECK_MSG(text && strstr(text, "prompt.compose: chat: true needs model: the name of an entry of the graph's models:"),
                  "%s", text ? text : "");
        free(text);
        unlink(graph);
        unlink(req);
        unlink(res);
    }
    unlink(vocab);
    unlink(vocab_plain);
    unlink(model);
    unlink(model_eot);
    unlink(model_plain);
    rmdir(dir);
    return check_finish("test_lm_chat");
}
