/* plume — the language model.
 *
 * A llama-architecture transformer read from a GGUF file and run on the Vulkan
 * device. One loaded model is shared by every stage of a process that names the
 * same file: plume_lm_acquire() loads it the first time and counts references,
 * plume_lm_release() frees it when the last user lets go.
 *
 * Three levels, from simplest to most control:
 *   plume_lm_generate()  prompts in, texts out (sampling or beam search, stops);
 *   plume_lm_batch_*     N sequences, each with its own KV cache on the device:
 *                        prefill a prompt, decode one token for every sequence
 *                        at once (the weights are read once per step for all N),
 *                        copy a cache onto another when a beam forks;
 *   plume_sampler / plume_beam_search  the CPU-side choice of the next token,
 *                        usable over logits from anywhere.
 * Around plume_lm_generate, for callers with many unrelated prompts:
 * plume_lm_generate_each() lets each prompt fail alone, plume_lm_fit_prompt() cuts a
 * prompt's body to the context (plume/lm_stage.h builds a generating stage on them).
 * plume_lm_embed() gives mean-pooled final hidden states as text embeddings, each
 * distinct text computed once and kept in the model's cache (optionally in a file). */
#ifndef PLUME_LM_H
#define PLUME_LM_H

#include <stddef.h>
#include <stdint.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

typedef struct plume_lm plume_lm;

/* The model's shape, as read from the GGUF metadata. */
typedef struct plume_lm_info {
    int dim;            /* embedding width */
    int hidden_dim;     /* feed-forward width */
    int n_layers;
    int n_heads;
    int n_kv_heads;     /* < n_heads: grouped-query attention */
    int head_dim;
    int vocab_size;
    int ctx_len;        /* the longest sequence a KV cache holds */
    int bos, eos;       /* token ids; -1 when the model has none */
    const char *weight_type;  /* "F32", "F16", "Q8_0", "Q4_0" or "mixed" */
    size_t weight_bytes;      /* bytes of weights read per decoded token (the
                                 token embedding row aside), for bandwidth figures */
    const char *path;
} plume_lm_info;

/* ---- loading and sharing ----------------------------------------------- */

/* Returns the model of this file, loading it onto the device on first use. Paths
 * are compared after realpath(), so "./m.gguf" and "m.gguf" share one copy.
 * Thread-safe. NULL with err set on failure (file, tensor or device named). */
PLUME_API plume_lm *plume_lm_acquire(const char *path, plume_error *err);
/* Drops one reference; the last one frees the device buffers. NULL is a no-op. */
PLUME_API void plume_lm_release(plume_lm *lm);
PLUME_API const plume_lm_info *plume_lm_get_info(const plume_lm *lm);
/* The name of the device the model runs on ("llvmpipe (LLVM ...)" for lavapipe). */
PLUME_API const char *plume_lm_device_name(const plume_lm *lm);
/* The device's streaming read bandwidth in GB/s (the gpu layer's measure), for
 * comparing with the bandwidth decoding achieves. */
PLUME_API int plume_lm_device_bandwidth(plume_lm *lm, uint64_t bytes, int repeat, double *gbps,
                                        plume_error *err);

/* ---- tokens -------------------------------------------------------------- */

/* Encodes text as the model's tokenizer does, with a BOS first when add_bos is 1
 * (and the model has one), none when 0, and as the file says
 * (tokenizer.ggml.add_bos_token: yes for SentencePiece, no for GPT-2) when -1.
 * Writes at most max tokens to out and returns the count it needed, so a caller
 * whose buffer was too small can retry; -1 on error. */
PLUME_API int plume_lm_tokenize(plume_lm *lm, const char *text, int add_bos,
                                int32_t *out, int max, plume_error *err);
/* plume_lm_tokenize, and with parse_special = 1 the control tokens written in the text
 * ("<|im_start|>", "<|eot_id|>", "<s>") are those tokens instead of their characters; a text
 * that then starts with the BOS token gets no second one. Text from
 * users should not be parsed so: it could end a chat turn. User-defined tokens (token type 4)
 * are matched either way. */
