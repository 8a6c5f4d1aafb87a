/* plume experiment's requests: their targets and contexts, and the profile-swapped twin that the
 * personalization control runs. */
#include <errno.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>
#include "plume/read_line.h"
#include "cli.h"
#include "experiment.h"
#include "splitmix64.h"

static char *string_field(json_t *obj, const char *key) {
    json_t *v = json_is_object(obj) ? json_object_get(obj, key) : NULL;
    return strdup(json_is_string(v) ? json_string_value(v) : "");
}

/* Calls `each` on every non-blank line of path (the first `limit` when limit > 0), parsed (NULL
 * when not JSON), with its index. Lines over the cap are an error naming the line. */
static int each_request(const char *path, size_t limit, int (*each)(void *, size_t, json_t *, const char *, size_t),
                        void *arg) {
    FILE *f = fopen(path, "r");
    if (!f) {
        fprintf(stderr, "plume experiment: %s: %s\n", path, strerror(errno));
        return -1;
    }
    plume_line_reader lines;
    plume_line_attach(&lines, f, path, PLUME_LINE_MAX);
    char *buf;
    size_t len, count = 0;
    plume_error err;
    int rc = 0, got;
    while (rc == 0 && (!limit || count < limit) && (got = plume_line_next(&lines, &buf, &len, &err)) != 0) {
        if (got < 0) {
            fprintf(stderr, "plume experiment: %s\n", err.msg);
            rc = -1;
            break;
        }
        if (plume_line_is_blank(buf, len)) continue;
        json_t *obj = json_loadb(buf, len, 0, NULL);
        rc = each(arg, count++, obj, buf, len);
        json_decref(obj);
    }
    plume_line_close(&lines);
    fclose(f);
    return rc;
}

typedef struct read_ctx {
    exp_requests *rq;
    size_t cap;
    FILE *copy;
    const char *copy_path;
    json_t *users;   /* user name -> index, in order of first appearance */
} read_ctx;

/* The index of a user, given the next one on first sight; -2 when out of memory. */
static long user_index(read_ctx *x, const char *name) {
    json_t *v = json_object_get(x->users, name);
    if (v) return (long)json_integer_value(v);
    long u = (long)json_object_size(x->users);
    return json_object_set_new(x->users, name, json_integer(u)) ? -2 : u;
}

static int take_request(void *arg, size_t i, json_t *obj, const char *line, size_t len) {
    read_ctx *x = arg;
    exp_requests *rq = x->rq;
    if (i == x->cap) {
        size_t nc = x->cap ? 2 * x->cap : 256;
        char **nt = realloc(rq->target, nc * sizeof *nt), **nx = nt ? realloc(rq->context, nc * sizeof *nx) : NULL;
        if (nt) rq->target = nt;
        if (nx) rq->context = nx;
        long *nu = nx ? realloc(rq->user_of, nc * sizeof *nu) : NULL;
        if (!nu) goto oom;
        rq->user_of = nu;
        x->cap = nc;
    }
    rq->target[i] = string_field(obj, "target");
    rq->context[i] = string_field(obj, "context");
    rq->n = i + 1;
    if (!rq->target[i] || !rq->context[i]) goto oom;
    json_t *user = json_is_object(obj) ? json_object_get(obj, "user") : NULL;
    rq->user_of[i] = json_is_string(user) ? user_index(x, json_string_value(user)) : -1;
    if (rq->user_of[i] == -2) goto oom;
    if (x->copy && (fwrite(line, 1, len, x->copy) != len || (line[len - 1] != '\n' && fputc('\n', x->copy) == EOF))) {
        fprintf(stderr, "plume experiment: %s: %s\n", x->copy_path, strerror(errno));
        return -1;
    }
    return 0;
oom:
    fprintf(stderr, "plume experiment: out of memory reading the requests\n");
    return -1;
}

/* ---- the derangement ---- */

