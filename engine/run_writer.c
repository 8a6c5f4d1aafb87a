/* Writing the results file atomically: the lines go to a temporary file beside the output,
 * which replaces the output (rename) only once complete and on the disk. An interrupted run
 * keeps its whole lines in OUT.partial; a checkpointed one (a shard of an MPI job) writes
 * OUT.partial as it goes, so a process that dies leaves its results for --resume. */
#define _GNU_SOURCE  /* O_TMPFILE, linkat */
#include <errno.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <fcntl.h>
#include <sys/stat.h>
#include "engine.h"

/* The results are first written to a file with no name (O_TMPFILE, where the file system has
 * it), so that a process that dies (a stage that crashes, SIGKILL) leaves nothing behind: the
 * kernel frees an unnamed file. It gets its temporary name only once complete, just before the
 * rename over the output. Elsewhere a named temporary file (mkstemp) is used. */
static int open_unnamed(const char *dir) {
#ifdef O_TMPFILE
    if (access("/proc/self/fd", X_OK)) return -1;   /* naming it later goes through /proc */
    return open(dir, O_TMPFILE | O_WRONLY | O_CLOEXEC, 0644);
#else
    (void)dir;
    errno = EOPNOTSUPP;
    return -1;
#endif
}

/* Gives the unnamed file the name w->tmp (a fresh one, as mkstemp picks). 0, or -1 with errno. */
static int name_unnamed(pl_writer *w) {
    if (!w->anon) return 0;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(w->f));
    size_t n = strlen(w->tmp);
    for (int tries = 0; tries < 64; tries++) {
        memcpy(w->tmp + n - 6, "XXXXXX", 6);
        int fd = mkstemp(w->tmp);   /* picks a free name; linkat cannot replace it, so it goes again */
        if (fd < 0) return -1;
        close(fd);
        unlink(w->tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, w->tmp, AT_SYMLINK_FOLLOW) == 0) {
            w->anon = 0;
            return 0;
        }
        if (errno != EEXIST) return -1;
    }
    return -1;
}

int pl_writer_open(pl_writer *w, const char *path, plume_error *err) {
    memset(w, 0, sizeof *w);
    if (!path) {
        w->f = stdout;
        return 0;
    }
    w->path = path;
    char *copy = pl_strdup(path);
    if (!copy) return plume_fail(err, "out of memory");
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    size_t n = strlen(path) + 32;
    w->tmp = malloc(n);
    if (!w->tmp) return free(copy), plume_fail(err, "out of memory");
    const char *dir = dirname(copy);
    snprintf(w->tmp, n, "%s/.%s.XXXXXX", dir, base);
    int fd = open_unnamed(dir);
    if (fd >= 0) w->anon = 1;
    else fd = mkstemp(w->tmp);
    if (fd < 0) {
        plume_fail(err, "%s: cannot create a temporary file in %s: %s; does the folder exist, and is it writable?",
                   path, dir, strerror(errno));
        free(copy);
        free(w->tmp);
        w->tmp = NULL;
        return -1;
    }
    free(copy);
    fchmod(fd, 0644);
    if (!(w->f = fdopen(fd, "w"))) {
        close(fd);
        if (!w->anon) unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
        return plume_fail(err, "%s: cannot open the output: %s", path, strerror(errno));
    }
    return 0;
}

/* Nothing half-written is left: the temporary file goes, the old output stays. */
void pl_writer_abort(pl_writer *w) {
    if (!w->tmp) return;
    if (w->published) {   /* a checkpointed shard: its whole lines stay, for --resume */
        fflush(w->f);
        fsync(fileno(w->f));
        fclose(w->f);
        w->f = NULL;
        free(w->tmp);
        w->tmp = NULL;
        return;
    }
    fclose(w->f);
    if (!w->anon) unlink(w->tmp);
    free(w->tmp);
    w->tmp = NULL;
}

/* An interrupted run: the whole lines written so far go to OUT.partial (for --resume), the
 * output itself stays as it was. Returns 0, or -1 (then nothing is kept). */
int pl_writer_keep_partial(pl_writer *w, const char *partial) {
    if (!w->tmp) return fflush(w->f) ? -1 : 0;
    if (fflush(w->f) || fsync(fileno(w->f)) || name_unnamed(w)) {
        pl_writer_abort(w);
        return -1;
    }
    int bad = fclose(w->f) != 0;
    w->f = NULL;
    if (bad || rename(w->tmp, partial)) {
        unlink(w->tmp);
        bad = 1;
    }
    free(w->tmp);
    w->tmp = NULL;
    return bad ? -1 : 0;
}

int pl_writer_commit(pl_writer *w, plume_error *err) {
    if (!w->tmp) return fflush(w->f) ? plume_fail(err, "cannot write the results: %s", strerror(errno)) : 0;
    if (fflush(w->f) || fsync(fileno(w->f)) || name_unnamed(w)) {
        plume_fail(err, "%s: cannot write the results: %s", w->path, strerror(errno));
        pl_writer_abort(w);
        return -1;
    }
    if (fclose(w->f)) {
        w->f = NULL;
        unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
        return plume_fail(err, "%s: cannot write the results: %s", w->path, strerror(errno));
    }
    if (rename(w->tmp, w->path)) {
        plume_fail(err, "%s: cannot replace it with the results: %s", w->path, strerror(errno));
        unlink(w->tmp);
        free(w->tmp);
        w->tmp = NULL;
        return -1;
    }
    free(w->tmp);
    w->tmp = NULL;
    /* the rename itself must reach the disk too */
    char *copy = pl_strdup(w->path);
    if (copy) {
        int dfd = open(dirname(copy), O_RDONLY);
        if (dfd >= 0) {
            fsync(dfd);
            close(dfd);
        }
        free(copy);
    }
    return 0;
}


/* Checkpoint mode: the file (with any lines copied from an earlier run) gets the name
 * `partial` at once and keeps it while the run goes on; pl_writer_sync after each batch puts
 * the new lines on the disk. pl_writer_commit then renames it to the output. */
int pl_writer_publish(pl_writer *w, const char *partial, plume_error *err) {
    if (!w->tmp) return plume_fail(err, "checkpointing needs an output file (--out)");
    char *name = pl_strdup(partial);
    if (!name) return plume_fail(err, "out of memory");
    if (fflush(w->f) || fsync(fileno(w->f)) || name_unnamed(w) || rename(w->tmp, partial)) {
        int e = errno;
        free(name);
        return plume_fail(err, "%s: cannot create it: %s", partial, strerror(e));
    }
    free(w->tmp);
    w->tmp = name;
    w->published = 1;
    return 0;
}

int pl_writer_sync(pl_writer *w, plume_error *err) {
    if (fflush(w->f) || (w->published && fdatasync(fileno(w->f))))
        return plume_fail(err, "%s: cannot write the results: %s", w->tmp ? w->tmp : "stdout", strerror(errno));
    return 0;
}