PLUME_API int plume_lm_tokenize_special(plume_lm *lm, const char *text, int add_bos, int parse_special,
                                        int32_t *out, int max, plume_error *err);
/* 1 when token ends generation: EOS, tokenizer.ggml.eot_token_id / eom_token_id, or an
 * end-of-turn token of the vocabulary (<|eot_id|>, <|im_end|>, <|end_of_text|>, ...). */
PLUME_API int plume_lm_is_eog(const plume_lm *lm, int32_t token);
/* Decodes tokens to a malloc'd UTF-8 string (BOS/EOS omitted; the leading space
 * a SentencePiece tokenizer adds to the first word is dropped when tokens[0]
 * follows a BOS, i.e. when after_bos is set). NULL on error. */
PLUME_API char *plume_lm_detokenize(plume_lm *lm, const int32_t *tokens, int n,
                                    int after_bos, plume_error *err);

/* ---- chat --------------------------------------------------------------- */

/* One turn of a conversation: role "system", "user" or "assistant" (any plain word). */
typedef struct plume_chat_message {
    const char *role;
    const char *content;
} plume_chat_message;

/* The family of the model's tokenizer.chat_template that plume renders it as: "llama3" or
 * "chatml" (static strings). NULL with err set when the model has no template or one of
 * another family (plume does not run Jinja; docs/tokenizers.md lists what it recognizes). */
PLUME_API const char *plume_lm_chat_family(plume_lm *lm, plume_error *err);
/* The n messages written in the model's chat template, ending with the assistant's header when
 * add_generation_prompt: a malloc'd prompt that holds control tokens as text, so generate it
 * with plume_gen_params.parse_special = 1 and add_bos = 0 (the template writes the BOS).
 * NULL with err set (no template, another family, a role that is not a plain word). */
PLUME_API char *plume_lm_chat_render(plume_lm *lm, const plume_chat_message *msgs, int n,
                                     int add_generation_prompt, plume_error *err);

/* ---- sequences with KV caches --------------------------------------------- */
/* A batch is used by one thread at a time and freed before its model is released. */

typedef struct plume_lm_batch plume_lm_batch;

/* n_seqs sequences of at most max_len tokens each (0: the model's ctx_len);
 * every sequence starts empty. */
PLUME_API plume_lm_batch *plume_lm_batch_create(plume_lm *lm, int n_seqs, int max_len,
                                                plume_error *err);
PLUME_API void plume_lm_batch_free(plume_lm_batch *b);
PLUME_API int plume_lm_batch_size(const plume_lm_batch *b);
/* Tokens already in sequence seq's cache. */
PLUME_API int plume_lm_batch_len(const plume_lm_batch *b, int seq);
/* Empties sequence seq (its cache is reused, nothing is freed). */
PLUME_API void plume_lm_batch_reset(plume_lm_batch *b, int seq);

/* Appends n tokens to sequence seq in one pass (matrix-matrix products) and, when
 * logits is not NULL, writes the vocab_size logits after the last one. */
PLUME_API int plume_lm_prefill(plume_lm_batch *b, int seq, const int32_t *tokens, int n,
                               float *logits, plume_error *err);
/* Like plume_lm_prefill, but writes the logits after every token: logits[i*vocab_size ..]
 * are the logits after tokens[0..i] (n x vocab_size floats), for perplexity and for checks
 * against a reference implementation: the model's own logits (a pending plume_mix is neither
 * applied nor used up). */
PLUME_API int plume_lm_prefill_all(plume_lm_batch *b, int seq, const int32_t *tokens, int n, float *logits,
                                   plume_error *err);
/* One step for several sequences at once: appends tokens[i] to sequence seqs[i]
 * for i < n (each seq at most once), reading the weights once for all of them.
 * Writes logits[i*vocab_size ..] when logits is not NULL and the greedy choice
 * argmax[i] (computed on the device) when argmax is not NULL. */
PLUME_API int plume_lm_decode(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens,
                              float *logits, int32_t *argmax, plume_error *err);
typedef struct plume_draw plume_draw;   /* below, with the sampler */
/* plume_lm_decode with the next tokens drawn on the device: next[i] by draws[i] (from
 * plume_sampler_draw), 4 bytes read back per sequence. */
