/* Writing the results file atomically: the lines go to a temporary file beside the output,
 * which replaces the output (rename) only once complete and on the disk. An interrupted run
 * keeps its whole lines in OUT.partial; a checkpointed one (a shard of an MPI job) writes
 * OUT.partial as it goes, so a process that dies leaves its results for --resume. */
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"

/* The results file is a plume_output_file (output_file.c): unnamed until complete, so a run that
 * dies leaves nothing. What this file adds is the run's own: OUT.partial for --resume. */
int pl_writer_open(pl_writer *w, const char *path, plume_error *err) {
    memset(w, 0, sizeof *w);
    if (plume_output_open(&w->out, path, err)) return -1;
    w->f = w->out.f;
    w->path = path;
    return 0;
}

/* Nothing half-written is left: the temporary file goes, the old output stays. */
void pl_writer_abort(pl_writer *w) {
    if (!w->published) {
        plume_output_abort(&w->out);
        return;
    }
    /* a checkpointed shard, or kept partial results: their whole lines stay, for --resume */
    if (w->out.f) {
        fflush(w->out.f);
        fsync(fileno(w->out.f));
        fclose(w->out.f);
        w->out.f = NULL;
    }
    free(w->out.tmp);
    free(w->out.path);
    w->out.tmp = w->out.path = NULL;
}

/* An interrupted run: the whole lines written so far go to OUT.partial (for --resume), the
 * output itself stays as it was. Returns 0, or -1 (then nothing is kept). */
int pl_writer_keep_partial(pl_writer *w, const char *partial) {
    if (!w->out.tmp) return fflush(w->f) ? -1 : 0;
    if (pl_output_move(&w->out, partial)) {
        pl_writer_abort(w);
        return -1;
    }
    w->published = 1;
    int bad = fclose(w->out.f) != 0;
    w->out.f = NULL;
    if (bad) unlink(partial);
    pl_writer_abort(w);   /* frees the names */
    return bad ? -1 : 0;
}

int pl_writer_commit(pl_writer *w, plume_error *err) {
    if (plume_output_commit(&w->out, err) == 0) return 0;
    int e = errno;
    return w->path ? plume_fail(err, "%s: cannot write the results: %s", w->path, strerror(e))
                   : plume_fail(err, "cannot write the results: %s", strerror(e));
}

/* Checkpoint mode: the file (with any lines copied from an earlier run) gets the name
 * `partial` at once and keeps it while the run goes on; pl_writer_sync after each batch puts
 * the new lines on the disk. pl_writer_commit then renames it to the output. */
int pl_writer_publish(pl_writer *w, const char *partial, plume_error *err) {
    if (!w->out.tmp) return plume_fail(err, "checkpointing needs an output file (--out)");
    if (pl_output_move(&w->out, partial)) return plume_fail(err, "%s: cannot create it: %s", partial, strerror(errno));
    w->published = 1;
    return 0;
}

int pl_writer_sync(pl_writer *w, plume_error *err) {
    if (fflush(w->f) || (w->published && fdatasync(fileno(w->f))))
        return plume_fail(err, "%s: cannot write the results: %s",
                          w->published ? w->out.tmp : w->path ? w->path : "stdout", strerror(errno));
    return 0;
}