/* swap_from[i] for every request, from the users' derangement (see experiment.h). */
static int plan_swap(exp_requests *rq, uint64_t seed) {
    size_t m = rq->users;
    rq->not_swappable = 0;
    rq->swap_from = malloc((rq->n ? rq->n : 1) * sizeof *rq->swap_from);
    size_t *to = malloc((m ? m : 1) * sizeof *to), *count = calloc(m ? m : 1, sizeof *count),
           *seen = calloc(m ? m : 1, sizeof *seen);
    long **of = calloc(m ? m : 1, sizeof *of);   /* each user's requests, in order */
    int rc = rq->swap_from && to && count && seen && of ? 0 : -1;
    for (size_t u = 0; rc == 0 && u < m; u++) to[u] = u;
    /* Sattolo: a uniformly drawn single cycle, so no user maps to itself when m >= 2 */
    for (size_t u = m; rc == 0 && u-- > 1;) {
        size_t j = (size_t)splitmix64_below(&seed, u), t = to[u];
        to[u] = to[j];
        to[j] = t;
    }
    for (size_t i = 0; rc == 0 && i < rq->n; i++)
        if (rq->user_of[i] >= 0) count[rq->user_of[i]]++;
    for (size_t u = 0; rc == 0 && u < m; u++)
        if (!(of[u] = malloc(count[u] * sizeof *of[u]))) rc = -1;
    for (size_t i = 0; rc == 0 && i < rq->n; i++)
        if (rq->user_of[i] >= 0) of[rq->user_of[i]][seen[rq->user_of[i]]++] = (long)i;
    memset(seen, 0, (m ? m : 1) * sizeof *seen);
    for (size_t i = 0; rc == 0 && i < rq->n; i++) {
        long u = rq->user_of[i];
        if (u < 0 || m < 2) {
            rq->swap_from[i] = -1;
            rq->not_swappable++;
            continue;
        }
        size_t k = seen[u]++, v = to[u];
        rq->swap_from[i] = of[v][k % count[v]];
    }
    for (size_t u = 0; of && u < m; u++) free(of[u]);
    free(of);
    free(to);
    free(count);
    free(seen);
    if (rc) fprintf(stderr, "plume experiment: out of memory planning the profile swap\n");
    return rc;
}

int exp_requests_read(const char *path, size_t limit, const char *copy, exp_requests *rq) {
    memset(rq, 0, sizeof *rq);
    read_ctx x = { .rq = rq, .copy_path = copy, .users = json_object() };
    if (!x.users) return -1;
    plume_output_file copy_out;
    if (copy && !(x.copy = cli_output_open(&copy_out, "plume experiment", copy))) {
        json_decref(x.users);
        return -1;
    }
    int rc = each_request(path, limit, take_request, &x);
    if (x.copy && cli_output_close(&copy_out, "plume experiment", rc == 0)) rc = -1;
    if (rc == 0 && rq->n == 0) {
        fprintf(stderr, "plume experiment: %s: no requests\n", path);
        rc = -1;
    }
    rq->users = json_object_size(x.users);
    json_decref(x.users);
    return rc;
}

typedef struct swap_ctx {
    exp_requests *rq;
    json_t **profile;   /* each request's profile, kept for the second pass */
    FILE *out;
    const char *path;
} swap_ctx;

static int keep_profile(void *arg, size_t i, json_t *obj, const char *line, size_t len) {
    (void)line, (void)len;
    swap_ctx *x = arg;
    json_t *p = json_is_object(obj) ? json_object_get(obj, "profile") : NULL;
    x->profile[i] = p ? json_incref(p) : NULL;
    return 0;
}

static int write_swapped(void *arg, size_t i, json_t *obj, const char *line, size_t len) {
    swap_ctx *x = arg;
    long from = x->rq->swap_from[i];
    if (from < 0 || !json_is_object(obj)) {   /* not swappable: the line as it was */
        if (fwrite(line, 1, len, x->out) != len || (line[len - 1] != '\n' && fputc('\n', x->out) == EOF)) goto fail;
        return 0;
    }
    json_t *copy = json_copy(obj);
    if (!copy || json_object_set(copy, "profile", x->profile[from] ? x->profile[from] : json_array())) {
        json_decref(copy);
        goto fail;
    }
    char *s = json_dumps(copy, JSON_COMPACT | JSON_PRESERVE_ORDER);
    int bad = !s || fprintf(x->out, "%s\n", s) < 0;
    free(s);
    json_decref(copy);
    if (bad) goto fail;
    return 0;
fail:
    fprintf(stderr, "plume experiment: %s: cannot write\n", x->path);
    return -1;
}

int exp_requests_swap(const char *data, const char *path, uint64_t seed, exp_requests *rq) {
    if (plan_swap(rq, seed)) return -1;
    swap_ctx x = { .rq = rq, .profile = calloc(rq->n, sizeof *x.profile), .path = path };
    if (!x.profile) return -1;
    int rc = each_request(data, rq->n, keep_profile, &x);
    plume_output_file swap_out;
    if (rc == 0 && !(x.out = cli_output_open(&swap_out, "plume experiment", path))) rc = -1;
    if (rc == 0) rc = each_request(data, rq->n, write_swapped, &x);
    if (x.out && cli_output_close(&swap_out, "plume experiment", rc == 0)) rc = -1;
    for (size_t i = 0; i < rq->n; i++) json_decref(x.profile[i]);
    free(x.profile);
    return rc;
}

void exp_requests_free(exp_requests *rq) {
    for (size_t i = 0; i < rq->n; i++) {
        free(rq->target[i]);
        free(rq->context[i]);
    }
    free(rq->target);
    free(rq->context);
    free(rq->swap_from);
    free(rq->user_of);
    memset(rq, 0, sizeof *rq);
}
