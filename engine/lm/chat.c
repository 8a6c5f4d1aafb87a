/* plume — the built-in chat template renderers (see chat.h for the two families). */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include "plume/chat.h"
#include "model.h"

/* ---- recognizing a template ---- */

const char *plume_chat_family_name(plume_chat_family f) {
    return f == PLUME_CHAT_LLAMA3 ? "llama3" : f == PLUME_CHAT_CHATML ? "chatml" : "none";
}

/* The Jinja string literal whose opening quote is at Q, unescaped into a malloc'd string. */
static char *string_literal(const char *q) {
    char quote = *q++;
    size_t n = 0;
    char *out = malloc(strlen(q) + 1);
    if (!out) return NULL;
    for (; *q && *q != quote; q++) {
        if (*q == '\\' && q[1]) {
            q++;
            out[n++] = *q == 'n' ? '\n' : *q == 't' ? '\t' : *q == 'r' ? '\r' : *q;
        } else {
            out[n++] = *q;
        }
    }
    out[n] = '\0';
    return out;
}

/* The default system message of a ChatML template: the last string literal that writes a whole
 * system turn, '<|im_start|>system\nTEXT<|im_end|>\n'. A literal that stops after "system\n"
 * (to be followed by the conversation's own system message) is not one. NULL when none. */
static char *chatml_default_system(const char *tmpl, bool *oom) {
    static const char open[] = "<|im_start|>system\n", close[] = "<|im_end|>";
    char *best = NULL;
    for (const char *p = strstr(tmpl, "<|im_start|>system"); p; p = strstr(p + 1, "<|im_start|>system")) {
        if (p == tmpl || (p[-1] != '\'' && p[-1] != '"')) continue;
        char *lit = string_literal(p - 1);
        if (!lit) {
            *oom = true;
            break;
        }
        char *end = strncmp(lit, open, sizeof open - 1) ? NULL : strstr(lit + sizeof open - 1, close);
        if (end && end > lit + sizeof open - 1) {
            *end = '\0';
            memmove(lit, lit + sizeof open - 1, strlen(lit + sizeof open - 1) + 1);
            free(best);
            best = lit;
        } else {
            free(lit);
        }
    }
    return best;
}

int plume_chat_template_parse(plume_chat_template *out, const char *tmpl, const char *where, plume_error *err) {
    memset(out, 0, sizeof *out);
    if (strstr(tmpl, "<|start_header_id|>") && strstr(tmpl, "<|end_header_id|>") && strstr(tmpl, "<|eot_id|>")) {
        out->family = PLUME_CHAT_LLAMA3;
        out->bos = strstr(tmpl, "bos_token") != NULL;
        out->assistant_always = strstr(tmpl, "add_generation_prompt") == NULL;
        out->knowledge_date = strstr(tmpl, "Cutting Knowledge Date") != NULL;
        out->date_today = strstr(tmpl, "strftime_now") != NULL;
        return 0;
    }
    if (strstr(tmpl, "<|im_start|>") && strstr(tmpl, "<|im_end|>")) {
        out->family = PLUME_CHAT_CHATML;
        bool oom = false;
        out->default_system = chatml_default_system(tmpl, &oom);
        if (oom) return plume_fail(err, "%s: out of memory reading tokenizer.chat_template", where);
        return 0;
    }
    size_t n = strcspn(tmpl, "\n");
    return plume_fail(err,
                      "%s: tokenizer.chat_template is not one plume renders (it has the Llama 3 family, "
                      "<|start_header_id|>...<|eot_id|>, and the ChatML family, <|im_start|>...<|im_end|>); "
                      "the template begins '%.*s'",
                      where, (int)(n > 80 ? 80 : n), tmpl);
}

void plume_chat_template_free(plume_chat_template *ct) {
    if (!ct) return;
    free(ct->default_system);
    ct->default_system = NULL;
}

/* ---- rendering ---- */

typedef struct buf {
    char *s;
    size_t n, cap;
    bool oom;
} buf;

