/* prompt.compose: the generator's input in the paper's order and with its prefixes,
 *
 *     <instruction>
 *     passage start: <context>
 *     summary: <summary>
 *     important words: w1, w2, ...
 *     past passages: <entry 1> | <entry 2> | ...
 *
 * one part per line; a part whose input is unwired (PLUME_NONE) or empty is left out; an entry
 * with a title reads "title: text". With a budget, the parts are shortened, lowest value first,
 * until the prompt fits: past passages (cut at a word boundary; they are in rank order, so the
 * lowest-ranked text goes first), then the summary (likewise), then the important words (the
 * last words dropped first). A part cut to nothing is left out, prefix and all. The instruction
 * and the context are never cut, so a context longer than the budget still comes out whole.
 *
 * The budget counts characters (code points), or with `budget_unit: tokens` the tokens of the
 * `model`'s tokenizer (a BOS included when the tokenizer adds one), so that a prompt fits the
 * generator's context. With `context_last`, the "passage start:" line comes last: a decoder-only
 * generator continues the end of its prompt, and that must be the document it is writing.
 *
 * With `chat: true` the prompt is the user's message of a conversation written in the `model`'s
 * chat template (tokenizer.chat_template, the Llama 3 and ChatML families), after a `system`
 * message when one is given, with the assistant's turn opened: an instruction-tuned model answers
 * it. A token budget counts the whole templated text. The generator must then parse the
 * template's control tokens (generate.lm chat: true). */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"
#include "plume/stage.h"

typedef struct compose_state {
    char *instruction;
    size_t budget;   /* 0: none */
    plume_lm *lm;    /* budget_unit tokens or chat: the model; NULL: neither */
    int budget_tokens;  /* the budget counts lm's tokens (else code points) */
    int context_last;
    int chat;        /* wrap in lm's chat template */
    char *system;    /* chat: the system message, NULL for none */
} compose_state;

enum { IN_CONTEXT, IN_SUMMARY, IN_KEYWORDS, IN_ENTRIES };

static const plume_port compose_inputs[] = {
    { "context", PLUME_TEXT, "the immediate context: the start of the document being written", 0 },
    { "summary", PLUME_TEXT, "a summary of the ranked entries", PLUME_PORT_OPTIONAL },
    { "keywords", PLUME_TERMS, "important words (synthesis)", PLUME_PORT_OPTIONAL },
    { "entries", PLUME_DOCS, "the ranked entries (past passages)", PLUME_PORT_OPTIONAL },
    { 0 },
};
static const plume_port compose_outputs[] = {
    { "text", PLUME_TEXT, "the prompt", 0 },
    { 0 },
};
static const plume_param compose_params[] = {
    { "instruction", PLUME_STRING, "Finish the passage in the user voice",
      "task instruction, the first line (\"\": none)", PLUME_NO_RANGE },
    { "budget", PLUME_INT, "0", "longest prompt in budget_unit; 0: no limit", PLUME_AT_LEAST(0) },
    { "budget_unit", PLUME_STRING, "chars", "chars (code points) or tokens (of model's tokenizer)", PLUME_NO_RANGE },
    { "model", PLUME_STRING, "", "budget_unit tokens or chat: the model (an entry of models:) whose tokenizer "
                                 "counts and whose chat template writes the prompt", PLUME_NO_RANGE },
    { "context_last", PLUME_BOOL, "false", "put the \"passage start:\" line last, where a decoder-only "
                                           "generator continues it", PLUME_NO_RANGE },
    { "chat", PLUME_BOOL, "false", "write the prompt as a user's message in the model's chat template "
                                   "(Llama 3 or ChatML family; needs model; generate.lm chat: true)", PLUME_NO_RANGE },
    { "system", PLUME_STRING, "", "chat: a system message before the user's (\"\": none)", PLUME_NO_RANGE },
    { 0 },
};

/* ---- a growable string ---- */
typedef struct str { char *s; size_t n, cap; } str;

static int str_put(str *b, const char *s, size_t n) {
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (b->n + n + 1 > cap) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) return -1;
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
    return 0;
}
static int str_puts(str *b, const char *s) { return str_put(b, s, strlen(s)); }

