/* Resuming an interrupted run (`plume run --resume`).
 *
 * An interrupted run keeps the result lines of the batches it finished in OUT.partial (whole
 * lines only: a batch is written, flushed and synced before the file is renamed there). A rerun
 * with --resume copies those lines to its new output, skips as many requests from the start of
 * the requests file, checking that each skipped request has the id of the result that stands
 * for it (so a changed requests file is caught, not silently misaligned), and runs the rest.
 * Results are in input order, one per request, so "the first N" is exact; the ids are a check.
 * Without OUT.partial, a finished OUT is the source (e.g. after appending requests). */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <jansson.h>
#include "engine.h"
#include "plume/read_line.h"

#define PL_RESUME_MAX_LINES (1u << 28)   /* a cap on the ids kept: a damaged file cannot take all memory */

char *pl_partial_path(const char *out) {
    size_t n = strlen(out) + sizeof ".partial";
    char *p = malloc(n);
    if (p) snprintf(p, n, "%s.partial", out);
    return p;
}

/* The id as io.request reads it (a string, or an integer written as text); NULL when none. */
static char *id_of(json_t *o) {
    json_t *id = json_is_object(o) ? json_object_get(o, "id") : NULL;
    if (json_is_string(id)) return pl_strdup(json_string_value(id));
    if (json_is_integer(id)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(id));
        return pl_strdup(buf);
    }
    return NULL;
}

void pl_resume_free(pl_resume *rs) {
    for (size_t i = 0; i < rs->count; i++) free(rs->ids[i]);
    free(rs->ids);
    free(rs->from);
    memset(rs, 0, sizeof *rs);
}

int pl_resume_load(pl_resume *rs, const char *out, FILE *copy_to, plume_error *err) {
    memset(rs, 0, sizeof *rs);
    char *partial = pl_partial_path(out);
    if (!partial) return plume_fail(err, "out of memory");
    FILE *f = fopen(partial, "rb");
    if (f) {
        rs->from = partial;
        rs->from_partial = 1;
    } else {
        free(partial);
        if (!(f = fopen(out, "rb"))) return errno == ENOENT ? 0 : plume_fail(err, "%s: cannot read it to resume: %s", out, strerror(errno));
        if (!(rs->from = pl_strdup(out))) return fclose(f), plume_fail(err, "out of memory");
    }
    plume_line_reader lines;
    plume_line_attach(&lines, f, rs->from, PL_RESULT_LINE_MAX);
    char *line;
    size_t len, cap_ids = 0;
    int rc = 0, got;
    while ((got = plume_line_next(&lines, &line, &len, err)) != 0) {
        if (got < 0) {
            rc = -1;
            break;
        }
        /* a last line without its newline was cut short: it and anything after are redone */
        if (line[len - 1] != '\n') break;
        json_error_t je;
        json_t *o = json_loadb(line, len, 0, &je);
        if (!json_is_object(o)) {
            json_decref(o);
            rc = plume_fail(err, "%s:%zu: not a result line (%s); the file is not plume's output, so --resume "
                            "cannot use it", rs->from, rs->count + 1, o ? "not an object" : je.text);
            break;
        }
        char *id = id_of(o);
        json_decref(o);
        if (rs->count == cap_ids) {
            size_t n = cap_ids ? cap_ids * 2 : 256;
            char **p = n <= PL_RESUME_MAX_LINES ? realloc(rs->ids, n * sizeof *p) : NULL;
            if (!p) {
                free(id);
                rc = plume_fail(err, "%s: too many result lines to resume from", rs->from);
                break;
            }
            rs->ids = p;
            cap_ids = n;
        }
        rs->ids[rs->count++] = id;   /* NULL: a result whose request had no readable id */
        if (fwrite(line, 1, len, copy_to) != len) {
            rc = plume_fail(err, "cannot copy the earlier results: %s", strerror(errno));
            break;
        }
    }
    plume_line_close(&lines);
    fclose(f);
    if (rc) pl_resume_free(rs);
    return rc;
}

int pl_resume_skip(pl_resume *rs, const char *request, const char *origin, plume_error *err) {
    if (rs->next >= rs->count) return 0;
    json_t *o = json_loads(request, 0, NULL);
    char *id = id_of(o);
    json_decref(o);
    const char *done = rs->ids[rs->next];
    int same = (!id && !done) || (id && done && !strcmp(id, done));
    if (!same) {
        plume_fail(err, "%s: request '%s' does not match result %zu of %s ('%s'): the requests changed since that "
                   "run; run again without --resume", origin, id ? id : "(no id)", rs->next + 1, rs->from,
                   done ? done : "(no id)");
        free(id);
        return -1;
    }
    free(id);
    rs->next++;
    return 1;
}

int pl_resume_finish(pl_resume *rs, const char *data, plume_error *err) {
    if (rs->next < rs->count)
        return plume_fail(err, "%s holds %zu results but %s has only %zu requests: the requests changed since that "
                          "run; run again without --resume", rs->from, rs->count, data, rs->next);
    return 0;
}
