/* The 256 byte tokens that open a test's byte-level (GPT-2 style) vocabulary. */
#ifndef PLUME_TEST_BYTE_TOKENS_H
#define PLUME_TEST_BYTE_TOKENS_H
#include <stdint.h>
#include "plume/tokenizer.h"

/* Fills tok[0..256) with the text of each byte's token: the UTF-8 of the code point that
 * plume_gpt2_byte_map gives the byte (one or two bytes, as every mapped code point is below
 * U+0800). The strings live in static storage, so they outlive the call. */
static inline void byte_level_tokens(const char *tok[256]) {
    static char bytes[256][4];
    uint32_t map[256];
    plume_gpt2_byte_map(map);
    for (int b = 0; b < 256; b++) {
        uint32_t cp = map[b];
        int k = cp < 0x80 ? (bytes[b][0] = (char)cp, 1)
                          : (bytes[b][0] = (char)(0xC0 | (cp >> 6)), bytes[b][1] = (char)(0x80 | (cp & 63)), 2);
        bytes[b][k] = '\0';
        tok[b] = bytes[b];
    }
}
#endif
