/* The batch a stage's run() sees, and the host it was created with.
 *
 * A batch lists the records that had not failed when the stage started. Inputs point at
 * the record's slots (read-only: other stages may read them at the same time); outputs
 * are slots this stage alone writes. Only a record's error is shared between stages
 * running at once, so it alone is guarded by the run's lock. */
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "engine.h"

char pl_oom_error[] = "out of memory";

static const plume_value none_value = { PLUME_NONE, { .number = 0 } };

size_t plume_batch_count(const plume_batch *b) {
    return b->count;
}

const char *plume_batch_id(const plume_batch *b, size_t r) {
    if (r >= b->count) return NULL;
    const pl_record *rec = b->recs[r];
    int s = b->run->graph->id_slot;
    if (s >= 0 && rec->slots[s].type == PLUME_TEXT) return rec->slots[s].as.text.str;
    return rec->origin;
}

const plume_value *plume_batch_in(const plume_batch *b, size_t r, size_t port) {
    if (r >= b->count || port >= b->node->n_in_ports) return &none_value;
    int s = b->node->in_slot[port];
    return s < 0 ? &none_value : &b->recs[r]->slots[s];
}

plume_value *plume_batch_out(plume_batch *b, size_t r, size_t port) {
    if (r >= b->count || port >= b->node->n_out_ports) return NULL;
    return &b->recs[r]->slots[b->node->out_slot[port]];
}

void pl_record_fail(pl_run *run, pl_record *rec, const char *node, const char *msg) {
    pthread_mutex_lock(&run->lock);
    if (!rec->error) {
        size_t n = strlen(msg) + (node ? strlen(node) : 0) + 16;
        char *e = malloc(n);
        if (e) {
            if (node) snprintf(e, n, "stage '%s': %s", node, msg);
            else snprintf(e, n, "%s", msg);
        }
        rec->error = e ? e : pl_oom_error;
    }
    pthread_mutex_unlock(&run->lock);
}

void plume_batch_fail(plume_batch *b, size_t r, const char *fmt, ...) {
    if (r >= b->count) return;
    char msg[PLUME_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_record_fail(b->run, b->recs[r], b->node->implicit ? NULL : b->node->name, msg);
}

int plume_batch_failed(const plume_batch *b, size_t r) {
    if (r >= b->count) return 1;
    pthread_mutex_lock(&b->run->lock);
    int failed = b->recs[r]->error != NULL;
    pthread_mutex_unlock(&b->run->lock);
    return failed;
}

const char *plume_batch_request(const plume_batch *b, size_t r, const char **origin) {
    if (r >= b->count) return NULL;
    if (origin) *origin = b->recs[r]->origin;
    return b->recs[r]->line;
}

void plume_host_log(plume_host *host, plume_log_level level, const char *fmt, ...) {
    static const char *names[] = { "error", "warning", "info", "debug" };
    const char *env = getenv("PLUME_LOG");
    int max = env && !strcmp(env, "debug") ? PLUME_LOG_DEBUG : env && !strcmp(env, "info") ? PLUME_LOG_INFO
            : PLUME_LOG_WARN;
    if ((int)level > max) return;
    char msg[PLUME_ERROR_MAX];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pl_progress_break();
    fprintf(stderr, "plume: %s: %s: %s\n", host && host->node ? host->node : "?",
            (unsigned)level < 4 ? names[level] : "?", msg);
}

const char *plume_host_model_path(plume_host *host, const char *model_name) {
    if (!host || !host->graph || !model_name) return NULL;
    for (size_t i = 0; i < host->graph->n_models; i++)
        if (!strcmp(host->graph->models[i].name, model_name)) return host->graph->models[i].resolved;
    return NULL;
}
