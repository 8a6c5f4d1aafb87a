/* baseline.copy: a model-free writer that copies the user's best-matching earlier document.
 *
 * The output is the immediate context, a line break, and the text of the first ranked entry cut
 * to a length. It is the bar every generator has to clear: a pipeline whose continuation scores
 * below a copy of what the user already wrote adds nothing the ranking had not found.
 *
 * The length of the copied continuation is budget_chars code points, or, when `length_of` is
 * wired, whatever makes the whole output as long as that text: wired to the request's target it is
 * an oracle (it knows how long the real document is: for evaluation only); wired to a generator's
 * output it is the copy at the generator's own length, a fair comparison at equal length. The cut
 * backs off to the start of a word it would split. */
#include <stdlib.h>
#include <string.h>
#include "plume/stage.h"
#include "plume/text.h"

typedef struct copy_state {
    long long budget_chars;
} copy_state;

enum { IN_CONTEXT, IN_ENTRIES, IN_LENGTH_OF };

static const plume_port inputs[] = {
    { "context", PLUME_TEXT, "the request's immediate context: the output's start", 0 },
    { "entries", PLUME_DOCS, "optional: ranked documents, the first one's text is copied (unwired or empty: the "
                             "context alone)", PLUME_PORT_OPTIONAL },
    { "length_of", PLUME_TEXT, "optional: the output is cut to this text's length in code points (the "
                               "request's target: an oracle; a generator's output: the copy at its length)",
      PLUME_PORT_OPTIONAL },
    { 0 }
};

static const plume_port outputs[] = {
    { "text", PLUME_TEXT, "the context, a line break, and the copied continuation", 0 },
    { 0 }
};

static const plume_param params[] = {
    { "budget_chars", PLUME_INT, "500", "the copied continuation's length in code points when length_of is not "
                                        "wired", PLUME_AT_LEAST(0) },
    { 0 }
};

static int copy_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    (void)host;
    copy_state *s = state;
    s->budget_chars = plume_args_int(args, "budget_chars");
    return 0;
}

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Bytes of the first `chars` code points of text, backed off to a word's start when the cut would
 * split one (unless the text's first word is longer than the cut). */
static size_t cut_at_word(const char *text, size_t len, size_t chars) {
    size_t keep = plume_utf8_prefix(text, len, chars);
    if (keep == len || is_space(text[keep])) return keep;
    size_t k = keep;
    while (k > 0 && !is_space(text[k - 1])) k--;
    return k > 0 ? k : keep;
}

static int copy_run(void *state, plume_batch *b, plume_error *err) {
    (void)err;
    const copy_state *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *ctx = plume_batch_in(b, r, IN_CONTEXT), *entries = plume_batch_in(b, r, IN_ENTRIES),
                          *length_of = plume_batch_in(b, r, IN_LENGTH_OF);
        size_t budget = (size_t)s->budget_chars;
        if (length_of->type == PLUME_TEXT) {
            size_t want = plume_utf8_length(length_of->as.text.str, length_of->as.text.len),
                   have = plume_utf8_length(ctx->as.text.str, ctx->as.text.len) + 1;   /* the line break */
            budget = want > have ? want - have : 0;
        }
        const char *doc = entries->type == PLUME_DOCS && entries->as.docs.count ? entries->as.docs.items[0].text : "";
        size_t doc_len = strlen(doc);
        while (doc_len && is_space(*doc)) doc++, doc_len--;
        size_t keep = budget ? cut_at_word(doc, doc_len, budget) : 0;
        size_t n = ctx->as.text.len + 1 + keep;
        plume_value *out = plume_batch_out(b, r, 0);
        char *text = malloc(n + 1);
        if (!text) {
            plume_batch_fail(b, r, "out of memory");
            continue;
        }
        memcpy(text, ctx->as.text.str, ctx->as.text.len);
        size_t at = ctx->as.text.len;
        if (keep) {
            text[at++] = '\n';
            memcpy(text + at, doc, keep);
            at += keep;
        }
        if (plume_value_set_text(out, text, at)) plume_batch_fail(b, r, "out of memory");
        free(text);
    }
    return 0;
}

const plume_stage baseline_copy = {
    .name = "baseline.copy",
    .doc = "A model-free writer: the immediate context (alone when `entries` is unwired), then the first ranked entry's text cut to budget_chars "
           "code points (at a word boundary), or to the length of the `length_of` text when it is wired (the "
           "target: an oracle, for evaluation only; a generator's output: the copy at the generator's length). "
           "The bar a generator must clear.",
    .inputs = inputs,
    .outputs = outputs,
    .params = params,
    .state_size = sizeof(copy_state),
    .create = copy_create,
    .run = copy_run,
};