PLUME_API int plume_lm_decode_draw(plume_lm_batch *b, int n, const int *seqs, const int32_t *tokens,
                                   const plume_draw *draws, int32_t *next, plume_error *err);
/* A sparse distribution q to mix into a sequence's next-token distribution p:
 *   p' = (1 - weight) p + weight q,
 * with q given on at most PLUME_MIX_MAX distinct tokens (probs need not sum to 1: they are
 * normalized). The device applies it to the logits (shaders/mix.comp: only the listed tokens'
 * logits change), so greedy decoding, the device sampler, host sampling and beam search over
 * read-back logits all see the mixture. A personal memory (plume_memory) is one source. */
#define PLUME_MIX_MAX 64
typedef struct plume_mix {
    int n;                  /* entries, 0..PLUME_MIX_MAX; 0: nothing to mix */
    const int32_t *tokens;  /* distinct ids of the vocabulary */
    const float *probs;     /* > 0 */
    float weight;           /* in [0, 1); 0: nothing to mix */
} plume_mix;
/* Sets the mixture of sequence seq's next logits (its next decode, or a prefill that writes
 * logits); used once, then cleared. NULL (or n or weight 0) clears it. The arrays are copied. */
PLUME_API int plume_lm_batch_set_mix(plume_lm_batch *b, int seq, const plume_mix *mix, plume_error *err);

/* A personal memory: the user's own texts, tokenized by the model, read at decode time. For
 * the history so far (prompt, then the tokens generated), it finds the longest suffix of
 * min_match..max_match tokens that occurs in the texts, and returns as a plume_mix the tokens
 * that followed its occurrences, weighed by count: the decoder then leans towards continuing
 * what the user wrote in the same words. No embeddings, so any model can use it.
 * A followed memory (follow = 1) keeps instead to one place in the texts, a cursor, as a copying
 * writer does, and proposes the one token there: the cursor starts after the prompt's end where
 * at least anchor_match of its tokens occur in the texts (a prompt cut inside a word is found by
 * its text, and the rest of that word is proposed first), else at the first text's body (after
 * a line break when the prompt ends inside a word, as a copy would start); a token
 * written moves it one step on when it is the one proposed, else nowhere when the history's end
 * still matches just before it (a repeated token written once more), else to the nearest
 * occurrence ahead that the history's last anchor_match or more tokens match, else not at all
 * (the model wrote words of its own; the text resumes after them). It never goes back, so no
 * passage is written twice, and at a text's end it proposes end-of-sequence. */
typedef struct plume_memory plume_memory;
typedef struct plume_memory_params {
    float weight;       /* the mixture's weight on the memory, [0, 1) (default 0.5; 0: off) */
    int min_match;      /* the shortest suffix that counts as a match (default 3) */
    int max_match;      /* the longest looked for, at most 64 (default 16) */
    int follow;         /* 1: keep to one place in the texts, as above (default 0) */
    int anchor_match;   /* followed: the shortest match that places or moves the cursor, from
                           min_match to max_match (default 4) */
} plume_memory_params;
PLUME_API void plume_memory_params_default(plume_memory_params *p);
/* texts[i] of lens[i] bytes; bodies (NULL: none) says where each text's body starts, after a
 * title, say: the body starts on a token of its own, and a followed memory without an anchor
 * starts at the first text's body. NULL with err set on a bad parameter or out of memory. */
PLUME_API plume_memory *plume_memory_create(plume_lm *lm, const char *const *texts, const size_t *lens,
                                            const size_t *bodies, int n_texts, const plume_memory_params *params,
                                            plume_error *err);
PLUME_API void plume_memory_free(plume_memory *m);
/* The next step's mixture for this history (*mix's arrays stay the memory's until the next
 * call); returns the length of the suffix matched (a followed memory: 1 when it proposes), 0
 * when none (mix->n = 0). The signature of plume_gen_params.mix, less its first two arguments. */
PLUME_API int plume_memory_next(plume_memory *m, const int32_t *prompt, int n_prompt, const int32_t *gen,
                                int n_gen, plume_mix *mix);