static void put(buf *b, const char *s, size_t n) {
    if (b->oom) return;
    if (b->n + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 256;
        while (cap < b->n + n + 1) cap *= 2;
        char *p = realloc(b->s, cap);
        if (!p) {
            b->oom = true;
            return;
        }
        b->s = p;
        b->cap = cap;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = '\0';
}

static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static bool is_jinja_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f'; }

/* Jinja's trim: the content without the whitespace at either end. */
static void put_trimmed(buf *b, const char *s) {
    size_t n = strlen(s);
    while (n && is_jinja_space(s[n - 1])) n--;
    while (n && is_jinja_space(*s)) s++, n--;
    put(b, s, n);
}

static bool role_ok(const char *r) {
    if (!r || !*r) return false;
    for (; *r; r++)
        if (!((*r >= 'a' && *r <= 'z') || (*r >= 'A' && *r <= 'Z') || (*r >= '0' && *r <= '9') || *r == '_' || *r == '-'))
            return false;
    return true;
}

static void render_llama3(const plume_chat_template *ct, const char *bos_text, const plume_chat_message *m, size_t n,
                          bool gen, buf *b) {
    if (ct->bos && bos_text && (n || ct->knowledge_date)) puts_(b, bos_text);
    size_t first = 0;
    if (ct->knowledge_date) {
        /* Llama 3.1's template always opens with this system block; the conversation's own system
         * message, if it starts with one, goes at its end. */
        char date[32] = "26 Jul 2024";
        if (ct->date_today) {
            time_t now = time(NULL);
            struct tm tm;
            if (gmtime_r(&now, &tm)) strftime(date, sizeof date, "%d %b %Y", &tm);
        }
        puts_(b, "<|start_header_id|>system<|end_header_id|>\n\nCutting Knowledge Date: December 2023\nToday Date: ");
        puts_(b, date);
        puts_(b, "\n\n");
        if (n && !strcmp(m[0].role, "system")) {
            put_trimmed(b, m[0].content ? m[0].content : "");
            first = 1;
        }
        puts_(b, "<|eot_id|>");
    }
    for (size_t i = first; i < n; i++) {
        puts_(b, "<|start_header_id|>");
        puts_(b, m[i].role);
        puts_(b, "<|end_header_id|>\n\n");
        put_trimmed(b, m[i].content ? m[i].content : "");
        puts_(b, "<|eot_id|>");
    }
    if (gen || ct->assistant_always) puts_(b, "<|start_header_id|>assistant<|end_header_id|>\n\n");
}

static void render_chatml(const plume_chat_template *ct, const plume_chat_message *m, size_t n, bool gen, buf *b) {
    if (ct->default_system && (n == 0 || strcmp(m[0].role, "system"))) {
        puts_(b, "<|im_start|>system\n");
        puts_(b, ct->default_system);
        puts_(b, "<|im_end|>\n");
    }
    for (size_t i = 0; i < n; i++) {
        puts_(b, "<|im_start|>");
        puts_(b, m[i].role);
        puts_(b, "\n");
        puts_(b, m[i].content ? m[i].content : "");
        puts_(b, "<|im_end|>\n");
    }
    if (gen) puts_(b, "<|im_start|>assistant\n");
}

char *plume_chat_render(const plume_chat_template *ct, const char *bos_text, const plume_chat_message *msgs, size_t n,
                        bool add_generation_prompt, plume_error *err) {
    for (size_t i = 0; i < n; i++)
        if (!role_ok(msgs[i].role)) {
            plume_fail(err, "chat message %zu: the role '%s' is not a plain word (letters, digits, '_', '-')", i,
                       msgs[i].role ? msgs[i].role : "(none)");
            return NULL;
        }
    buf b = { 0 };
    if (ct->family == PLUME_CHAT_LLAMA3) render_llama3(ct, bos_text, msgs, n, add_generation_prompt, &b);
    else render_chatml(ct, msgs, n, add_generation_prompt, &b);
    if (!b.oom && !b.s) puts_(&b, "");
    if (b.oom) {
        free(b.s);
        plume_fail(err, "chat: out of memory rendering %zu messages", n);
        return NULL;
    }
    return b.s;
}

char *plume_tokenizer_chat_render(const plume_tokenizer *t, const char *where, const plume_chat_message *msgs, size_t n,
                                  bool add_generation_prompt, plume_error *err) {
    const char *tmpl = plume_tokenizer_chat_template(t);
    if (!tmpl) {
        plume_fail(err, "%s has no tokenizer.chat_template: it is not a chat model, or its file lacks the template", where);
        return NULL;
    }
    plume_chat_template ct;
    if (plume_chat_template_parse(&ct, tmpl, where, err)) return NULL;
    /* The markers must be single tokens, or the model would read them as plain text. */
    static const char *const llama3_marks[] = { "<|start_header_id|>", "<|end_header_id|>", "<|eot_id|>", NULL };
    static const char *const chatml_marks[] = { "<|im_start|>", "<|im_end|>", NULL };
    for (const char *const *mk = ct.family == PLUME_CHAT_LLAMA3 ? llama3_marks : chatml_marks; *mk; mk++) {
        int32_t id = plume_tokenizer_lookup(t, *mk);
        if (id < 0 || plume_tokenizer_token_type(t, id) == PLUME_TOKEN_NORMAL) {
            plume_fail(err, "%s: the %s chat template writes %s, which the vocabulary has not as a special token", where,
                       plume_chat_family_name(ct.family), *mk);
            plume_chat_template_free(&ct);
            return NULL;
        }
    }
    int32_t bos = plume_tokenizer_bos(t);
    char *out = plume_chat_render(&ct, bos >= 0 ? plume_tokenizer_token_text(t, bos) : NULL, msgs, n,
                                  add_generation_prompt, err);
    plume_chat_template_free(&ct);
    return out;
}

char *plume_lm_chat_render(plume_lm *lm, const plume_chat_message *msgs, int n, int add_generation_prompt,
                           plume_error *err) {
    if (!lm->tok) {
        lm_no_tokenizer(lm, err);
        return NULL;
    }
    if (n < 0) {
        plume_fail(err, "%s: a chat of %d messages", lm->path, n);
        return NULL;
    }
    return plume_tokenizer_chat_render(lm->tok, lm->path, msgs, (size_t)n, add_generation_prompt != 0, err);
}

const char *plume_lm_chat_family(plume_lm *lm, plume_error *err) {
    const char *tmpl = lm->tok ? plume_tokenizer_chat_template(lm->tok) : NULL;
    if (!tmpl) {
        plume_fail(err, "%s has no tokenizer.chat_template: it is not a chat model, or its file lacks the template", lm->path);
        return NULL;
    }
    plume_chat_template ct;
    if (plume_chat_template_parse(&ct, tmpl, lm->path, err)) return NULL;
    plume_chat_template_free(&ct);
    return plume_chat_family_name(ct.family);
}
