/* The LM's helpers for callers with many prompts (plume_lm_generate_each, plume_lm_fit_prompt,
 * plume_gen_stops_parse), with the stories260K model. The reference for each is the simpler call
 * it stands for: a prompt generated among others gives what plume_lm_generate gives it alone, and
 * a fitted prompt is the longest one, cut at a word, that plume_lm_tokenize counts within budget. */
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "pipe.h"

static int tokens(const char *s) {
    plume_error err;
    return plume_lm_tokenize_special(pipe_lm(), s, -1, 0, NULL, 0, &err);
}

typedef struct pieces { int calls[4]; } pieces;

static int count_piece(void *user, int i, const char *piece) {
    pieces *p = user;
    if (i >= 0 && i < 4) p->calls[i]++;
    return 0;
}

/* a mix of nothing that notes which prompt asked */
static int note_mix(void *user, int i, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
                    plume_mix *mix) {
    pieces *p = user;
    if (i >= 0 && i < 4) p->calls[i]++;
    *mix = (plume_mix){ 0 };
    return 0;
}

static void test_generate_each(void) {
    /* prompt 2 is far longer than the model's 512 tokens; prompt 1 is absent */
    char *big = malloc(6001);
    for (int i = 0; i < 6000; i++) big[i] = "word "[i % 5];
    big[6000] = '\0';
    const char *prompts[4] = { "Once upon a time", NULL, big, "The little dog" };
    int each[4] = { 5, 0, 0, 9 };
    pieces seen = { { 0 } };
    plume_gen_params p;
    plume_gen_params_default(&p);
    p.max_tokens = 9;
    p.max_tokens_each = each;
    p.on_text = count_piece;
    p.user = &seen;
    plume_gen_result out[4];
    plume_error failed[4], err = { { 0 } };
    CHECK_MSG(plume_lm_generate_each(pipe_lm(), prompts, 4, &p, NULL, out, failed, &err) == 0, "%s", err.msg);
    char *a0 = pipe_generate_alone(prompts[0], 5, 1), *a3 = pipe_generate_alone(prompts[3], 9, 1);
    CHECK(a0 && out[0].text && !strcmp(out[0].text, a0));
    CHECK(a3 && out[3].text && !strcmp(out[3].text, a3));
    CHECK(out[0].n_tokens <= 5 && out[3].n_tokens <= 9);
    CHECK(out[0].n_prompt_tokens == tokens(prompts[0]) && out[3].n_prompt_tokens == tokens(prompts[3]));
    CHECK(!failed[0].msg[0] && !failed[1].msg[0] && !failed[3].msg[0]);
    CHECK(!out[1].text && !out[2].text);
    char want[128];
    snprintf(want, sizeof want, "the prompt is %d tokens but the model's context holds 512", tokens(big));
    CHECK_STR(failed[2].msg, want);
    CHECK(out[2].n_prompt_tokens == tokens(big));
    /* on_text hears of the prompts by the caller's numbers */
    CHECK(seen.calls[0] > 0 && seen.calls[3] > 0 && seen.calls[1] == 0 && seen.calls[2] == 0);
    for (int i = 0; i < 4; i++) plume_gen_result_free(&out[i]);
    free(a0);
    free(a3);

    /* beam search: the same, one prompt at a time inside */
    plume_gen_params_default(&p);
    p.max_tokens = 6;
    p.beams = 3;
    const char *two[2] = { big, "The little dog" };
    CHECK(plume_lm_generate_each(pipe_lm(), two, 2, &p, NULL, out, failed, &err) == 0);
    a3 = pipe_generate_alone(two[1], 6, 3);
    CHECK(failed[0].msg[0] && !out[0].text && a3 && out[1].text && !strcmp(out[1].text, a3));
    for (int i = 0; i < 2; i++) plume_gen_result_free(&out[i]);
    free(a3);

    /* every prompt failing alone is no error of the call */
    CHECK(plume_lm_generate_each(pipe_lm(), two, 1, &p, NULL, out, failed, &err) == 0 && failed[0].msg[0]);
    plume_gen_result_free(&out[0]);
    /* the mix callback too hears of the prompts by the caller's numbers */
    pieces mixed = { { 0 } };
    p.beams = 1;
    p.mix = note_mix;
    p.mix_user = &mixed;
    CHECK(plume_lm_generate_each(pipe_lm(), two, 2, &p, NULL, out, failed, &err) == 0);
    CHECK(mixed.calls[0] == 0 && mixed.calls[1] > 0);
    for (int i = 0; i < 2; i++) plume_gen_result_free(&out[i]);
    /* a memory per prompt and a mix callback at once: refused, naming the model */
    plume_memory *none[2] = { NULL, NULL };
    CHECK(plume_lm_generate_each(pipe_lm(), two, 2, &p, none, out, failed, &err) == -1);
    CHECK(strstr(err.msg, "stories260K.gguf: a generation takes a personal memory per prompt or a mix callback"));
    free(big);
}


