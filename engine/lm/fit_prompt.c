/* Fitting a prompt to the model's context: a fixed head and tail around a body (retrieved
 * passages, say) that is cut, at a word boundary, to what the tokens allow. */
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r'; }

static int continues_character(char c) { return ((unsigned char)c & 0xC0) == 0x80; }

/* head + body[0..keep) + tail as one malloc'd string; NULL when out of memory. */
static char *assemble(const char *head, const char *body, size_t keep, const char *tail) {
    size_t hl = strlen(head), tl = strlen(tail);
    char *s = malloc(hl + keep + tl + 1);
    if (!s) return NULL;
    memcpy(s, head, hl);
    memcpy(s + hl, body, keep);
    memcpy(s + hl + keep, tail, tl + 1);
    return s;
}

char *plume_lm_fit_prompt(plume_lm *lm, const char *head, const char *body, size_t body_len, const char *tail,
                          int max_tokens, int add_bos, int parse_special, plume_error *err) {
    /* the longest prefix of the body that fits: tokens grow with the prefix, so a binary search
     * over its length in bytes finds it in a few tokenizations */
    size_t lo = 0, hi = body_len;
    while (lo < hi) {
        size_t mid = lo + (hi - lo + 1) / 2;
        while (mid > lo && mid < body_len && continues_character(body[mid])) mid--;   /* whole characters */
        if (mid == lo) {
            /* no character boundary above lo: step over the character at lo instead */
            mid = lo + 1;
            while (mid < hi && continues_character(body[mid])) mid++;
        }
        char *p = assemble(head, body, mid, tail);
        if (!p) return plume_fail(err, "out of memory"), NULL;
        int nt = plume_lm_tokenize_special(lm, p, add_bos, parse_special, NULL, 0, err);
        free(p);
        if (nt < 0) return NULL;
        if (nt <= max_tokens) lo = mid;
        else hi = mid - 1;
    }
    size_t keep = lo;
    if (keep < body_len) {   /* cut inside the body: back off to a word boundary */
        while (keep > 0 && !is_space(body[keep])) keep--;
        while (keep > 0 && is_space(body[keep - 1])) keep--;
    }
    char *out = assemble(head, body, keep, tail);
    if (!out) plume_fail(err, "out of memory");
    return out;
}