/* Tokens the memory holds. */
PLUME_API size_t plume_memory_tokens(const plume_memory *m);
/* The median length of its texts in tokens (the upper one of two middles; 0 with no text): how
 * long this user's documents usually are, a length budget for a new one. */
PLUME_API int plume_memory_median_tokens(const plume_memory *m);

/* Makes sequence dst a copy of sequence src (cache and length): a beam forks. */
PLUME_API int plume_lm_batch_copy(plume_lm_batch *b, int dst, int src, plume_error *err);

/* ---- choosing the next token (over logits; top-k draws also on the device) --- */

typedef struct plume_sampling {
    float temperature;  /* <= 0: greedy (the first largest logit) */
    int top_k;          /* keep the k most likely tokens; <= 0: all */
    float top_p;        /* keep the smallest set whose probability reaches p; >= 1: all */
    uint64_t seed;      /* the same seed and logits give the same tokens */
} plume_sampling;

typedef struct plume_sampler plume_sampler;

PLUME_API plume_sampler *plume_sampler_create(const plume_sampling *params, int vocab_size,
                                              plume_error *err);
PLUME_API void plume_sampler_free(plume_sampler *s);
/* The next token for these logits (not modified). */
PLUME_API int32_t plume_sampler_sample(plume_sampler *s, const float *logits);
/* The token distribution the sampler draws from after temperature, top-k and
 * top-p (probabilities, zero for filtered tokens), for tests and inspection. */
PLUME_API void plume_sampler_probs(plume_sampler *s, const float *logits, float *probs);

/* A draw made on the device (plume_lm_decode_draw): the sampler's parameters and the
 * uniform it took from its stream. */
#define PLUME_DRAW_TOP_K_MAX 256
struct plume_draw {
    float inv_temperature;
    int32_t top_k;      /* 1 .. PLUME_DRAW_TOP_K_MAX */
    float top_p;
    float r;            /* in [0, 1) */
};
/* Where the device can make the sampler's next draw (temperature > 0 and
 * 1 <= top_k <= PLUME_DRAW_TOP_K_MAX, top_k < vocab_size): takes the uniform from the
 * stream as plume_sampler_sample would, fills *d and returns 1. Else returns 0 and leaves
 * the stream as it was: read the logits back and call plume_sampler_sample. */
PLUME_API int plume_sampler_draw(plume_sampler *s, plume_draw *d);

/* Beam search over any scorer. The search keeps n_beams hypotheses in slots
 * 0..n_beams-1; each step it asks the scorer for the log-probabilities of the next
 * token of every live hypothesis, keeps the n_beams best extensions, and tells the
 * scorer how slots were reassigned (fork) before the next step. */
typedef struct plume_beam_scorer {
    void *user;
    /* logprobs[i*vocab_size + v] = log P(v | hypothesis in slots[i]) for i < n; last[i]
     * is that hypothesis's newest token (-1 at the first step, when every slot holds
     * only the prompt). */
    int (*step)(void *user, int n, const int *slots, const int32_t *last, float *logprobs,
                plume_error *err);
    /* Slot dst becomes a copy of slot src (before the next step). */
    int (*copy)(void *user, int dst, int src, plume_error *err);
    /* Optional: 1 when the hypothesis (its new tokens so far) is finished, e.g. it
     * ends in a stop string. EOS is handled by the search itself. */
    int (*finished)(void *user, const int32_t *tokens, int n);
} plume_beam_scorer;

typedef struct plume_beam_params {
    int n_beams;            /* >= 1 */
    int vocab_size;
    int max_tokens;         /* new tokens per hypothesis */
    int32_t eos;            /* -1: none */
    float length_penalty;   /* score = sum logp / len^length_penalty; 0: plain sum */
    const int32_t *more_eos;/* other ids that end a hypothesis as EOS does (end-of-turn */
    int n_more_eos;         /* tokens such as <|eot_id|>, <|im_end|>); NULL / 0: none */
} plume_beam_params;

typedef struct plume_beam_result {
    int32_t *tokens;        /* malloc'd, EOS not included */
    int n_tokens;
    double logprob;         /* sum of log-probabilities of the chosen tokens (EOS included) */
    double score;           /* the length-normalised score it won with */
    int finished;           /* 1: ended at EOS or by `finished`; 0: hit max_tokens */
} plume_beam_result;

