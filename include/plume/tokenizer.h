/* plume — tokenizers built from a GGUF file's tokenizer.ggml.* metadata.
 *
 * Two kinds, as tokenizer.ggml.model names them:
 *   "llama": SentencePiece-style BPE over scores (llama.cpp's SPM). The text gets a dummy-prefix
 *            space (tokenizer.ggml.add_space_prefix, default true), spaces become U+2581 '▁',
 *            the text is split into UTF-8 characters, and the adjacent pair whose concatenation
 *            is the token with the highest score is merged (the leftmost on ties) until none
 *            merges; a character with no token becomes its bytes' <0xXX> tokens.
 *   "gpt2":  byte-level BPE: the text is cut into words by the pre-tokenizer that
 *            tokenizer.ggml.pre names (pretokenize.h: gpt-2, llama-bpe, qwen2, smollm; any
 *            other is refused rather than tokenized wrongly), each word's bytes mapped to
 *            printable code points, then tokenizer.ggml.merges applied by rank (lowest
 *            first, leftmost on ties). llama-bpe takes a word that is a whole token as it is
 *            (ignore_merges); qwen2 normalizes the text to NFC first, as Qwen's tokenizer does.
 * Special tokens: user-defined ones (token type 4) are always matched whole in the text;
 * control and unknown ones ("<|im_start|>", "<s>") only with PLUME_TOKENIZE_PARSE_SPECIAL,
 * otherwise "<s>" is three characters. The longest token matching at a place wins; the text
 * between them is tokenized as usual (SentencePiece adds its dummy-prefix space after each). */
#ifndef PLUME_LM_TOKENIZER_H
#define PLUME_LM_TOKENIZER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include "plume/error.h"
#include "plume/gguf.h"
#include "plume/pretokenize.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef enum plume_tok_kind { PLUME_TOK_SPM = 1, PLUME_TOK_GPT2 = 2 } plume_tok_kind;

/* tokenizer.ggml.token_type values. */
typedef enum plume_token_type {
    PLUME_TOKEN_UNDEFINED = 0, PLUME_TOKEN_NORMAL = 1, PLUME_TOKEN_UNKNOWN = 2,
    PLUME_TOKEN_CONTROL = 3, PLUME_TOKEN_USER_DEFINED = 4, PLUME_TOKEN_UNUSED = 5,
    PLUME_TOKEN_BYTE = 6
} plume_token_type;

typedef struct plume_tokenizer plume_tokenizer;

/* Builds a tokenizer from G's metadata (G may be closed afterwards: everything is copied).
 * Reads tokenizer.ggml.model, .tokens, .scores (llama), .token_type, .merges (gpt2),
 * .bos_token_id, .eos_token_id, .unknown_token_id, .add_bos_token, .add_eos_token,
 * .add_space_prefix. */
PLUME_API int plume_tokenizer_from_gguf(plume_tokenizer **out, const plume_gguf *g, plume_error *err);
PLUME_API void plume_tokenizer_free(plume_tokenizer *t);

PLUME_API plume_tok_kind plume_tokenizer_kind(const plume_tokenizer *t);
PLUME_API int32_t plume_tokenizer_n_vocab(const plume_tokenizer *t);
PLUME_API int32_t plume_tokenizer_bos(const plume_tokenizer *t);   /* -1 if none */
PLUME_API int32_t plume_tokenizer_eos(const plume_tokenizer *t);   /* -1 if none */
PLUME_API bool plume_tokenizer_adds_bos(const plume_tokenizer *t); /* add_bos_token */
PLUME_API bool plume_tokenizer_adds_eos(const plume_tokenizer *t); /* add_eos_token */

/* The vocabulary entry as stored ("▁the", "<0x0A>", "Ġthe"), its type and score. */
PLUME_API const char *plume_tokenizer_token_text(const plume_tokenizer *t, int32_t id);
PLUME_API plume_token_type plume_tokenizer_token_type(const plume_tokenizer *t, int32_t id);
PLUME_API float plume_tokenizer_token_score(const plume_tokenizer *t, int32_t id);
/* The id whose stored text is exactly TEXT, or -1. */
PLUME_API int32_t plume_tokenizer_lookup(const plume_tokenizer *t, const char *text);

