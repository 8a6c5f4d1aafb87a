/* plume — the pre-tokenizers of byte-level BPE vocabularies: how a text is cut into words
 * before each word's bytes are merged. A GGUF names its pre-tokenizer in tokenizer.ggml.pre.
 *
 *   gpt-2      's|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+
 *   llama-bpe  (?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}
 *              | ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+          (Llama 3)
 *   qwen2      llama-bpe's pattern with \p{N} one digit at a time               (Qwen 1.5 to 3)
 *   smollm     every \p{N} alone, then gpt-2's pattern on the text between     (SmolLM, SmolLM2)
 *
 * The patterns are matched by hand, alternative by alternative as a backtracking regex engine
 * would, over code points classed with utf8proc's Unicode general categories (\s is
 * White_Space). A byte that is not valid UTF-8 is a code point of its own, of class "other". */
#ifndef PLUME_LM_PRETOKENIZE_H
#define PLUME_LM_PRETOKENIZE_H

#include <stddef.h>
#include <stdint.h>
#include "plume/error.h"

typedef enum plume_pretok {
    PLUME_PRETOK_GPT2 = 0,
    PLUME_PRETOK_LLAMA3 = 1,
    PLUME_PRETOK_QWEN2 = 2,
    PLUME_PRETOK_SMOLLM = 3,
} plume_pretok;

/* The pre-tokenizer tokenizer.ggml.pre calls NAME: 0, or -1 when plume has none by that name. */
PLUME_API int plume_pretok_from_name(const char *name, plume_pretok *out);
/* The canonical tokenizer.ggml.pre name of KIND ("gpt-2", "llama-bpe", "qwen2", "smollm"). */
PLUME_API const char *plume_pretok_name(plume_pretok kind);
/* The accepted name closest to NAME (a likely typo), or NULL when none is close. */
PLUME_API const char *plume_pretok_closest(const char *name);
/* The names plume_pretok_from_name accepts, comma-separated, for error messages. */
PLUME_API const char *plume_pretok_known_names(void);

/* Cuts LEN bytes of TEXT into pre-tokens, calling EMIT with each one's bytes in order.
 * 0, or -1 with err set (out of memory, or EMIT failed). */
PLUME_API int plume_pretokenize(plume_pretok kind, const char *text, size_t len,
                                int (*emit)(void *user, const char *word, size_t n), void *user,
                                plume_error *err);

/* For tokenizer.c: the same over code points already decoded, EMIT(start, end) in code point
 * indices. cp[i] < 0 marks an invalid byte. 0, or the first non-zero EMIT result. */
typedef int (*pretok_span_fn)(void *ctx, size_t start, size_t end);
int pretok_split(plume_pretok kind, const int32_t *cp, size_t n, pretok_span_fn emit, void *ctx);

/* Decodes LEN bytes of TEXT into *cp (code points, -1 for an invalid byte) and *off (the byte
 * offset of each, off[n] = LEN), both malloc'd. The count, or (size_t)-1 when out of memory. */
size_t pretok_decode(const char *text, size_t len, int32_t **cp, size_t **off);

#endif
