/* generate.lm: a batch gives what each record gives alone (greedy and beam search); the greedy
 * continuation equals a hand-rolled greedy decode over plume_lm_prefill/plume_lm_decode; the text is
 * context + continuation; stop strings cut the text; a prompt too long for the model fails its record
 * alone, as does a malformed request line. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pipe.h"

static const char *GRAPH =
    "plume: 1\n"
    "models: { writer: \"${MODEL}\" }\n"
    "stages:\n"
    "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt },\n"
    "            with: { budget_unit: tokens, model: writer, budget: 400, context_last: true } }\n"
    "  gen: { use: generate.lm, in: { prompt: prompt, context: context }, out: { text: output, continuation: cont },\n"
    "         with: { model: writer, max_tokens: 12, beams: %d, stop: \"%s\" } }\n"
    "output: [prompt, output, cont]\n";

static json_t *run(int beams, const char *stop, const char *requests, size_t batch) {
    char yaml[2048];
    snprintf(yaml, sizeof yaml, GRAPH, beams, stop);
    return pipe_run(yaml, requests, batch);
}

static const char *str(json_t *results, size_t i, const char *key) {
    return json_string_value(json_object_get(json_array_get(results, i), key));
}

/* Greedy decoding by hand: prefill the prompt, then append the argmax until EOS or max tokens. */
static char *greedy_reference(const char *prompt, int max_tokens) {
    plume_lm *lm = pipe_lm();
    const plume_lm_info *info = plume_lm_get_info(lm);
    plume_error err = { { 0 } };
    int n = plume_lm_tokenize(lm, prompt, -1, NULL, 0, &err);
    int32_t *tok = malloc((size_t)(n + max_tokens) * sizeof *tok), out[64];
    float *logits = malloc((size_t)info->vocab_size * sizeof *logits);
    plume_lm_tokenize(lm, prompt, -1, tok, n, &err);
    plume_lm_batch *b = plume_lm_batch_create(lm, 1, n + max_tokens, &err);
    int n_out = 0;
    if (b && plume_lm_prefill(b, 0, tok, n, logits, &err) == 0) {
        for (int step = 0; step < max_tokens; step++) {
            int best = 0;
            for (int v = 1; v < info->vocab_size; v++)
                if (logits[v] > logits[best]) best = v;
            if (best == info->eos) break;
            out[n_out++] = best;
            int seq = 0;
            if (step + 1 < max_tokens && plume_lm_decode(b, 1, &seq, &out[n_out - 1], logits, NULL, &err)) break;
        }
    }
    char *text = plume_lm_detokenize(lm, out, n_out, 0, &err);
    plume_lm_batch_free(b);
    free(tok);
    free(logits);
    return text;
}

static void test_batched_equals_alone(const char *requests) {
    for (int beams = 1; beams <= 4; beams += 3) {
        json_t *together = run(beams, "", requests, 3), *alone = run(beams, "", requests, 1);
        CHECK(together && alone);
        if (!together || !alone) return;
        CHECK(json_array_size(together) == 3 && json_array_size(alone) == 3);
        for (size_t i = 0; i < json_array_size(together); i++) {
            CHECK(str(together, i, "cont") && strlen(str(together, i, "cont")) > 0);
            CHECK_STR(str(together, i, "output"), str(alone, i, "output"));
            if (beams == 1) {
                char *ref = greedy_reference(str(together, i, "prompt"), 12);
                CHECK_STR(str(together, i, "cont"), ref);
                free(ref);
            }
            /* the prompt ends with the context, and the output is the context then the continuation */
            const char *prompt = str(together, i, "prompt"), *out = str(together, i, "output");
            const char *cont = str(together, i, "cont");
            size_t pl = strlen(prompt), ol = strlen(out), cl = strlen(cont);
            CHECK(ol > cl && !strcmp(out + ol - cl, cont));
            CHECK(ol - cl <= pl && !strncmp(prompt + pl - (ol - cl), out, ol - cl));
        }
        json_decref(together);
        json_decref(alone);
    }
}