static size_t u8_count(const char *s, size_t n) {
    size_t c = 0;
    for (size_t i = 0; i < n; i++) c += ((unsigned char)s[i] & 0xC0) != 0x80;
    return c;
}

/* Bytes of s holding its first k code points. */
static size_t u8_prefix(const char *s, size_t n, size_t k) {
    size_t i = 0, c = 0;
    while (i < n) {
        if (((unsigned char)s[i] & 0xC0) != 0x80) {
            if (c == k) break;
            c++;
        }
        i++;
    }
    return i;
}

static int is_ws(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

/* Cuts b's body to at most keep code points, at a word boundary when there is one. */
static void cut_words(str *b, size_t keep) {
    size_t at = u8_prefix(b->s, b->n, keep);
    if (at < b->n && !is_ws(b->s[at])) {   /* inside a word: back off to its start */
        size_t k = at;
        while (k > 0 && !is_ws(b->s[k - 1])) k--;
        if (k > 0) at = k;
    }
    while (at > 0 && is_ws(b->s[at - 1])) at--;
    b->n = at;
    if (b->s) b->s[at] = '\0';
}

/* One optional part: its prefix and body; chars() counts both plus the newline before it. */
typedef struct part { const char *prefix; str body; } part;

static size_t part_chars(const part *p) {
    return p->body.n ? 1 + u8_count(p->prefix, strlen(p->prefix)) + u8_count(p->body.s, p->body.n) : 0;
}

static int compose_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    compose_state *s = state;
    const char *unit = plume_args_string(args, "budget_unit");
    long long budget = plume_args_int(args, "budget");
    if (strcmp(unit, "chars") != 0 && strcmp(unit, "tokens") != 0)
        return plume_fail(err, "prompt.compose: budget_unit '%s' is not one of chars, tokens", unit);
    s->budget = (size_t)budget;
    s->context_last = plume_args_bool(args, "context_last");
    s->chat = plume_args_bool(args, "chat");
    bool tokens = !strcmp(unit, "tokens");
    s->budget_tokens = tokens;
    if (tokens || s->chat) {
        const char *model = plume_args_string(args, "model");
        const char *path = model[0] ? plume_host_model_path(host, model) : NULL;
        if (!path)
            return plume_fail(err, "prompt.compose: %s needs model: the name of an entry of the graph's models: "
                                   "whose %s (got '%s')", tokens ? "budget_unit tokens" : "chat: true",
                              tokens ? "tokenizer counts" : "chat template writes the prompt", model);
        if (!(s->lm = plume_lm_acquire(path, err))) return -1;
        /* a model without a template plume renders fails here, when the graph loads, not per record */
        if (s->chat && !plume_lm_chat_family(s->lm, err)) {
            plume_fail_prefix(err, "prompt.compose: chat: true: ");
            return -1;
        }
    }
    s->instruction = strdup(plume_args_string(args, "instruction"));
    const char *system = plume_args_string(args, "system");
    if (system[0] && !(s->system = strdup(system))) return plume_fail(err, "prompt.compose: out of memory");
    if (!s->instruction) return plume_fail(err, "prompt.compose: out of memory");
    return 0;
}

static void compose_destroy(void *state) {
    compose_state *s = state;
    free(s->instruction);
    s->instruction = NULL;
    free(s->system);
    s->system = NULL;
    plume_lm_release(s->lm);
    s->lm = NULL;
}

/* The prompt from its parts, in output order. -1 when out of memory. */
static int render(const compose_state *s, const str *head_ctx, const part *const parts[3], str *out) {
    out->n = 0;
    if (out->s) out->s[0] = '\0';
    if (s->instruction[0] && (str_puts(out, s->instruction) || str_puts(out, "\n"))) return -1;
    int first = 1;   /* no newline needed before the next line */
    if (!s->context_last) {
        if (str_puts(out, "passage start: ") || str_put(out, head_ctx->s, head_ctx->n)) return -1;
        first = 0;
    }
    for (int i = 0; i < 3; i++) {
        if (!parts[i]->body.n) continue;
        if ((!first && str_puts(out, "\n")) || str_puts(out, parts[i]->prefix) ||
            str_put(out, parts[i]->body.s, parts[i]->body.n))
            return -1;
        first = 0;
    }
    if (s->context_last &&
        ((!first && str_puts(out, "\n")) || str_puts(out, "passage start: ") || str_put(out, head_ctx->s, head_ctx->n)))
        return -1;
    return out->s ? 0 : str_put(out, "", 0);
}

