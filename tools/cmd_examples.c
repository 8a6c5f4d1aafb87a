/* plume examples: training examples for the generator, from a pipeline run over the train split.
 *
 *   plume examples RESULTS.jsonl --requests TRAIN.jsonl -o OUT.jsonl [--ratio R] [--seed S]
 *                  [--passage-chars N] [--holdout REQUESTS.jsonl]...
 *
 * The generation examples come from `plume run`'s result lines (a graph that stops at
 * prompt.compose and outputs prompt, context and target), so the prompts the model learns from
 * are the ones it sees at inference. The target is what a decoder-only model writes after its
 * prompt: the request's target (the whole document, whose start is the immediate context) minus
 * that context, which is how generate.lm uses it (it prepends the context to the continuation).
 *
 * With --pair PROMPT=TARGET (repeatable), each result line gives instead one example per pair:
 * slot PROMPT as the prompt and slot TARGET as the target, a text as it is or a list of terms as
 * their words joined by ", ". That turns a run of the model-based aids (summarize.ctx and
 * synthesize.ctx output their exact `prompt`) with their weak labels (summarize.weak_labels,
 * synthesize.weak_labels) into SumCtx and SynCtx training examples (graphs/train-data-aids.yaml).
 *
 * The author-distinction examples (the paper's multitask AuthorPred) pair two passages of the
 * training requests' users (their profile documents and targets): half from one author (answer
 * <|same_author|>), half from two (<|other_author|>); each answer is a control token the tokenizer
 * must carry (plume bpe --control), written as {"prompt", "target_token"}. Their count is round(R x generation examples), made even so the halves
 * are exact. Users of --holdout request files (validation, test) are never drawn. The draws come
 * from a seeded generator, so one seed gives the same file. Generation examples are written first,
 * in input order, then the author examples; the trainer shuffles. */
#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <jansson.h>
#include "plume/read_line.h"
#include "cli.h"
#include "commands.h"
#include "splitmix64.h"

#define EX_MAX_DOCS 10000000u
#define EX_MAX_USERS 1000000u
#define EX_MAX_HOLDOUT 64
#define EX_MAX_PAIRS 16

static const char AUTHOR_INSTRUCTION[] = "Predict whether two passages are from the same author";
/* The author task's answers: control tokens (plume bpe --control) named by "target_token". */
static const char AUTHOR_SAME[] = "<|same_author|>", AUTHOR_OTHER[] = "<|other_author|>";

static void usage(FILE *f) {
    fprintf(f, "usage: plume examples RESULTS.jsonl --requests TRAIN.jsonl -o OUT.jsonl [options]\n"
               "  RESULTS.jsonl        result lines of plume run with prompt, context and target\n"
               "  --requests FILE      the requests run (their users' documents make the author pairs)\n"
               "  -o FILE              the examples to write, {\"prompt\",\"target\"} per line\n"
               "  --ratio R            author-distinction examples per generation example (default 1; 0: none)\n"
               "  --seed S             the pairs' random draws (default 1)\n"
               "  --passage-chars N    each passage cut to N characters at a word boundary (default 300)\n"
               "  --holdout FILE       requests whose users must never be drawn (repeatable: val, test)\n"
               "  --pair P=T           instead of prompt/context/target, slot P as the prompt and slot T\n"
               "                       (a text, or terms joined by \", \") as the target (repeatable)\n"
               "  --text-chars N       also every document of the --requests users as plain text (empty\n"
               "                       prompt, the loss on every token), in pieces of at most N characters:\n"
               "                       language-model pretraining data; RESULTS.jsonl may then be left out\n");
}

/* ---- reading JSON Lines: each line an object, errors as FILE:LINE ---- */
typedef struct jsonl {
    plume_line_reader r;
    const char *path;
    long line;
} jsonl;