static void test_stop(const char *requests) {
    json_t *plain = run(1, "", requests, 3);
    const char *cont = plain ? str(plain, 0, "cont") : NULL;
    CHECK(cont && strlen(cont) > 8);
    if (!cont) return;
    /* stop at a piece of the greedy continuation: the text ends just before its first occurrence */
    char stop[8];
    memcpy(stop, cont + 4, 3);
    stop[3] = '\0';
    if (strchr(stop, '"') || strchr(stop, '\\') || strchr(stop, '|') || strchr(stop, '\n')) strcpy(stop, "e");
    json_t *cut = run(1, stop, requests, 3);
    const char *got = cut ? str(cut, 0, "cont") : NULL;
    size_t at = (size_t)(strstr(cont, stop) - cont);
    CHECK(got && strlen(got) == at && !strncmp(got, cont, at));
    json_decref(plain);
    json_decref(cut);
}

static void test_failures(void) {
    /* record 2: a context far longer than the model's 512 tokens; record 3: not JSON */
    size_t big = 6000;
    char *text = malloc(big + 4096);
    strcpy(text, "{\"id\":\"a\",\"context\":\"Dear Ann, the meeting\"}\n{\"id\":\"b\",\"context\":\"");
    size_t n = strlen(text);
    for (size_t i = 0; i < big; i++) text[n++] = "word "[i % 5];
    strcpy(text + n, "\"}\n{\"id\": \"c\", \"context\": \n{\"id\":\"d\",\"context\":\"Hello Bob\"}\n");
    const char *path = pipe_tmp("bad.jsonl");
    CHECK(pipe_write(path, text) == 0);
    free(text);
    json_t *res = run(1, "", path, 8);
    CHECK(res && json_array_size(res) == 4);
    if (!res) return;
    CHECK(str(res, 0, "output") && !json_object_get(json_array_get(res, 0), "error"));
    const char *e1 = str(res, 1, "error"), *e2 = str(res, 2, "error");
    CHECK_MSG(e1 && strstr(e1, "the model's context holds 512") && strstr(e1, "budget_unit: tokens"), "%s", e1);
    CHECK_MSG(e2 && strstr(e2, "bad.jsonl:3"), "%s", e2);
    CHECK(str(res, 3, "output") && !strncmp(str(res, 3, "output"), "Hello Bob", 9));
    json_decref(res);
}

/* The personal memory: with the user's documents wired to `memory`, a greedy continuation follows
 * the user's own words where its text so far matches them (weight 0.9 outweighs any token the
 * model prefers), and the same graph without the memory does not write them. Beam search too. */
static const char *MEMORY_GRAPH =
    "plume: 1\n"
    "models: { writer: \"${MODEL}\" }\n"
    "stages:\n"
    "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt },\n"
    "            with: { budget_unit: tokens, model: writer, budget: 400, context_last: true } }\n"
    "  gen: { use: generate.lm, in: { prompt: prompt, context: context%s }, out: { text: output, continuation: cont },\n"
    "         with: { model: writer, max_tokens: 24, beams: %d, memory_weight: 0.9 } }\n"
    "output: [output, cont]\n";