static void test_fit_prompt(void) {
    const char *head = "Summarize\npast passages: ", *tail = "\nsummary:";
    char body[4096] = "";
    for (int i = 0; i < 200; i++) strcat(body, i % 2 ? "cats sleep all day " : "dogs bark at night ");
    plume_error err = { { 0 } };
    /* (head and tail take about 30 tokens of this small vocabulary) */
    for (int budget = 60; budget <= 160; budget += 50) {
        char *p = plume_lm_fit_prompt(pipe_lm(), head, body, strlen(body), tail, budget, -1, 0, &err);
        CHECK_MSG(p != NULL, "%s", err.msg);
        if (!p) continue;
        size_t hl = strlen(head), kept = strlen(p) - hl - strlen(tail);
        CHECK(!strncmp(p, head, hl) && !strncmp(p + hl, body, kept) && !strcmp(p + hl + kept, tail));
        CHECK_MSG(tokens(p) <= budget, "%d tokens for a budget of %d", tokens(p), budget);
        CHECK(kept > 0 && body[kept] == ' ' && body[kept - 1] != ' ');   /* cut at the end of a word */
        /* the next word would not have fitted: the prompt is the longest one */
        const char *next_end = strchr(body + kept + 1, ' ');
        char *longer = malloc(strlen(p) + 64);
        sprintf(longer, "%s%.*s%s", head, (int)(next_end - body), body, tail);
        CHECK_MSG(tokens(longer) > budget, "budget %d: %d tokens kept, %d with the next word", budget, tokens(p),
                  tokens(longer));
        free(longer);
        free(p);
    }
    /* a body that fits is kept whole */
    char *p = plume_lm_fit_prompt(pipe_lm(), head, "cats sleep", 10, tail, 100, -1, 0, &err);
    CHECK(p && !strcmp(p, "Summarize\npast passages: cats sleep\nsummary:"));
    free(p);
    /* only part of body_len counts, and no terminator is needed there */
    p = plume_lm_fit_prompt(pipe_lm(), "", "cats sleepXYZ", 10, "", 100, -1, 0, &err);
    CHECK(p && !strcmp(p, "cats sleep"));
    free(p);
    /* head and tail alone over the budget: the body is left out */
    p = plume_lm_fit_prompt(pipe_lm(), head, body, strlen(body), tail, 2, -1, 0, &err);
    CHECK(p && !strcmp(p, "Summarize\npast passages: \nsummary:"));
    free(p);
    /* a cut never splits a character: a body of one long word of two-byte characters */
    char accents[601] = "";
    for (int i = 0; i < 300; i++) strcat(accents, "\xc3\xa9");
    p = plume_lm_fit_prompt(pipe_lm(), "", accents, strlen(accents), "", 30, -1, 0, &err);
    CHECK(p && strlen(p) % 2 == 0);
    free(p);
}

static void test_stops(void) {
    char **s;
    int n;
    CHECK(plume_gen_stops_parse("a|b\\|c||\n", &s, &n) == 0 && n == 3);
    if (n == 3) {
        CHECK_STR(s[0], "a");
        CHECK_STR(s[1], "b|c");
        CHECK_STR(s[2], "\n");
    }
    plume_gen_stops_free(s, n);
    CHECK(plume_gen_stops_parse("", &s, &n) == 0 && n == 0 && s == NULL);
    CHECK(plume_gen_stops_parse("||", &s, &n) == 0 && n == 0 && s == NULL);
    CHECK(plume_gen_stops_parse("\\|", &s, &n) == 0 && n == 1 && !strcmp(s[0], "|"));
    plume_gen_stops_free(s, n);
    CHECK(plume_gen_stops_parse("end\\", &s, &n) == 0 && n == 1 && !strcmp(s[0], "end\\"));
    plume_gen_stops_free(s, n);
}

int main(void) {
    test_stops();
    test_generate_each();
    test_fit_prompt();
    pipe_done();
    return check_finish("test_lm_helpers");
}