static int jsonl_open(jsonl *j, const char *path) {
    memset(j, 0, sizeof *j);
    j->path = path;
    plume_error err;
    if (plume_line_open(&j->r, path, PLUME_LINE_MAX, &err)) {
        fprintf(stderr, "plume examples: %s\n", err.msg);
        return -1;
    }
    return 0;
}
static void jsonl_close(jsonl *j) {
    plume_line_close(&j->r);
}
/* The next non-blank line as an object: 1, 0 at the end, -1 on an error (printed). */
static int jsonl_next(jsonl *j, json_t **out) {
    for (;;) {
        char *text;
        size_t n;
        plume_error err;
        int got = plume_line_next(&j->r, &text, &n, &err);
        j->line = (long)j->r.line_no;
        if (got < 0) {
            fprintf(stderr, "plume examples: %s\n", err.msg);
            return -1;
        }
        if (got == 0) return 0;
        if (plume_line_is_blank(text, n)) continue;
        json_error_t e;
        json_t *v = json_loadb(text, n, JSON_REJECT_DUPLICATES, &e);
        if (!v) {
            fprintf(stderr, "plume examples: %s:%ld:%d: not valid JSON: %s\n", j->path, j->line, e.column, e.text);
            return -1;
        }
        if (!json_is_object(v)) {
            fprintf(stderr, "plume examples: %s:%ld: expected a JSON object\n", j->path, j->line);
            json_decref(v);
            return -1;
        }
        *out = v;
        return 1;
    }
}

static const char *get_text(jsonl *j, json_t *o, const char *field, const char *hint) {
    json_t *v = json_object_get(o, field);
    if (!json_is_string(v)) {
        fprintf(stderr, "plume examples: %s:%ld: field \"%s\" is %s (hint: %s)\n", j->path, j->line, field,
                v ? "not a string" : "missing", hint);
        return NULL;
    }
    return json_string_value(v);
}

/* ---- the author pools ---- */
typedef struct passage { char *id; char *text; } passage;
typedef struct user { char *name; passage *docs; size_t n, cap; } user;
typedef struct pools { user *u; size_t n, cap; size_t total; } pools;

static void free_pools(pools *p) {
    for (size_t i = 0; i < p->n; i++) {
        for (size_t k = 0; k < p->u[i].n; k++) {
            free(p->u[i].docs[k].id);
            free(p->u[i].docs[k].text);
        }
        free(p->u[i].docs);
        free(p->u[i].name);
    }
    free(p->u);
}

static user *find_user(pools *p, const char *name, int create) {
    for (size_t i = 0; i < p->n; i++)
        if (!strcmp(p->u[i].name, name)) return &p->u[i];
    if (!create) return NULL;
    if (p->n == p->cap) {
        size_t cap = p->cap ? p->cap * 2 : 16;
        user *u = cap <= EX_MAX_USERS ? realloc(p->u, cap * sizeof *u) : NULL;
        if (!u) return NULL;
        p->u = u;
        p->cap = cap;
    }
    user *u = &p->u[p->n];
    memset(u, 0, sizeof *u);
    if (!(u->name = strdup(name))) return NULL;
    p->n++;
    return u;
}

/* A document id as text (ids may be strings or integers); NULL if neither. */
static char *id_text(json_t *v) {
    char tmp[32];
    if (json_is_string(v)) return strdup(json_string_value(v));
    if (json_is_integer(v)) {
        snprintf(tmp, sizeof tmp, "%lld", (long long)json_integer_value(v));
        return strdup(tmp);
    }
    return NULL;
}

/* Adds a document to the user's pool unless its id is there already (a user's profile repeats
 * across their requests). Returns 0, or -1 out of memory / over the cap. */
static int add_doc(pools *p, user *u, json_t *idv, const char *text) {
    char *id = id_text(idv);
    if (!id) return 1;   /* no usable id: skipped by the caller's check */
    for (size_t k = 0; k < u->n; k++)
        if (!strcmp(u->docs[k].id, id)) {
            free(id);
            return 0;
        }
    if (!text[0]) {
        free(id);
        return 0;
    }
    if (u->n == u->cap) {
        size_t cap = u->cap ? u->cap * 2 : 8;
        passage *d = p->total < EX_MAX_DOCS ? realloc(u->docs, cap * sizeof *d) : NULL;
        if (!d) {
            free(id);
            return -1;
        }
        u->docs = d;
        u->cap = cap;
    }
    if (!(u->docs[u->n].text = strdup(text))) {
        free(id);
        return -1;
    }
    u->docs[u->n++].id = id;
    p->total++;
    return 0;
}