static void test_memory(void) {
    const char *path = pipe_tmp("memory.jsonl");
    CHECK(pipe_write(path, "{\"id\":\"m\",\"user\":\"u\",\"context\":\"Once upon a time\",\"profile\":["
                           "{\"id\":\"p1\",\"text\":\"Once upon a time zebras danced on purple mountains\"}]}\n") == 0);
    for (int beams = 1; beams <= 4; beams += 3) {
        char yaml[2048];
        snprintf(yaml, sizeof yaml, MEMORY_GRAPH, ", memory: profile", beams);
        json_t *with = pipe_run(yaml, path, 1);
        snprintf(yaml, sizeof yaml, MEMORY_GRAPH, "", beams);
        json_t *without = pipe_run(yaml, path, 1);
        CHECK(with && without);
        const char *a = with ? str(with, 0, "cont") : NULL, *b = without ? str(without, 0, "cont") : NULL;
        CHECK_MSG(a && !strncmp(a, " zebras danced on purple mountains", 34), "beams %d: %s", beams, a ? a : "-");
        CHECK_MSG(b && !strstr(b, "zebras"), "beams %d without memory: %s", beams, b ? b : "-");
        json_decref(with);
        json_decref(without);
    }
    /* length: memory_median: the continuation is as long as the user's median document less the
     * context, here 3 tokens (memory_weight 0: the memory only measures) */
    plume_lm *lm = pipe_lm();
    plume_error err = { { 0 } };
    int ctx = plume_lm_tokenize(lm, "Once upon a time", 0, NULL, 0, &err);
    const char *docs[3] = { "Once upon a time there was a cat", "a b c d e f g h i j k l m n o p", "x" };
    int lens[3];
    for (int i = 0; i < 3; i++) lens[i] = plume_lm_tokenize(lm, docs[i], 0, NULL, 0, &err);
    for (int i = 0; i < 3; i++)   /* sorted: the median is lens[1] */
        for (int j = i + 1; j < 3; j++)
            if (lens[j] < lens[i]) {
                int t = lens[i];
                lens[i] = lens[j];
                lens[j] = t;
            }
    int limit = lens[1] - ctx;
    CHECK_MSG(limit >= 2 && limit <= 6, "median %d, context %d", lens[1], ctx);
    char line[1024];
    snprintf(line, sizeof line, "{\"id\":\"m\",\"context\":\"Once upon a time\",\"profile\":[{\"id\":\"a\",\"text\":"
             "\"%s\"},{\"id\":\"b\",\"text\":\"%s\"},{\"id\":\"c\",\"text\":\"%s\"}]}\n", docs[0], docs[1], docs[2]);
    CHECK(pipe_write(path, line) == 0);
    char yaml[2048];
    snprintf(yaml, sizeof yaml, MEMORY_GRAPH, ", memory: profile", 1);
    char *w = strstr(yaml, "memory_weight: 0.9");
    memcpy(w, "memory_weight: 0.0", 18);
    json_t *free_length = pipe_run(yaml, path, 1);
    char *tail = strstr(yaml, " } }\noutput");
    char with_length[2300];
    snprintf(with_length, sizeof with_length, "%.*s, length: memory_median%s", (int)(tail - yaml), yaml, tail);
    json_t *short_one = pipe_run(with_length, path, 1);
    const char *a = short_one ? str(short_one, 0, "cont") : NULL, *b = free_length ? str(free_length, 0, "cont") : NULL;
    int na = a ? plume_lm_tokenize(lm, a, 0, NULL, 0, &err) : -1, nb = b ? plume_lm_tokenize(lm, b, 0, NULL, 0, &err) : -1;
    CHECK_MSG(na >= 1 && na <= limit + 1 && nb > limit + 4, "memory_median (%d): %d tokens ('%s'); max_tokens 24: %d",
              limit, na, a ? a : "-", nb);
    CHECK(b && a && !strncmp(b, a, strlen(a)));   /* the same greedy text, cut sooner */
    json_decref(short_one);
    json_decref(free_length);
    /* out-of-range memory parameters are refused when the graph is built */
    snprintf(yaml, sizeof yaml, MEMORY_GRAPH, ", memory: profile", 1);
    char *at = strstr(yaml, "memory_weight: 0.9");
    memcpy(at, "memory_weight: 1.0", 18);
    CHECK(pipe_run(yaml, path, 1) == NULL);
    memcpy(at, "memory_weight: 0.9", 18);
    snprintf(with_length, sizeof with_length, "%.*s, length: median%s", (int)(tail - yaml), yaml, tail);
    CHECK(pipe_run(with_length, path, 1) == NULL);
}

/* A followed memory (memory_follow): the generator writes the best document's text from its
 * start, not its title, on a line of its own (the context ends in a word) where the context's end
 * occurs nowhere in it, and ends where it ends
 * (end-of-sequence); every cut of it by max_tokens is whole UTF-8 characters, even where the
 * limit falls between the byte tokens of one character (the café's é, the cup ☕); a context cut
 * inside one of the document's words goes on with the rest of that word. */
static const char *FOLLOW_GRAPH =
    "plume: 1\n"
    "models: { writer: \"${MODEL}\" }\n"
    "stages:\n"
    "  prompt: { use: prompt.compose, in: { context: context }, out: { text: prompt },\n"
    "            with: { budget_unit: tokens, model: writer, budget: 400, context_last: true } }\n"
    "  gen: { use: generate.lm, in: { prompt: prompt, context: context, memory: profile },\n"
    "         out: { text: output, continuation: cont },\n"
    "         with: { model: writer, max_tokens: %d, beams: %d, memory_weight: 0.9, memory_min_match: 2,\n"
    "                 memory_follow: true, memory_anchor_match: 3 } }\n"
    "output: [output, cont]\n";

