/* Helpers of tests/mpi (mpi_test.h). */
#define _GNU_SOURCE
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>
#include "mpi_test.h"
#include "test_files.h"

static char dir[256], out_log[300];

const char *mt_dir(const char *test) {
    char prefix[64];
    snprintf(prefix, sizeof prefix, "plume-%s", test);
    make_test_dir(dir, sizeof dir, prefix);
    snprintf(out_log, sizeof out_log, "%s/.output", dir);
    return dir;
}

void mt_cleanup(void) {
    if (dir[0]) remove_tree(dir);
}

const char *mt_path(const char *name) {
    static char paths[16][512];
    static int next;
    char *p = paths[next++ % 16];
    snprintf(p, sizeof paths[0], "%s/%s", dir, name);
    return p;
}

const char *mt_plume(void) {
    static char bin[512];
    const char *b = getenv("PLUME_BUILD_DIR");
    snprintf(bin, sizeof bin, "%s/bin/plume", b ? b : ".");
    return bin;
}

void mt_mpi_env(void) {
    setenv("OMPI_ALLOW_RUN_AS_ROOT", "1", 1);           /* CI runs as root */
    setenv("OMPI_ALLOW_RUN_AS_ROOT_CONFIRM", "1", 1);
    setenv("OMPI_MCA_plm", "isolated", 1);              /* one machine: no ssh needed */
    setenv("OMPI_MCA_btl", "self,vader", 1);            /* shared memory only, no network probing */
    setenv("OMPI_MCA_btl_vader_single_copy_mechanism", "none", 1);   /* containers forbid CMA */
    setenv("OMPI_MCA_rmaps_base_oversubscribe", "1", 1);  /* 2 ranks on 1 core is allowed */
    setenv("OMPI_MCA_hwloc_base_binding_policy", "none", 1);   /* lavapipe's threads roam */
}

int mt_run(int limit_s, char **output, const char *const *argv) {
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) return -1;
    if (pid == 0) {
        setpgid(0, 0);
        int fd = open(out_log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0) _exit(125);
        execv(argv[0], (char *const *)argv);
        _exit(126);
    }
    setpgid(pid, pid);
    int status = 0, waited = 0;
    struct timespec tick = { 0, 20 * 1000 * 1000 };
    for (;;) {
        pid_t w = waitpid(pid, &status, WNOHANG);
        if (w == pid) break;
        if (w < 0 && errno != EINTR) return -1;
        if (waited++ > limit_s * 50) {
            fprintf(stderr, "%s: still running after %d s: stopped\n", argv[0], limit_s);
            kill(-pid, SIGKILL);
            waitpid(pid, &status, 0);
            if (output) *output = mt_read(out_log);
            return -1;
        }
        nanosleep(&tick, NULL);
    }
    if (output) *output = mt_read(out_log);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
}

char *mt_read(const char *path) {
    return read_file(path);
}

int mt_write(const char *path, const char *text) {
    FILE *f = fopen(path, "wb");
    if (!f) return -1;
    int bad = fputs(text, f) < 0;
    return fclose(f) || bad ? -1 : 0;
}

size_t mt_lines(const char *text) {
    size_t n = 0;
    for (const char *p = text; p && *p; p++) n += *p == '\n';
    return n;
}

int mt_entries(void) {
    DIR *d = opendir(dir);
    if (!d) return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)))
        if (strcmp(e->d_name, ".") && strcmp(e->d_name, "..") && strcmp(e->d_name, ".output")) n++;
    closedir(d);
    return n;
}