/* Users of a request file, into `held` (names only). */
static int read_holdout(const char *path, pools *held) {
    jsonl j;
    if (jsonl_open(&j, path)) return -1;
    json_t *o;
    int r;
    while ((r = jsonl_next(&j, &o)) == 1) {
        const char *name = get_text(&j, o, "user", "a holdout request needs its user");
        if (!name || !find_user(held, name, 1)) {
            if (name) fprintf(stderr, "plume examples: %s:%ld: out of memory\n", path, j.line);
            json_decref(o);
            r = -1;
            break;
        }
        json_decref(o);
    }
    jsonl_close(&j);
    return r < 0 ? -1 : 0;
}

static int read_pools(const char *path, const pools *held, pools *p) {
    jsonl j;
    if (jsonl_open(&j, path)) return -1;
    json_t *o;
    int r;
    while ((r = jsonl_next(&j, &o)) == 1) {
        const char *name = get_text(&j, o, "user", "the author pairs need each request's user");
        r = name ? 0 : -1;
        if (name && find_user((pools *)held, name, 0)) {   /* a held-out user: never drawn */
            json_decref(o);
            continue;
        }
        user *u = name ? find_user(p, name, 1) : NULL;
        if (name && !u) {
            fprintf(stderr, "plume examples: %s:%ld: out of memory or more than %u users\n", path, j.line,
                    EX_MAX_USERS);
            r = -1;
        }
        json_t *prof = u ? json_object_get(o, "profile") : NULL;
        if (u && prof && !json_is_array(prof)) {
            fprintf(stderr, "plume examples: %s:%ld: \"profile\" is not a list\n", path, j.line);
            r = -1;
        }
        size_t i;
        json_t *d;
        if (u && r == 0) json_array_foreach(prof, i, d) {
            /* a profile document as the dataset writes a target: its title, a newline, its text */
            json_t *t = json_object_get(d, "text"), *ti = json_object_get(d, "title");
            const char *title = json_is_string(ti) ? json_string_value(ti) : "";
            char *doc = NULL;
            int a = 1;
            if (json_is_string(t)) {
                size_t len = strlen(title) + strlen(json_string_value(t)) + 2;
                a = (doc = malloc(len)) ? 0 : -1;
                if (doc) snprintf(doc, len, "%s%s%s", title, title[0] ? "\n" : "", json_string_value(t));
            }
            if (a == 0) a = add_doc(p, u, json_object_get(d, "id"), doc);
            free(doc);
            if (a) {
                fprintf(stderr, "plume examples: %s:%ld: profile document %zu: %s\n", path, j.line, i + 1,
                        a > 0 ? "needs a string or integer id and a text" : "out of memory");
                r = -1;
                break;
            }
        }
        json_t *tg = json_object_get(o, "target");
        if (u && r == 0 && json_is_string(tg)) {
            int a = add_doc(p, u, json_object_get(o, "id"), json_string_value(tg));
            if (a) {
                fprintf(stderr, "plume examples: %s:%ld: %s\n", path, j.line,
                        a > 0 ? "the request needs a string or integer id" : "out of memory");
                r = -1;
            }
        }
        json_decref(o);
        if (r) break;
    }
    jsonl_close(&j);
    return r < 0 ? -1 : 0;
}

/* The bytes of s's first `max` code points, ended at the last white space if there is one in
 * the second half (a word is not cut in two). */
static size_t passage_end(const char *s, size_t max) {
    size_t n = 0, cps = 0;
    while (s[n] && cps < max) {
        n++;
        while (((unsigned char)s[n] & 0xC0) == 0x80) n++;   /* the rest of a UTF-8 sequence */
        cps++;
    }
    if (s[n]) {   /* cut: go back to a word boundary */
        size_t k = n;
        while (k > n / 2 && !strchr(" \t\r\n", s[k])) k--;
        if (k > n / 2) n = k;
    }
    return n;
}

/* The first n bytes of s, trailing white space dropped. Returns a new string. */
static char *copy_trimmed(const char *s, size_t n) {
    while (n > 0 && strchr(" \t\r\n", s[n - 1])) n--;
    char *out = malloc(n + 1);
    if (!out) return NULL;
    memcpy(out, s, n);
    out[n] = 0;
    return out;
}

/* s cut by passage_end, trailing white space dropped. Returns a new string. */
static char *cut_passage(const char *s, size_t max) {
    return copy_trimmed(s, passage_end(s, max));
}

/* A result slot as a training target: a text as it is, a list of terms as their words joined by
 * ", " (the form synthesize.ctx parses back). NULL with a message naming FILE:LINE otherwise. */
