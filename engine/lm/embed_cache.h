/* The embedding cache of one loaded model: text -> unit vector, content-keyed (the whole
 * text is the key, compared byte for byte; its hash only picks the bucket), bounded in bytes
 * with the least recently used entries evicted first, and safe to use from several threads
 * (stages of one batch run on threads of their own). embed.c reads and fills it;
 * embed_cache_file.c saves it to a file and reads it back. */
#ifndef PLUME_LM_EMBED_CACHE_H
#define PLUME_LM_EMBED_CACHE_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

typedef struct lm_embed_cache lm_embed_cache;

/* An empty cache of dim-wide vectors holding at most max_bytes (entries, texts and vectors
 * counted); NULL when out of memory. */
lm_embed_cache *lm_embed_cache_new(int dim, uint64_t max_bytes);
void lm_embed_cache_free(lm_embed_cache *c);
int lm_embed_cache_dim(const lm_embed_cache *c);

/* Copies the vector of text[0..len) to out (dim floats, bit for bit as stored) and returns
 * 1, marking it recently used; 0 when it is not there. */
int lm_embed_cache_get(lm_embed_cache *c, const char *text, size_t len, float *out);
/* Stores a copy of the vector of text[0..len) as the most recently used entry, evicting the
 * least recently used ones while the cache would exceed its bound. A text already there keeps
 * the vector it has (the first one computed wins, so a text's vector never changes during a
 * run). Returns 1 when stored, 0 when it was there already or alone exceeds the bound,
 * -1 when out of memory. */
int lm_embed_cache_put(lm_embed_cache *c, const char *text, size_t len, const float *vec);
void lm_embed_cache_clear(lm_embed_cache *c);
size_t lm_embed_cache_count(lm_embed_cache *c);
/* The bytes the entries take, as the bound counts them. */
uint64_t lm_embed_cache_bytes(lm_embed_cache *c);

/* Calls visit on every entry, least recently used first (so that putting them back in this
 * order restores the order of use), with the cache locked: visit must not call back into it.
 * Stops at and returns the first non-zero value visit returns. */
typedef int (*lm_embed_cache_visit)(void *user, const char *text, size_t len, const float *vec);
int lm_embed_cache_each(lm_embed_cache *c, lm_embed_cache_visit visit, void *user);

/* FNV-1a (64-bit) over 8-byte little-endian words, then the tail bytes: the text hash of
 * the cache and the checksums and model identity of the cache file. Chainable: hashing a
 * buffer in pieces (each but the last a multiple of 8 bytes) gives the hash of the whole.
 * Its low bits mix poorly (a product's low bits see only the factors' low bits), so a
 * bucket index takes lm_hash64_mix of it. */
uint64_t lm_hash64(uint64_t h, const void *data, size_t len);
uint64_t lm_hash64_mix(uint64_t h);

/* Entries read from cache files in this process (embed.c reports it with the other counts). */
extern atomic_ullong lm_embed_count_loaded;
#define LM_HASH64_SEED 14695981039346656037ull

#endif