PLUME_API int plume_beam_search(const plume_beam_scorer *scorer, const plume_beam_params *params,
                                plume_beam_result *best, plume_error *err);

/* ---- generation ------------------------------------------------------------ */

typedef struct plume_gen_params {
    int max_tokens;         /* new tokens per prompt (default 256) */
    plume_sampling sampling;/* used when beams <= 1 (default greedy) */
    int beams;              /* > 1: beam search with this many beams */
    float length_penalty;   /* beam search only (default 1.0) */
    const char *const *stop;/* stop strings (not included in the output) */
    int n_stop;
    int ignore_eos;         /* 1: keep going past EOS (benchmarks) */
    int add_bos;            /* 1, 0, or -1 (default): as the tokenizer says; an empty
                               prompt starts from BOS whenever the model has one */
    int parse_special;      /* 1: control tokens written in the prompts are parsed, as a
                               prompt from plume_lm_chat_render needs (default 0) */
    /* Optional: called with each new piece of text of prompt i as it is decided
     * (sampling only; beam search reports the final text once). Non-zero stops. */
    int (*on_text)(void *user, int i, const char *piece);
    void *user;
    /* Optional: prompt i's own limit on new tokens, max_tokens_each[i] (<= 0: max_tokens);
     * never more than max_tokens. */
    const int *max_tokens_each;
    /* Optional: a distribution to mix into every step's (plume_mix; a personal memory, say).
     * Called before each step of prompt i with the prompt's tokens and those generated so far
     * (in beam search, the hypothesis's); fills *mix (mix->n = 0: nothing this step), whose
     * arrays must stay valid until the next call. Non-zero fails the generation. */
    int (*mix)(void *mix_user, int i, const int32_t *prompt, int n_prompt, const int32_t *gen, int n_gen,
               plume_mix *mix);
    void *mix_user;
} plume_gen_params;

PLUME_API void plume_gen_params_default(plume_gen_params *p);

typedef struct plume_gen_result {
    char *text;             /* malloc'd, the stop string cut off */
    int32_t *tokens;        /* malloc'd new tokens */
    int n_tokens;
    int n_prompt_tokens;
    const char *stop_reason;/* "eos" (or another end-of-generation token), "stop", "length" */
    double logprob;         /* beam search: the winner's log-probability */
} plume_gen_result;

/* Generates a continuation for each of n prompts; sampling decodes all prompts as
 * one batch, beam search one prompt at a time. out[i] is filled for every prompt on
 * success; free each with plume_gen_result_free(). A prompt that fills the context
 * fails; one that leaves fewer than max_tokens free stops early with "length". */
PLUME_API int plume_lm_generate(plume_lm *lm, const char *const *prompts, int n,
                                const plume_gen_params *params, plume_gen_result *out,
                                plume_error *err);
PLUME_API void plume_gen_result_free(plume_gen_result *r);

/* Stop strings written as one text, separated by '|' (a backslash before a bar makes it a
 * literal bar), as a graph parameter carries them: the text a|b\|c gives {"a", "b|c"}. Empty
 * ones are dropped (they would stop at once). *stops is malloc'd (NULL when there are none),
 * for plume_gen_params.stop; free it with plume_gen_stops_free. 0, or -1 when out of memory. */
PLUME_API int plume_gen_stops_parse(const char *spec, char ***stops, int *n);
PLUME_API void plume_gen_stops_free(char **stops, int n);

/* plume_lm_generate over n prompts of which any may fail alone, for a caller with a batch of
 * unrelated requests: a NULL prompt is skipped; a prompt that cannot be tokenized, or that fills
 * the model's context ("the prompt is N tokens but the model's context holds C"), gets its reason
 * in failed[i].msg and no text; the others are generated in one plume_lm_generate call, so they
 * decode together. out[i] is then what plume_lm_generate gives for prompt i (zeroed for a prompt
 * skipped or failed), with n_prompt_tokens its length in tokens (-1: not tokenized); free each with
 * plume_gen_result_free. memories (NULL: none) gives prompt i a personal memory mixed into every
 * step (memories[i] NULL: none); it replaces params->mix, which must then be NULL. The callbacks
 * (mix, on_text) and max_tokens_each are indexed by i over all n prompts, as the caller numbers
 * them. Returns 0, or -1 with err set when the model call itself fails (every out[i] zeroed). */
