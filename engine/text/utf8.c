/* UTF-8 measuring and cleaning: the paper counts characters, and every text that
 * enters a corpus must be valid UTF-8, whatever bytes the source held. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>
#include "plume/text.h"

/* Bytes of the well-formed character at s (1 for a malformed byte). */
static size_t char_bytes(const char *s, size_t len, int *ok) {
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s, (utf8proc_ssize_t)len, &cp);
    if (n <= 0) {
        *ok = 0;
        return 1;
    }
    *ok = 1;
    return (size_t)n;
}

uint32_t plume_utf8_next(const char *s, size_t len, size_t *i) {
    if ((unsigned char)s[*i] < 0x80) return (unsigned char)s[(*i)++];
    utf8proc_int32_t cp;
    utf8proc_ssize_t n = utf8proc_iterate((const utf8proc_uint8_t *)s + *i, (utf8proc_ssize_t)(len - *i), &cp);
    if (n <= 0) {
        *i += 1;
        return 0xFFFD;
    }
    *i += (size_t)n;
    return (uint32_t)cp;
}

size_t plume_utf8_whole(const char *s, size_t len) {
    size_t cont = 0;   /* continuation bytes at the end */
    while (cont < len && cont < 3 && ((unsigned char)s[len - 1 - cont] & 0xC0) == 0x80) cont++;
    if (cont == len) return len;
    /* utf8proc's table: the bytes a sequence with this first byte takes (0 for no lead byte) */
    int bytes = utf8proc_utf8class[(unsigned char)s[len - 1 - cont]];
    return bytes > 1 && (size_t)bytes - 1 > cont ? len - 1 - cont : len;
}

size_t plume_utf8_length(const char *s, size_t len) {
    size_t n = 0, i = 0;
    int ok;
    while (i < len) {
        if ((unsigned char)s[i] < 0x80) i++;
        else i += char_bytes(s + i, len - i, &ok);
        n++;
    }
    return n;
}

size_t plume_utf8_prefix(const char *s, size_t len, size_t n) {
    size_t i = 0;
    int ok;
    while (i < len && n > 0) {
        if ((unsigned char)s[i] < 0x80) i++;
        else i += char_bytes(s + i, len - i, &ok);
        n--;
    }
    return i;
}

char *plume_utf8_clean(const char *s, size_t len, size_t *out_len, size_t *n_bad) {
    /* Worst case: every byte becomes U+FFFD (3 bytes). */
    if (len > (SIZE_MAX - 1) / 3) return NULL;
    char *out = malloc(len * 3 + 1);
    if (!out) return NULL;
    size_t o = 0, bad = 0, i = 0;
    while (i < len) {
        unsigned char c = (unsigned char)s[i];
        if (c < 0x80) {
            if (c == '\r') {
                out[o++] = '\n';
                i += (i + 1 < len && s[i + 1] == '\n') ? 2 : 1;
                continue;
            }
            if (c >= 0x20 || c == '\n' || c == '\t') out[o++] = (char)c;
            else if (c != 0x7f) {
                /* other C0 controls (NUL, form feed, ...) carry no text: dropped */
            }
            i++;
            continue;
        }
        int ok;
        size_t n = char_bytes(s + i, len - i, &ok);
        if (ok) {
            memcpy(out + o, s + i, n);
            o += n;
        } else {
            memcpy(out + o, "\xEF\xBF\xBD", 3);
            o += 3;
            bad++;
        }
        i += n;
    }
    out[o] = '\0';
    if (out_len) *out_len = o;
    if (n_bad) *n_bad = bad;
    return out;
}
