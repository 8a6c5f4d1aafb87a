/* prompt.compose budget_unit tokens, summarize.ctx and synthesize.ctx with the stories260K model:
 * the token budget holds and cuts the passages from their end; the aids' prompts have the
 * documented shape and fit the context; their outputs equal plume_lm_generate on those prompts,
 * trimmed (summary) or parsed into words (synthesis). */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pipe.h"
#include "plume/text.h"

static const char *GRAPH =
    "plume: 1\n"
    "models: { writer: \"${MODEL}\" }\n"
    "stages:\n"
    "  rank: { use: rank.doc_bm25, in: { query: context, profile: profile }, out: { entries: ranked } }\n"
    "  full: { use: prompt.compose, in: { context: context, entries: ranked }, out: { text: full },\n"
    "          with: { context_last: true } }\n"
    "  cut:  { use: prompt.compose, in: { context: context, entries: ranked }, out: { text: cut },\n"
    "          with: { budget_unit: tokens, model: writer, budget: 250, context_last: true } }\n"
    "  sum:  { use: summarize.ctx, in: { context: context, entries: ranked }, out: { text: summary, prompt: sum_prompt },\n"
    "          with: { model: writer, max_tokens: 10, beams: 1 } }\n"
    "  syn:  { use: synthesize.ctx, in: { context: context, entries: ranked },\n"
    "          out: { terms: words, text: syn_text, prompt: syn_prompt },\n"
    "          with: { model: writer, max_tokens: 10, beams: 1, stop: \"\", max_terms: 5 } }\n"
    "output: [context, full, cut, summary, sum_prompt, words, syn_text, syn_prompt]\n";

static int tokens(const char *s) {
    plume_error err;
    return plume_lm_tokenize(pipe_lm(), s, -1, NULL, 0, &err);
}

static int ends_with(const char *s, const char *tail) {
    size_t a = strlen(s), b = strlen(tail);
    return a >= b && !strcmp(s + a - b, tail);
}

static void check_record(json_t *r) {
    const char *ctx = json_string_value(json_object_get(r, "context"));
    const char *full = json_string_value(json_object_get(r, "full")), *cut = json_string_value(json_object_get(r, "cut"));
    CHECK(ctx && full && cut);
    if (!ctx || !full || !cut) return;
    /* the budget: at most 250 tokens, and it had to cut */
    CHECK(tokens(full) > 250);
    CHECK_MSG(tokens(cut) <= 250, "%d tokens", tokens(cut));
    char want_end[1024];
    snprintf(want_end, sizeof want_end, "\npassage start: %s", ctx);
    CHECK(ends_with(cut, want_end) && ends_with(full, want_end));
    /* the passages were cut from their end: the cut prompt's passages are a prefix of the full ones */
    const char *pc = strstr(cut, "past passages: "), *pf = strstr(full, "past passages: ");
    CHECK(pc && pf);
    if (pc && pf) {
        size_t n = strlen(pc) - strlen(want_end);
        CHECK(n > 20 && !strncmp(pc, pf, n));
    }

    /* summarize.ctx: the prompt's shape, its size, and the summary = the model's text, trimmed */
    const char *sp = json_string_value(json_object_get(r, "sum_prompt"));
    char head[1024];
    snprintf(head, sizeof head, "Summarize the past passages for the passage start\npassage start: %s\npast passages: ", ctx);
    CHECK(sp && !strncmp(sp, head, strlen(head)) && ends_with(sp, "\nsummary:"));
    CHECK(sp && tokens(sp) + 10 <= 512);
    char *ref = sp ? pipe_generate_alone(sp, 10, 1) : NULL;
    const char *sum = json_string_value(json_object_get(r, "summary"));
    if (ref && sum) {
        char *b = ref, *e = ref + strlen(ref);
        while (*b == ' ' || *b == '\n') b++;
        while (e > b && (e[-1] == ' ' || e[-1] == '\n')) e--;
        *e = '\0';
        CHECK_STR(sum, b);
    } else {
        CHECK(ref && sum);
    }
    free(ref);

    /* synthesize.ctx: the raw text = the model's, the terms = its words minus stopwords and repeats */
    const char *yp = json_string_value(json_object_get(r, "syn_prompt"));
    CHECK(yp && ends_with(yp, "\nimportant words:"));
    ref = yp ? pipe_generate_alone(yp, 10, 1) : NULL;
    const char *raw = json_string_value(json_object_get(r, "syn_text"));
    CHECK(ref && raw && !strcmp(ref, raw));
    json_t *words = json_object_get(r, "words");
    plume_words w = { 0 };
    size_t k = 0;
    if (raw) plume_text_words(raw, strlen(raw), &w);
    for (size_t i = 0; i < w.count && k < 5; i++) {
        const char *word = plume_word(&w, i);
        if (plume_is_stopword(word, strlen(word))) continue;
        int dup = 0;
        for (size_t j = 0; j < k; j++) dup |= !strcmp(json_string_value(json_object_get(json_array_get(words, j), "word")), word);
        if (dup) continue;
        json_t *t = json_array_get(words, k);
        CHECK_STR(json_string_value(json_object_get(t, "word")), word);
        CHECK_NEAR(json_number_value(json_object_get(t, "weight")), 5.0 - (double)k, 0);
        k++;
    }
    CHECK(json_array_size(words) == k);
    plume_words_free(&w);
    free(ref);
}

int main(void) {
    const char *req = pipe_email_requests(2);
    json_t *res = pipe_run(GRAPH, req, 8);
    CHECK(res && json_array_size(res) == 2);
    for (size_t i = 0; res && i < json_array_size(res); i++) check_record(json_array_get(res, i));
    json_decref(res);
    pipe_done();
    return check_finish("test_aids");
}