/* chat: TEXT as the user's message in the model's template, malloc'd; NULL on error. */
static char *chat_wrap(const compose_state *s, const char *text, plume_error *err) {
    plume_chat_message m[2] = { { "system", s->system }, { "user", text } };
    int first = s->system ? 0 : 1;
    return plume_lm_chat_render(s->lm, m + first, 2 - first, 1, err);
}

/* Tokens of text as the generator will see it (its BOS, or its chat template, included);
 * SIZE_MAX on error. */
static size_t count_tokens(const compose_state *s, const char *text) {
    plume_error e;
    int n;
    if (s->chat) {
        char *wrapped = chat_wrap(s, text, &e);
        n = wrapped ? plume_lm_tokenize_special(s->lm, wrapped, 0, 1, NULL, 0, &e) : -1;
        free(wrapped);
    } else {
        n = plume_lm_tokenize(s->lm, text, -1, NULL, 0, &e);
    }
    return n < 0 ? (size_t)-1 : (size_t)n;
}

/* budget_unit tokens: cuts part p's body so the prompt loses about `over` tokens: the body's
 * tokens minus `over` are decoded and the body cut, at a word boundary, to that many characters.
 * Always shortens a non-empty body by at least one character, so the caller's loop ends. */
static int cut_tokens(const compose_state *s, part *p, size_t over) {
    plume_error e;
    int nb = plume_lm_tokenize(s->lm, p->body.s, 0, NULL, 0, &e);
    if (nb < 0) return -1;
    size_t before = u8_count(p->body.s, p->body.n), keep_chars = 0;
    if ((size_t)nb > over) {
        int32_t *t = malloc((size_t)nb * sizeof *t);
        if (!t) return -1;
        plume_lm_tokenize(s->lm, p->body.s, 0, t, nb, &e);
        char *kept = plume_lm_detokenize(s->lm, t, nb - (int)over, 0, &e);
        free(t);
        if (!kept) return -1;
        /* SentencePiece decodes the body's first word with the space it adds in front */
        const char *k = kept;
        if (*k == ' ' && p->body.n && p->body.s[0] != ' ') k++;
        keep_chars = u8_count(k, strlen(k));
        free(kept);
    }
    if (keep_chars >= before) keep_chars = before ? before - 1 : 0;
    if (keep_chars == 0) p->body.n = 0;
    else cut_words(&p->body, keep_chars);
    if (p->body.n == 0 && p->body.s) p->body.s[0] = '\0';
    return 0;
}