static char *slot_text(jsonl *j, json_t *o, const char *slot) {
    json_t *v = json_object_get(o, slot);
    if (json_is_string(v)) return strdup(json_string_value(v));
    if (!json_is_array(v)) {
        fprintf(stderr, "plume examples: %s:%ld: slot \"%s\" is %s (hint: list it under the graph's output:)\n",
                j->path, j->line, slot, v ? "neither a text nor a list of terms" : "missing");
        return NULL;
    }
    size_t n = 1, i;
    json_t *t;
    json_array_foreach(v, i, t) {
        json_t *w = json_is_object(t) ? json_object_get(t, "word") : t;
        if (!json_is_string(w)) {
            fprintf(stderr, "plume examples: %s:%ld: slot \"%s\": item %zu is not a term\n", j->path, j->line, slot,
                    i + 1);
            return NULL;
        }
        n += json_string_length(w) + 2;
    }
    char *out = malloc(n), *at = out;
    if (!out) return NULL;
    *at = 0;
    json_array_foreach(v, i, t) {
        json_t *w = json_is_object(t) ? json_object_get(t, "word") : t;
        at += sprintf(at, "%s%s", i ? ", " : "", json_string_value(w));
    }
    return out;
}

/* One example; target_key "target" (text) or "target_token" (a control token's name). */
static int write_example_as(FILE *f, const char *prompt, const char *target_key, const char *target) {
    json_t *o = json_pack("{s:s, s:s}", "prompt", prompt, target_key, target);
    if (!o) return -1;
    char *s = json_dumps(o, JSON_COMPACT | JSON_PRESERVE_ORDER | JSON_ENSURE_ASCII);
    json_decref(o);
    if (!s) return -1;
    int bad = fputs(s, f) < 0 || fputc('\n', f) < 0;
    free(s);
    return bad ? -1 : 0;
}

static int write_example(FILE *f, const char *prompt, const char *target) {
    return write_example_as(f, prompt, "target", target);
}

/* A document as plain-text examples (empty prompt: the loss on every token) of at most `chars`
 * code points each, cut at white space. Returns the count written, or -1 on a write error. */
static long write_text(FILE *f, const char *doc, size_t chars) {
    long n = 0;
    while (*doc) {
        while (*doc && strchr(" \t\r\n", *doc)) doc++;
        if (!*doc) break;
        size_t len = passage_end(doc, chars);
        char *piece = copy_trimmed(doc, len);
        if (!piece || write_example(f, "", piece)) {
            free(piece);
            return -1;
        }
        free(piece);
        doc += len;
        n++;
    }
    return n;
}

/* One author pair: two passages cut to `chars`, in the prompt the paper's instruction starts. The
 * answer is a control token of its own (AUTHOR_SAME / AUTHOR_OTHER), not a word: a task whose
 * answer is "true" or "false" taught the generator to write those words on a line of their own
 * in emails, while a control token is an id that no text tokenizes to and that decoding never
 * shows, so the two tasks cannot bleed into each other's text. */
static int write_pair(FILE *f, const passage *a, const passage *b, size_t chars, int same) {
    char *x = cut_passage(a->text, chars), *y = cut_passage(b->text, chars);
    int r = -1;
    if (x && y) {
        size_t len = strlen(AUTHOR_INSTRUCTION) + strlen(x) + strlen(y) + 64;
        char *prompt = malloc(len);
        if (prompt) {
            snprintf(prompt, len, "%s\npassage 1: %s\npassage 2: %s\nsame author: ", AUTHOR_INSTRUCTION, x, y);
            r = write_example_as(f, prompt, "target_token", same ? AUTHOR_SAME : AUTHOR_OTHER);
            free(prompt);
        }
    }
    free(x);
    free(y);
    return r;
}

/* OPTION's value: an integer in lo..1000000. Returns 0, or -1 after saying what is wrong. */
static int parse_count(const char *option, const char *s, long lo, long *out) {
    char *end;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end || end == s || errno || v < lo || v > 1000000) {
        fprintf(stderr, "plume examples: %s wants %ld..1000000, got '%s'\n", option, lo, s);
        return -1;
    }
    *out = v;
    return 0;
}

