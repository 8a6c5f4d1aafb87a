/* plume — errors.
 *
 * Every fallible call takes a plume_error* and fills it with one sentence a person
 * can act on: where (file:line:column, a record id, a module path), what, and a hint. */
#ifndef PLUME_ERROR_H
#define PLUME_ERROR_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

/* Marks the functions libplume exports; everything else in the library stays hidden. */
#if defined(__GNUC__)
#define PLUME_API __attribute__((visibility("default")))
#else
#define PLUME_API
#endif

#define PLUME_ERROR_MAX 1024

typedef struct plume_error {
    char msg[PLUME_ERROR_MAX];
} plume_error;

#if defined(__GNUC__)
#define PLUME_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define PLUME_PRINTF(a, b)
#endif

/* Sets the message (err may be NULL) and returns -1, so `return plume_fail(err, ...)` reads well. */
PLUME_API int plume_fail(plume_error *err, const char *fmt, ...) PLUME_PRINTF(2, 3);
/* Prefixes the message already in err with more context: "loading x.so: " + old message. */
PLUME_API int plume_fail_prefix(plume_error *err, const char *fmt, ...) PLUME_PRINTF(2, 3);
/* Edit distance (insertions, deletions, substitutions, swaps of two neighbouring letters), capped
 * at `cap` (returns cap when the distance is cap or more): how a message picks the known name
 * closest to a misspelt one for its did-you-mean hint. */
PLUME_API size_t plume_edit_distance(const char *a, const char *b, size_t cap);

#ifdef __cplusplus
}
#endif
#endif
