/* Files written whole or not at all (plume_output_file, plume/plume.h): every command that
 * writes a file goes through here, so an interrupted command leaves the previous file, or none. */
#define _GNU_SOURCE  /* O_TMPFILE, linkat */
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "engine.h"

/* The bytes first go to a file with no name (O_TMPFILE, where the file system has it), so that a
 * process that dies (SIGKILL, a crash, SIGTERM's default action) leaves nothing behind: the kernel
 * frees an unnamed file. It gets a name only once complete, just before the rename over the
 * output. Elsewhere a named temporary file (mkstemp) is used, which a killed process leaves. */
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

/* Gives the unnamed file the name o->tmp (a fresh one, as mkstemp picks). 0, or -1 with errno. */
static int name_unnamed(plume_output_file *o) {
    if (!o->anon) return 0;
    char proc[64];
    snprintf(proc, sizeof proc, "/proc/self/fd/%d", fileno(o->f));
    size_t n = strlen(o->tmp);
    for (int tries = 0; tries < 64; tries++) {
        memcpy(o->tmp + n - 6, "XXXXXX", 6);
        int fd = mkstemp(o->tmp);   /* picks a free name; linkat cannot replace it, so it goes again */
        if (fd < 0) return -1;
        close(fd);
        unlink(o->tmp);
        if (linkat(AT_FDCWD, proc, AT_FDCWD, o->tmp, AT_SYMLINK_FOLLOW) == 0) {
            o->anon = 0;
            return 0;
        }
        if (errno != EEXIST) return -1;
    }
    return -1;
}

static void forget(plume_output_file *o) {
    free(o->tmp);
    free(o->path);
    o->tmp = o->path = NULL;
    o->f = NULL;
}

int plume_output_open(plume_output_file *o, const char *path, plume_error *err) {
    memset(o, 0, sizeof *o);
    if (!path || !strcmp(path, "-")) {
        o->f = stdout;
        return 0;
    }
    char *copy = pl_strdup(path);
    size_t n = strlen(path) + 32;
    o->path = pl_strdup(path);
    o->tmp = malloc(n);
    if (!copy || !o->path || !o->tmp) {
        free(copy);
        forget(o);
        return plume_fail(err, "%s: out of memory", path);
    }
    const char *base = strrchr(path, '/') ? strrchr(path, '/') + 1 : path;
    const char *dir = dirname(copy);
    snprintf(o->tmp, n, "%s/.%s.XXXXXX", dir, base);
    int fd = open_unnamed(dir);
    if (fd >= 0) o->anon = 1;
    else fd = mkstemp(o->tmp);
    if (fd < 0) {
        plume_fail(err, "%s: cannot create a temporary file in %s: %s; does the folder exist, and is it writable?",
                   path, dir, strerror(errno));
        free(copy);
        forget(o);
        return -1;
    }
    free(copy);
    fchmod(fd, 0644);   /* mkstemp makes 0600; outputs are for everyone to read, as fopen makes them */
    if (!(o->f = fdopen(fd, "w"))) {
        int e = errno;
        close(fd);
        if (!o->anon) unlink(o->tmp);
        forget(o);
        return plume_fail(err, "%s: cannot open the output: %s", path, strerror(e));
    }
    return 0;
}

void plume_output_abort(plume_output_file *o) {
    if (!o->f) return;
    if (!o->tmp) {   /* standard output: what is written is written */
        fflush(o->f);
        o->f = NULL;
        return;
    }
    fclose(o->f);
    if (!o->anon) unlink(o->tmp);
    forget(o);
}

/* The test hook of plume/plume.h: stop here, before the last bytes reach the file, when the
 * output's path ends with the hook's value. */
static void stop_for_test(const char *path) {
    const char *hook = getenv("PLUME_TEST_STOP_BEFORE_COMMIT");
    size_t n = hook ? strlen(hook) : 0, len = path ? strlen(path) : 0;
    if (n && len >= n && !strcmp(path + len - n, hook)) raise(SIGSTOP);
}

int pl_output_move(plume_output_file *o, const char *to) {
    if (!o->tmp) return fflush(o->f) ? -1 : 0;
    char *name = pl_strdup(to);
    if (!name) return -1;
    if (fflush(o->f) || fsync(fileno(o->f)) || name_unnamed(o) || rename(o->tmp, to)) {
        int e = errno;
        free(name);
        errno = e;
        return -1;
    }
    free(o->tmp);
    o->tmp = name;
    return 0;
}

/* On failure errno holds the cause (the message is in err). */
int plume_output_commit(plume_output_file *o, plume_error *err) {
    if (!o->f) return plume_fail(err, "internal error: committing an output that is not open");
    stop_for_test(o->path);
    if (!o->tmp) {
        int bad = fflush(o->f) || ferror(o->f);
        o->f = NULL;
        return bad ? plume_fail(err, "cannot write to standard output: %s", strerror(errno)) : 0;
    }
    if (ferror(o->f) || fflush(o->f) || fsync(fileno(o->f)) || name_unnamed(o)) {
        int e = errno ? errno : EIO;
        plume_fail(err, "%s: cannot write it: %s (is the disk full or the folder read-only?)", o->path, strerror(e));
        plume_output_abort(o);
        errno = e;   /* for callers that word the message their own way */
        return -1;
    }
    int bad = fclose(o->f) != 0;
    o->f = NULL;
    if (bad || rename(o->tmp, o->path)) {
        int e = errno;
        plume_fail(err, "%s: cannot %s: %s", o->path, bad ? "write it" : "replace it", strerror(e));
        unlink(o->tmp);
        forget(o);
        errno = e;
        return -1;
    }
    /* the rename itself must reach the disk too */
    char *dir = o->path;
    o->path = NULL;
    int dfd = open(dirname(dir), O_RDONLY);
    if (dfd >= 0) {
        fsync(dfd);
        close(dfd);
    }
    free(dir);
    forget(o);
    return 0;
}