/* Builds one record's prompt into out. -1 when out of memory. */
static int compose_one(const compose_state *s, const plume_value *in[4], str *out) {
    part summary = { "summary: ", { 0 } }, words = { "important words: ", { 0 } },
         passages = { "past passages: ", { 0 } };
    size_t n_words = 0;
    int rc = -1;
    if (in[IN_SUMMARY]->type == PLUME_TEXT && str_put(&summary.body, in[IN_SUMMARY]->as.text.str, in[IN_SUMMARY]->as.text.len))
        goto done;
    if (in[IN_KEYWORDS]->type == PLUME_TERMS) n_words = in[IN_KEYWORDS]->as.terms.count;
    if (in[IN_ENTRIES]->type == PLUME_DOCS) {
        for (size_t i = 0; i < in[IN_ENTRIES]->as.docs.count; i++) {
            const plume_doc *d = &in[IN_ENTRIES]->as.docs.items[i];
            if (passages.body.n && str_puts(&passages.body, " | ")) goto done;
            if (d->title && d->title[0] && (str_puts(&passages.body, d->title) || str_puts(&passages.body, ": ")))
                goto done;
            if (str_puts(&passages.body, d->text ? d->text : "")) goto done;
        }
    }
    /* The context is fixed; the optional parts are cut until the rendered prompt fits. */
    str head = { 0 }, full = { 0 };
    const part *const parts[3] = { &summary, &words, &passages };
    if (str_put(&head, in[IN_CONTEXT]->as.text.str, in[IN_CONTEXT]->as.text.len)) goto head_fail;
    for (;;) {   /* important words, rendered from the first n_words terms */
        words.body.n = 0;
        for (size_t i = 0; i < n_words; i++)
            if ((i && str_puts(&words.body, ", ")) || str_puts(&words.body, in[IN_KEYWORDS]->as.terms.items[i].word))
                goto head_fail;
        if (!s->budget) break;
        size_t total;
        if (s->budget_tokens) {
            if (render(s, &head, parts, &full)) goto head_fail;
            if ((total = count_tokens(s, full.s)) == (size_t)-1) goto head_fail;
        } else {
            total = u8_count(s->instruction, strlen(s->instruction)) + (s->instruction[0] ? 1 : 0) +
                    u8_count("passage start: ", 15) + u8_count(head.s, head.n) + part_chars(&summary) +
                    part_chars(&words) + part_chars(&passages);
        }
        if (total <= s->budget) break;
        size_t over = total - s->budget;
        part *cut = passages.body.n ? &passages : summary.body.n ? &summary : NULL;
        if (cut) {
            if (s->budget_tokens) {
                if (cut_tokens(s, cut, over)) goto head_fail;
                continue;
            }
            size_t pc = part_chars(cut), fixed = pc - u8_count(cut->body.s, cut->body.n);
            if (pc <= over || pc - over <= fixed) cut->body.n = 0;   /* nothing of the body fits */
            else cut_words(&cut->body, pc - over - fixed);
            if (cut->body.n == 0 && cut->body.s) cut->body.s[0] = '\0';
            continue;
        }
        if (n_words == 0) break;   /* only the head is left: never cut */
        n_words--;
    }
    if (render(s, &head, parts, &full)) goto head_fail;
    if (s->chat) {
        plume_error e;
        char *wrapped = chat_wrap(s, full.s, &e);
        rc = !wrapped || str_puts(out, wrapped);
        free(wrapped);
    } else {
        rc = str_put(out, full.s, full.n);
    }
head_fail:
    free(head.s);
    free(full.s);
done:
    free(summary.body.s);
    free(words.body.s);
    free(passages.body.s);
    return rc;
}

static int compose_run(void *state, plume_batch *batch, plume_error *err) {
    const compose_state *s = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *in[4];
        for (size_t p = 0; p < 4; p++) in[p] = plume_batch_in(batch, r, p);
        static const plume_type want[4] = { PLUME_TEXT, PLUME_TEXT, PLUME_TERMS, PLUME_DOCS };
        size_t bad = 4;
        for (size_t p = 0; p < 4 && bad == 4; p++)
            if (in[p]->type != want[p] && !(p > 0 && in[p]->type == PLUME_NONE)) bad = p;
        if (bad < 4) {
            plume_batch_fail(batch, r, "prompt.compose: input '%s' must be %s, got %s", compose_inputs[bad].name,
                             plume_type_name(want[bad]), plume_type_name(in[bad]->type));
            continue;
        }
        str out = { 0 };
        if (compose_one(s, in, &out) || plume_value_set_text(plume_batch_out(batch, r, 0), out.s ? out.s : "", out.n))
            plume_batch_fail(batch, r, "prompt.compose: out of memory");
        free(out.s);
    }
    return 0;
}

const plume_stage prompt_compose = {
    "prompt.compose",
    "The generator's input as in Li et al. 2023: task instruction, then \"passage start:\", \"summary:\", "
    "\"important words:\" and \"past passages:\" parts, each optional but the context; a budget shortens "
    "past passages first, then the summary, then the words, never the context.",
    compose_inputs, compose_outputs, compose_params, sizeof(compose_state),
    compose_create, compose_run, compose_destroy,
};