/* The pre-tokenizer of a "gpt2" tokenizer (PLUME_PRETOK_GPT2 for "llama"). */
PLUME_API plume_pretok plume_tokenizer_pre(const plume_tokenizer *t);
/* Whether ID ends generation: EOS, tokenizer.ggml.eot_token_id / eom_token_id, and the end-of-turn
 * tokens of the chat families (<|eot_id|>, <|eom_id|>, <|im_end|>, <|end_of_text|>, <|endoftext|>,
 * <end_of_turn>, <|end|>) when the vocabulary has them as non-normal tokens. */
PLUME_API bool plume_tokenizer_is_eog(const plume_tokenizer *t, int32_t id);
/* All of those ids (*ids borrowed); their count. */
PLUME_API size_t plume_tokenizer_eog(const plume_tokenizer *t, const int32_t **ids);
/* tokenizer.chat_template, or NULL when the file has none. */
PLUME_API const char *plume_tokenizer_chat_template(const plume_tokenizer *t);

enum {
    PLUME_TOKENIZE_ADD_SPECIAL = 1,    /* BOS / EOS as add_bos_token / add_eos_token say */
    PLUME_TOKENIZE_PARSE_SPECIAL = 2,  /* control tokens written in the text are those tokens */
};
/* Tokenizes LEN bytes of TEXT with FLAGS (PLUME_TOKENIZE_*). *ids is malloc'd (free() it),
 * *n_ids its length. Returns 0, or -1 with err set. */
PLUME_API int plume_tokenize_with(const plume_tokenizer *t, const char *text, size_t len, unsigned flags,
                                  int32_t **ids, size_t *n_ids, plume_error *err);

/* Tokenizes LEN bytes of TEXT (control tokens not parsed). With add_special, BOS is put first when add_bos_token is set
 * (default true for "llama", false for "gpt2") and EOS last when add_eos_token is set.
 * *ids is malloc'd (free() it), *n_ids its length. Returns 0, or -1 with err set. */
PLUME_API int plume_tokenize(const plume_tokenizer *t, const char *text, size_t len, bool add_special,
                             int32_t **ids, size_t *n_ids, plume_error *err);

/* The bytes token ID stands for ('▁' → ' ', <0xXX> → that byte, GPT-2 code points → bytes);
 * control and unused tokens give "" (length 0). PREV is the token before it (-1 at the start):
 * after BOS or at the start, an SPM tokenizer with the dummy prefix drops one leading space,
 * as llama2.c's decode does. The pointer stays valid while T lives. NULL for a bad id. */
PLUME_API const char *plume_token_piece(const plume_tokenizer *t, int32_t prev, int32_t id, size_t *len);

/* Joins the pieces of IDS (as plume_token_piece with each previous id) into a malloc'd,
 * NUL-terminated string. Returns 0, or -1 with err set (a bad id). */
PLUME_API int plume_detokenize(const plume_tokenizer *t, const int32_t *ids, size_t n_ids,
                               char **text, size_t *len, plume_error *err);

/* GPT-2's pre-tokenizer alone: calls EMIT with each pre-token (bytes of TEXT) in order.
 * For learning byte-level BPE merges (engine/train/bpe_train.c). 0, or -1 when EMIT fails. */
PLUME_API int plume_gpt2_pretokenize(const char *text, size_t len,
                                     int (*emit)(void *user, const char *word, size_t n), void *user,
                                     plume_error *err);
/* GPT-2's byte -> printable code point map (byte-level BPE vocabularies store tokens so). */
PLUME_API void plume_gpt2_byte_map(uint32_t byte_to_cp[256]);

#ifdef __cplusplus
}
#endif
#endif