PLUME_API int plume_lm_generate_each(plume_lm *lm, const char *const *prompts, int n,
                                     const plume_gen_params *params, plume_memory *const *memories,
                                     plume_gen_result *out, plume_error *failed, plume_error *err);

/* A prompt that fits: head + the longest prefix of body[0..body_len) + tail that tokenizes (as
 * add_bos and parse_special say, see plume_lm_tokenize_special) to at most max_tokens tokens. A
 * body that does not fit whole is cut at a word boundary (white space), never inside a character.
 * When head and tail alone exceed max_tokens the body is left out and the prompt is longer than
 * asked. malloc'd; NULL with err set (out of memory, a tokenizer error). */
PLUME_API char *plume_lm_fit_prompt(plume_lm *lm, const char *head, const char *body, size_t body_len,
                                    const char *tail, int max_tokens, int add_bos, int parse_special,
                                    plume_error *err);

/* ---- embeddings ------------------------------------------------------------ */

/* out[i*dim ..] = the mean over text i's tokens (BOS first, if the model has one) of the final,
 * RMS-normalised hidden state, scaled to unit length: a text embedding for
 * cosine-similarity retrieval. Texts are cut to ctx_len tokens.
 *
 * Every text is first looked up in the model's embedding cache (keyed by the text's bytes;
 * one cache per loaded model, shared by every stage and thread of the process, at most
 * PLUME_EMBED_CACHE_MB MiB, default 256, the least recently used entries evicted first).
 * The distinct texts it lacks go through the model together, packed many texts to a
 * forward pass, and are stored. A text's vector is then the same, bit for bit, every time it
 * is asked for; it differs from the same text embedded alone only by the float rounding of
 * a different packing (measured below 1e-6 per component on lavapipe).
 * out may be NULL: the texts are only put in the cache (a stage fills it with a whole batch's
 * texts in one call, then asks record by record); such a call is not counted as looked up.
 * Thread-safe. */
PLUME_API int plume_lm_embed(plume_lm *lm, const char *const *texts, int n, float *out,
                             plume_error *err);
/* Empties the model's embedding cache (the file it is bound to is not touched). */
PLUME_API void plume_lm_embed_cache_clear(plume_lm *lm);

/* Totals of the process, over every model, since it started. */
typedef struct plume_embed_counts {
    uint64_t looked_up;     /* texts asked for (plume_lm_embed with out), cached or not */
    uint64_t embedded;      /* texts run through a model */
    uint64_t passes;        /* forward-pass submits those took */
    uint64_t loaded;        /* entries read from embedding cache files */
} plume_embed_counts;
PLUME_API void plume_lm_embed_counts(plume_embed_counts *out);

/* The persistent cache: binds the model's embedding cache to the file at path. The file's
 * entries are read now, when it exists and holds this model's embeddings; the whole cache is
 * written back (a temporary file renamed over it: whole or not at all) by the last
 * plume_lm_embed_cache_detach, when anything was added. The file records the model's identity
 * (a hash of the whole GGUF file and its size), the embedding width, the entry count and
 * checksums of its header and its entries.
 * Returns 0; 1 when the file holds another model's embeddings or an older format: it is
 * ignored (and replaced at the detach), and err says so, for the caller to warn; -1 with err
 * (and nothing read) when the file is not a plume embedding cache, is truncated or damaged, or
 * cannot be read, or when the model's cache is bound to another file already. Each successful
 * attach (0 or 1) needs one detach. */
PLUME_API int plume_lm_embed_cache_attach(plume_lm *lm, const char *path, plume_error *err);
/* Returns 0, or -1 with err when writing the file failed (the file is then as it was). */
PLUME_API int plume_lm_embed_cache_detach(plume_lm *lm, plume_error *err);

#ifdef __cplusplus
}
#endif
#endif
