/* plume — slot values: the data that travels between stages.
 *
 * A record carries named slots; each holds one value of one of four types.
 * Values own their memory; plume_value_clear() frees it. Stages read their
 * inputs as const values and fill their outputs with the setters below, which
 * copy what they are given, so a stage never has to think about ownership. */
#ifndef PLUME_VALUE_H
#define PLUME_VALUE_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* Slot types (what ports carry) and parameter types (what `with:` holds). */
typedef enum plume_type {
    PLUME_NONE = 0,
    /* slot types */
    PLUME_TEXT,    /* UTF-8 string */
    PLUME_DOCS,    /* list of documents {id, title, text, time, score} */
    PLUME_TERMS,   /* list of weighted words */
    PLUME_NUMBER,  /* one double */
    /* parameter types */
    PLUME_INT,
    PLUME_FLOAT,
    PLUME_BOOL,
    PLUME_STRING,
    PLUME_MODEL    /* the name of a model declared in the graph's `models:` */
} plume_type;

/* "text", "docs", ... ; "?" for an unknown value. */
PLUME_API const char *plume_type_name(plume_type type);

typedef struct plume_doc {
    char *id;
    char *title;   /* may be "" but never NULL */
    char *text;
    double time;   /* seconds since the epoch; 0 when unknown */
    double score;  /* set by ranking stages; 0 otherwise */
} plume_doc;

typedef struct plume_term {
    char *word;
    double weight;
} plume_term;

typedef struct plume_value {
    plume_type type;   /* PLUME_NONE: the slot is empty */
    union {
        struct { char *str; size_t len; } text;
        struct { plume_doc *items; size_t count, cap; } docs;
        struct { plume_term *items; size_t count, cap; } terms;
        double number;
    } as;
} plume_value;

/* Every setter replaces what the value held and returns 0, or -1 when out of memory. */
PLUME_API int  plume_value_set_text(plume_value *v, const char *s, size_t len);
PLUME_API int  plume_value_set_number(plume_value *v, double x);
PLUME_API int  plume_value_set_docs(plume_value *v);              /* empty list */
PLUME_API int  plume_value_set_terms(plume_value *v);             /* empty list */
PLUME_API int  plume_value_copy(plume_value *dst, const plume_value *src);
/* Append to a list (the value becomes that list type if it was empty). */
PLUME_API int  plume_docs_push(plume_value *v, const plume_doc *doc);
PLUME_API int  plume_terms_push(plume_value *v, const char *word, double weight);
PLUME_API void plume_value_clear(plume_value *v);

#ifdef __cplusplus
}
#endif
#endif
