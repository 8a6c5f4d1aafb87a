/* The continuation of a document: the text after the request's immediate context. */
#include "plume/eval.h"

static int is_space(char c) { return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '\v'; }

size_t plume_continuation_start(const char *text, size_t len, const char *context, size_t ctx_len, int *found) {
    size_t i = 0, j = 0;
    while (j < ctx_len && i < len && text[i] == context[j]) i++, j++;
    if (j < ctx_len) {   /* not a byte prefix: compare again with white space runs as equal */
        i = j = 0;
        while (i < len && is_space(text[i])) i++;
        while (j < ctx_len && is_space(context[j])) j++;
        while (j < ctx_len && i < len) {
            if (is_space(text[i]) && is_space(context[j])) {
                while (i < len && is_space(text[i])) i++;
                while (j < ctx_len && is_space(context[j])) j++;
            } else if (text[i] == context[j]) {
                i++, j++;
            } else {
                break;
            }
        }
        while (j < ctx_len && is_space(context[j])) j++;   /* trailing white space of the context */
    }
    if (found) *found = j == ctx_len;
    return j == ctx_len ? i : 0;
}