int cmd_examples(int argc, char **argv) {
    const char *results = NULL, *requests = NULL, *out = NULL;
    const char *holdout[EX_MAX_HOLDOUT];
    int n_holdout = 0;
    double ratio = 1.0;
    unsigned long long seed = 1;
    long chars = 300, text_chars = 0;
    const char *pair_prompt[EX_MAX_PAIRS], *pair_target[EX_MAX_PAIRS];
    int n_pairs_opt = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        char *end;
        int has = i + 1 < argc;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        } else if (!strcmp(a, "--requests") && has) {
            requests = argv[++i];
        } else if (!strcmp(a, "-o") && has) {
            out = argv[++i];
        } else if (!strcmp(a, "--holdout") && has) {
            if (n_holdout == EX_MAX_HOLDOUT) {
                fprintf(stderr, "plume examples: at most %d --holdout files\n", EX_MAX_HOLDOUT);
                return 2;
            }
            holdout[n_holdout++] = argv[++i];
        } else if (!strcmp(a, "--ratio") && has) {
            errno = 0;
            ratio = strtod(argv[++i], &end);
            if (*end || errno || !(ratio >= 0 && ratio <= 100)) {
                fprintf(stderr, "plume examples: --ratio wants a number 0..100, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--seed") && has) {
            errno = 0;
            seed = strtoull(argv[++i], &end, 10);
            if (*end || errno || argv[i][0] == '-') {
                fprintf(stderr, "plume examples: --seed wants a non-negative integer, got '%s'\n", argv[i]);
                return 2;
            }
        } else if (!strcmp(a, "--passage-chars") && has) {
            if (parse_count(a, argv[++i], 1, &chars)) return 2;
        } else if (!strcmp(a, "--pair") && has) {
            char *v = argv[++i], *eq = strchr(v, '=');
            if (!eq || eq == v || !eq[1] || n_pairs_opt == EX_MAX_PAIRS) {
                fprintf(stderr, "plume examples: --pair wants PROMPT_SLOT=TARGET_SLOT (at most %d), got '%s'\n",
                        EX_MAX_PAIRS, v);
                return 2;
            }
            *eq = '\0';   /* argv's strings are ours to write: the two slot names */
            pair_prompt[n_pairs_opt] = v;
            pair_target[n_pairs_opt++] = eq + 1;
        } else if (!strcmp(a, "--text-chars") && has) {
            if (parse_count(a, argv[++i], 16, &text_chars)) return 2;
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "plume examples: unknown option or missing value '%s'\n", a);
            usage(stderr);
            return 2;
        } else if (!results) {
            results = a;
        } else {
            fprintf(stderr, "plume examples: one results file, got '%s' too\n", a);
            return 2;
        }
    }
    if ((!results && !text_chars) || !out || ((ratio > 0 || text_chars) && !requests)) {
        fprintf(stderr, "plume examples: %s\n",
                !results && !text_chars ? "a results file is required (or --text-chars)"
                : !out                  ? "-o OUT.jsonl is required"
                                        : "--requests is required for author pairs and --text-chars (or --ratio 0)");
        usage(stderr);
        return 2;
    }

    pools held = { 0 }, p = { 0 };
    FILE *f = NULL;
    int rc = 1;
    for (int h = 0; h < n_holdout; h++)
        if (read_holdout(holdout[h], &held)) goto done;
    if ((ratio > 0 || text_chars) && read_pools(requests, &held, &p)) goto done;

    /* written whole or not at all: a failed or killed run leaves the old OUT, or none */
    plume_output_file out_file;
    const char *tmp = out;   /* the name errors give */
    if (!(f = cli_output_open(&out_file, "plume examples", out))) goto done;

    /* generation examples, in input order */
    jsonl j;
    long n_gen = 0, n_text = 0;
    json_t *o;
    int r = 0;
    if (results && jsonl_open(&j, results)) goto fail;
    while (results && (r = jsonl_next(&j, &o)) == 1) {
        json_t *e = json_object_get(o, "error");
        if (e) {
            fprintf(stderr, "plume examples: %s:%ld: the record failed in the run: %s\n", results, j.line,
                    json_is_string(e) ? json_string_value(e) : "(no message)");
            r = -1;
        }
        if (r == 1 && n_pairs_opt) {   /* --pair: one example per pair, nothing else from the line */
            for (int k = 0; r == 1 && k < n_pairs_opt; k++) {
                char *pr = slot_text(&j, o, pair_prompt[k]), *tg = pr ? slot_text(&j, o, pair_target[k]) : NULL;
                if (!tg) r = -1;
                else if (tg[0] && pr[0]) {   /* an empty label teaches nothing: skipped */
                    if (write_example(f, pr, tg)) {
                        fprintf(stderr, "plume examples: %s: write error\n", tmp);
                        r = -1;
                    }
                    n_gen++;
                }
                free(pr);
                free(tg);
            }
            json_decref(o);
            if (r < 0) break;
            continue;
        }
        const char *hint = "the graph's output: must list prompt, context and target";
        const char *prompt = r == 1 ? get_text(&j, o, "prompt", hint) : NULL;
        const char *ctx = prompt ? get_text(&j, o, "context", hint) : NULL;
        const char *target = ctx ? get_text(&j, o, "target", hint) : NULL;
        if (!target) r = -1;
        if (r == 1) {
            /* what follows the context in the document; a target that does not start with its
             * context is learnt whole */
            size_t cl = strlen(ctx);
            const char *cont = strncmp(target, ctx, cl) ? target : target + cl;
            if (!cont[0]) {   /* nothing to learn after the context: skipped */
                json_decref(o);
                continue;
            }
            if (write_example(f, prompt, cont)) {
                fprintf(stderr, "plume examples: %s: write error\n", tmp);
                r = -1;
            }
            n_gen++;
        }
        json_decref(o);
        if (r < 0) break;
    }
    if (results) jsonl_close(&j);
    if (r < 0) goto fail;

    /* plain text: every pooled document (train users only, each once), users in input order */
    for (size_t u = 0; text_chars && u < p.n; u++)
        for (size_t k = 0; k < p.u[u].n; k++) {
            long w = write_text(f, p.u[u].docs[k].text, (size_t)text_chars);
            if (w < 0) {
                fprintf(stderr, "plume examples: %s: write error or out of memory\n", tmp);
                goto fail;
            }
            n_text += w;
        }

    /* author pairs: an even count, exactly half from one author */
    long n_pairs = 2 * (long)llround(ratio * (double)n_gen / 2.0);
    size_t n_multi = 0;
    for (size_t u = 0; u < p.n; u++) n_multi += p.u[u].n >= 2;
    if (n_pairs > 0 && (n_multi == 0 || p.n < 2)) {
        fprintf(stderr, "plume examples: %s: author pairs need a user with two documents and two users "
                        "(found %zu users, %zu with two documents or more)\n", requests, p.n, n_multi);
        goto fail;
    }
    uint64_t s = seed;
    for (long k = 0; k < n_pairs; k++) {
        int same = k % 2 == 0;   /* alternating: exactly half each */
        const passage *a, *b;
        if (same) {
            size_t pick = (size_t)splitmix64_below(&s, n_multi), u = 0;
            for (;; u++)
                if (p.u[u].n >= 2 && pick-- == 0) break;
            size_t x = (size_t)splitmix64_below(&s, p.u[u].n), y = (size_t)splitmix64_below(&s, p.u[u].n - 1);
            if (y >= x) y++;
            a = &p.u[u].docs[x];
            b = &p.u[u].docs[y];
        } else {
            size_t u = (size_t)splitmix64_below(&s, p.n), v = (size_t)splitmix64_below(&s, p.n - 1);
            if (v >= u) v++;
            a = &p.u[u].docs[splitmix64_below(&s, p.u[u].n)];
            b = &p.u[v].docs[splitmix64_below(&s, p.u[v].n)];
        }
        if (write_pair(f, a, b, (size_t)chars, same)) {
            fprintf(stderr, "plume examples: %s: write error or out of memory\n", tmp);
            goto fail;
        }
    }
    f = NULL;
    if (cli_output_close(&out_file, "plume examples", 1)) goto done;
    fprintf(stderr, "plume examples: %s: %ld %s examples, %ld author pairs (%ld same, %ld different)%s", out, n_gen,
            n_pairs_opt ? "--pair" : "generation", n_pairs, n_pairs / 2, n_pairs / 2, text_chars ? ", " : "");
    if (text_chars) fprintf(stderr, "%ld plain-text pieces", n_text);
    fprintf(stderr, " from %zu users\n", p.n);
    rc = 0;
fail:
    if (f) cli_output_close(&out_file, "plume examples", 0);
done:
    free_pools(&p);
    free_pools(&held);
    return rc;
}
