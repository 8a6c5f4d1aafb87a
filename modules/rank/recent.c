/* rank.recent — the paper's RecentDoc baseline: the most recent profile documents first. */
#include "rank.h"

typedef struct recent_state { long long budget; } recent_state;

static int recent_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    recent_state *s = state;
    s->budget = plume_args_int(args, "budget_chars");
    return 0;
}

/* The score is the time itself, so the shared order (score desc, then id) is newest first. */
static int recent_score(void *state, const char *query, size_t query_len, const plume_doc *docs, size_t n,
                        double *scores, plume_error *err) {
    for (size_t i = 0; i < n; i++) scores[i] = docs[i].time;
    return 0;
}

static int recent_run(void *state, plume_batch *batch, plume_error *err) {
    recent_state *s = state;
    return rank_run(state, batch, s->budget, recent_score);
}

static const plume_param recent_params[] = {
    RANK_BUDGET_PARAM,
    { 0 },
};

const plume_stage rank_recent = {
    .name = "rank.recent",
    .doc = "RecentDoc (the paper's recency baseline): profile documents, most recent first (score = time "
           "in seconds since the epoch); equal times by id. The query is not used.",
    .inputs = rank_inputs_optional_query,
    .outputs = rank_outputs,
    .params = recent_params,
    .state_size = sizeof(recent_state),
    .create = recent_create,
    .run = recent_run,
};
