/* synthesize.weak_labels — training targets for the paper's SynCtx: ranked-entry words that
 * match a word of the real document (same Snowball stem, or a WordNet synonym). */
#include <string.h>
#include "plume/eval.h"
#include "plume/stage.h"

typedef struct swl_state {
    plume_keyword_opts opts;
    plume_wordnet *wn;   /* NULL when synonyms are off */
} swl_state;

static const plume_port swl_inputs[] = {
    { "entries", PLUME_DOCS, "the ranked entries", 0 },
    { "target", PLUME_TEXT, "the real document", 0 },
    { "profile", PLUME_DOCS, "documents for idf (unwired: the entries)", PLUME_PORT_OPTIONAL },
    { 0 },
};
static const plume_port swl_outputs[] = {
    { "terms", PLUME_TERMS, "matching words, most often selected first; weight = times selected", 0 },
    { 0 },
};
static const plume_param swl_params[] = {
    { "max_terms", PLUME_INT, "20", "keep at most this many words", PLUME_AT_LEAST(0) },
    { "min_count", PLUME_INT, "1", "keep words selected at least this many times", PLUME_AT_LEAST(0) },
    { "min_idf", PLUME_FLOAT, "1.5", "skip words with idf = ln(N/df) below this", PLUME_NO_RANGE },
    { "synonyms", PLUME_BOOL, "true", "also match WordNet synonyms", PLUME_NO_RANGE },
    { "wordnet", PLUME_STRING, "/usr/share/wordnet", "folder of the WordNet database (Debian package wordnet)",
      PLUME_NO_RANGE },
    { 0 },
};

static int swl_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    swl_state *s = state;
    s->opts.max_terms = (size_t)plume_args_int(args, "max_terms");
    s->opts.min_count = (size_t)plume_args_int(args, "min_count");
    s->opts.min_idf = plume_args_float(args, "min_idf");
    if (plume_args_bool(args, "synonyms")) {
        s->wn = plume_wordnet_open(plume_args_string(args, "wordnet"), err);
        if (!s->wn) return plume_fail_prefix(err, "synthesize.weak_labels: ");
    }
    return 0;
}

static int swl_run(void *state, plume_batch *batch, plume_error *err) {
    swl_state *s = state;
    for (size_t r = 0; r < plume_batch_count(batch); r++) {
        if (plume_batch_failed(batch, r)) continue;
        const plume_value *entries = plume_batch_in(batch, r, 0), *target = plume_batch_in(batch, r, 1),
                          *profile = plume_batch_in(batch, r, 2);
        if (entries->type != PLUME_DOCS || target->type != PLUME_TEXT ||
            (profile->type != PLUME_NONE && profile->type != PLUME_DOCS)) {
            plume_batch_fail(batch, r, "synthesize.weak_labels: expected entries: docs, target: text, profile: docs "
                             "(got %s, %s, %s)", plume_type_name(entries->type), plume_type_name(target->type),
                             plume_type_name(profile->type));
            continue;
        }
        plume_error e;
        const plume_doc *idf_docs = profile->type == PLUME_DOCS ? profile->as.docs.items : NULL;
        size_t n_idf = profile->type == PLUME_DOCS ? profile->as.docs.count : 0;
        if (plume_synctx_labels(entries->as.docs.items, entries->as.docs.count, target->as.text.str, idf_docs, n_idf,
                                s->wn, &s->opts, plume_batch_out(batch, r, 0), &e))
            plume_batch_fail(batch, r, "synthesize.weak_labels: %s", e.msg);
    }
    return 0;
}

static void swl_destroy(void *state) {
    swl_state *s = state;
    plume_wordnet_close(s->wn);
    s->wn = NULL;
}

const plume_stage synthesize_weak_labels = {
    "synthesize.weak_labels",
    "Weak labels for SynCtx (Li et al. 2023): words of the ranked entries matching a word of the real "
    "document by identical Snowball stem or WordNet synonym; stopwords and idf < 1.5 skipped; sorted by "
    "how often selected, then idf. Embedding-space matches of the paper are not done.",
    swl_inputs, swl_outputs, swl_params, sizeof(swl_state),
    swl_create, swl_run, swl_destroy,
};