static void test_memory_follow(void) {
    const char *body = "Hi Ann, caf\u00e9 \u2615 ok.", *written = "Hi Ann, caf\xc3\xa9 \xe2\x98\x95 ok.";
    char path[512], line[512];
    snprintf(path, sizeof path, "%s", pipe_tmp("follow.jsonl"));   /* pipe_tmp's slots are reused */
    snprintf(line, sizeof line, "{\"id\":\"f\",\"user\":\"u\",\"context\":\"Once upon a time\",\"profile\":["
             "{\"id\":\"p1\",\"title\":\"Zebras\",\"text\":\"%s\"}]}\n", body);
    CHECK(pipe_write(path, line) == 0);
    char yaml[2048];
    for (int beams = 1; beams <= 4; beams += 3) {
        snprintf(yaml, sizeof yaml, FOLLOW_GRAPH, 64, beams);
        json_t *res = pipe_run(yaml, path, 1);
        const char *cont = res ? str(res, 0, "cont") : NULL;
        /* (an SPM tokenizer's space prefix stays on the body's first word) */
        CHECK_MSG(cont && !strncmp(cont, "\n ", 2) && !strcmp(cont + 2, written), "beams %d: '%s'", beams,
                  cont ? cont : "-");
        json_decref(res);
    }
    plume_lm *lm = pipe_lm();
    plume_error err = { { 0 } };
    int n = plume_lm_tokenize(lm, written, 0, NULL, 0, &err), cuts = 0;
    for (int max = 1; max <= n; max++) {
        snprintf(yaml, sizeof yaml, FOLLOW_GRAPH, max, 1);
        json_t *res = pipe_run(yaml, path, 1);
        const char *cont = res ? str(res, 0, "cont") : NULL;
        if (cont && *cont == '\n') cont++;   /* the line break after the context's last word */
        if (cont && *cont == ' ') cont++;
        CHECK_MSG(cont && !strncmp(written, cont, strlen(cont)), "max_tokens %d: '%s'", max, cont ? cont : "-");
        cuts += cont && strlen(cont) < strlen(written) && ((unsigned char)written[strlen(cont)] & 0xC0) == 0x80;
        json_decref(res);
    }
    CHECK(cuts == 0 && n > 12);
    /* a context cut inside a word of the document (" p" "a", where it has " p" "ar" "k"): the
     * generator finishes the word from the document and goes on from there, not from its start */
    snprintf(line, sizeof line, "{\"id\":\"h\",\"user\":\"u\",\"context\":\"Dear Sam, we meet at the pa\","
             "\"profile\":[{\"id\":\"p1\",\"title\":\"Plans\",\"text\":\"Dear Sam, we meet at the park "
             "tomorrow at noon.\"}]}\n");
    CHECK(pipe_write(path, line) == 0);
    for (int beams = 1; beams <= 4; beams += 3) {
        snprintf(yaml, sizeof yaml, FOLLOW_GRAPH, 64, beams);
        json_t *res = pipe_run(yaml, path, 1);
        const char *cont = res ? str(res, 0, "cont") : NULL;
        CHECK_MSG(cont && !strcmp(cont, "rk tomorrow at noon."), "beams %d: '%s'", beams, cont ? cont : "-");
        json_decref(res);
    }
    /* an anchor shorter than memory_min_match is refused when the graph is built */
    snprintf(yaml, sizeof yaml, FOLLOW_GRAPH, 64, 1);
    char *a = strstr(yaml, "memory_anchor_match: 3");
    CHECK(a != NULL);
    if (a) a[strlen("memory_anchor_match: ")] = '1';
    CHECK(pipe_run(yaml, path, 1) == NULL);
}

int main(void) {
    const char *requests = pipe_email_requests(3);
    test_batched_equals_alone(requests);
    test_stop(requests);
    test_failures();
    test_memory();
    test_memory_follow();
    pipe_done();
    return check_finish("test_generate");
}
