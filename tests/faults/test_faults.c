/* Faults, each as a user meets it through `plume`: a stage that fails or crashes inside a run,
 * Ctrl-C and --resume, a module missing a symbol or built for another ABI, a model that does not
 * exist, the output disk full or read-only. The invariant throughout: the results file is either
 * the old one or complete, never half-written, and nothing else is left beside it. */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <jansson.h>
#include "check.h"
#include "test_env.h"
#include "test_files.h"
#include "plume/plume.h"

/* Paths here are short (a /tmp folder, the build tree); messages are built in big buffers. */
#pragma GCC diagnostic ignored "-Wformat-truncation"

static char dir[256], plume_bin[1024], requests[1024], errlog[1024];

static const char *in_dir(int k, const char *name) {
    static char paths[8][512];
    snprintf(paths[k], sizeof paths[k], "%s/%s", dir, name);
    return paths[k];
}

/* Runs plume with ARGS (NULL-terminated, without the program), stderr to errlog; an output
 * size limit (RLIMIT_FSIZE, SIGXFSZ ignored: writes fail with EFBIG) when fsize > 0.
 * Returns the wait status; *err gets stderr (caller frees). */
static int plume(long fsize, char **err, ...) {
    char *argv[32];
    int n = 0;
    argv[n++] = plume_bin;
    va_list ap;
    va_start(ap, err);
    const char *a;
    while ((a = va_arg(ap, const char *)) && n < 31) argv[n++] = (char *)a;
    va_end(ap);
    argv[n] = NULL;
    fflush(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        int fd = open(errlog, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (fd < 0 || dup2(fd, 2) < 0) _exit(125);
        int null = open("/dev/null", O_WRONLY);
        if (null >= 0) dup2(null, 1);
        if (fsize > 0) {
            signal(SIGXFSZ, SIG_IGN);
            struct rlimit rl = { (rlim_t)fsize, (rlim_t)fsize };
            if (setrlimit(RLIMIT_FSIZE, &rl)) _exit(125);
        }
        execv(plume_bin, argv);
        _exit(126);
    }
    int status = -1;
    waitpid(pid, &status, 0);
    if (err) *err = read_file(errlog);
    return status;
}

static int exit_code(int status) { return WIFEXITED(status) ? WEXITSTATUS(status) : -1; }

/* The lines of a results file as JSON objects; checks each is whole. */
static size_t result_lines(const char *text, json_t **out, size_t max) {
    size_t n = 0;
    for (const char *p = text; p && *p && n < max;) {
        const char *nl = strchr(p, '\n');
        CHECK_MSG(nl != NULL, "a result line without its newline: %s", p);
        if (!nl) break;
        json_error_t je;
        out[n] = json_loadb(p, (size_t)(nl - p), 0, &je);
        CHECK_MSG(json_is_object(out[n]), "not a JSON object: %.*s", (int)(nl - p), p);
        n++;
        p = nl + 1;
    }
    return n;
}

static const char *id_of(json_t *o) { return json_string_value(json_object_get(o, "id")); }

static void free_lines(json_t **lines, size_t n) {
    for (size_t i = 0; i < n; i++) json_decref(lines[i]);
}

/* The requests' ids, in order. */
static size_t request_ids(char ids[][32], size_t max) {
    char *text = read_file(requests);
    size_t n = 0;
    for (char *line = strtok(text, "\n"); line && n < max; line = strtok(NULL, "\n")) {
        json_t *o = json_loads(line, 0, NULL);
        snprintf(ids[n++], 32, "%s", json_string_value(json_object_get(o, "id")));
        json_decref(o);
    }
    free(text);
    return n;
}

/* ---- a stage that returns an error inside run: its records are marked, the rest complete ---- */
static void test_stage_error(void) {
    const char *graph = in_dir(0, "error.yaml"), *out = in_dir(1, "error.jsonl");
    write_file(graph, "plume: 1\nstages:\n  e: { use: fault.error, in: { text: context }, out: { text: ctx }, "
                      "with: { word: yeast } }\noutput: [ctx]\n");
    char *err = NULL;
    int st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "1", "--no-progress", NULL);
    CHECK_MSG(exit_code(st) == 1, "status %d: %s", st, err);   /* 1: some records failed */
    free(err);
    char ids[64][32];
    size_t n_req = request_ids(ids, 64);
    char *text = read_file(out);
    json_t *lines[64];
    size_t n = result_lines(text, lines, 64);
    CHECK(n == n_req && n == 15);
    size_t failed = 0;
    for (size_t i = 0; i < n && i < n_req; i++) {
        CHECK_STR(id_of(lines[i]), ids[i]);
        const char *e = json_string_value(json_object_get(lines[i], "error"));
        const char *ctx = json_string_value(json_object_get(lines[i], "ctx"));
        if (e) {
            failed++;
            char want[256];
            snprintf(want, sizeof want, "stage 'e': record %s holds 'yeast', so the whole batch fails", ids[i]);
            CHECK_STR(e, want);
        } else {
            CHECK(ctx && !strstr(ctx, "yeast"));
        }
    }
    CHECK(failed == 6);   /* beer-2 and beer-3 ask about yeast, three times each */
    free_lines(lines, n);
    free(text);
}

/* ---- a stage that crashes: the old file stays; the finished batches are kept for --resume ---- */
static void test_stage_crash(void) {
    const char *graph = in_dir(0, "crash.yaml"), *out = in_dir(1, "crash.jsonl"), *ref = in_dir(2, "crash-ref.jsonl");
    const char *partial = in_dir(3, "crash.jsonl.partial");
    write_file(graph, "plume: 1\nstages:\n  c: { use: fault.crash, in: { text: context }, out: { text: ctx }, "
                      "with: { word: lactose } }\noutput: [ctx]\n");
    write_file(out, "OLD RESULTS\n");
    int entries = count_entries(dir);
    char *err = NULL;
    int st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", NULL);
    /* killed by SIGSEGV, after saying what crashed where: request 5 (beer-5, "lactose") is in batch 3 */
    CHECK_MSG(WIFSIGNALED(st) && WTERMSIG(st) == SIGSEGV, "status %d: %s", st, err);
    char want[2048], module[PATH_MAX];
    CHECK(realpath(TEST_FAULT_DIR "/fault.so", module) != NULL);
    snprintf(want, sizeof want, "plume: stage 'c' (fault.crash from %s) crashed in run() with SIGSEGV, a bad memory "
             "access, on batch 3 (requests %s:5 to %s:6).\n", module, requests, requests);
    CHECK_MSG(err && strstr(err, want), "stderr: %s\nwanted: %s", err ? err : "(none)", want);
    snprintf(want, sizeof want, "plume: the output file was left as it was; the 4 results of the batches finished "
             "before it are in %s: fix or replace the stage, then run again with --resume to finish.\n", partial);
    CHECK_MSG(err && strstr(err, want), "stderr: %s\nwanted: %s", err ? err : "(none)", want);
    free(err);
    char *text = read_file(out);
    CHECK_STR(text, "OLD RESULTS\n");
    free(text);
    CHECK(count_entries(dir) == entries + 1);   /* OUT.partial, and no temporary file */
    /* the kept lines are the first two batches exactly as a run without the crash writes them */
    st = plume(0, &err, "run", graph, "--data", requests, "--out", ref, "--batch", "2", "--no-progress", "--set",
               "c.word=nowhere", NULL);
    CHECK_MSG(exit_code(st) == 0, "%s", err);
    free(err);
    char *full = read_file(ref), *kept = read_file(partial);
    const char *cut = full;
    for (int k = 0; k < 4 && cut && (cut = strchr(cut, '\n')); k++) cut++;
    CHECK(full && kept && cut && strlen(kept) == (size_t)(cut - full) && !strncmp(kept, full, strlen(kept)));
    free(kept);
    /* --resume with the stage fixed completes the file as if nothing had happened */
    st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", "--set",
               "c.word=nowhere", "--resume", NULL);
    CHECK_MSG(exit_code(st) == 0, "%s", err);
    free(err);
    text = read_file(out);
    CHECK_STR(text, full);
    free(text);
    free(full);
    CHECK(access(partial, F_OK) != 0);
    remove(ref);
}

/* ---- Ctrl-C, then --resume: the final results equal an uninterrupted run's ---- */
static void test_interrupt_resume(void) {
    const char *graph = in_dir(0, "sig.yaml"), *out = in_dir(1, "sig.jsonl"), *ref = in_dir(2, "ref.jsonl");
    const char *partial = in_dir(3, "sig.jsonl.partial");
    write_file(graph, "plume: 1\nstages:\n  sig: { use: fault.signal, in: { text: context }, out: { text: ctx }, "
                      "with: { at_batch: 3 } }\noutput: [ctx, user]\n");
    char *err = NULL;
    int st = plume(0, &err, "run", graph, "--data", requests, "--out", ref, "--batch", "2", "--no-progress", "--set",
                   "sig.at_batch=0", NULL);
    CHECK_MSG(exit_code(st) == 0, "%s", err);
    free(err);
    char *want = read_file(ref);

    int entries = count_entries(dir);
    st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", NULL);
    CHECK_MSG(exit_code(st) == 130, "status %d: %s", st, err);
    char msg[1024];
    snprintf(msg, sizeof msg, "plume: interrupted after 6 records; the output file was left as it was, and the 6 "
             "results so far are in %s: run again with --resume to finish\n", partial);
    CHECK_STR(err, msg);
    free(err);
    CHECK(access(out, F_OK) != 0);                 /* no results file: the run did not finish */
    CHECK(count_entries(dir) == entries + 1);      /* only OUT.partial */
    char *got = read_file(partial);
    /* whole lines: exactly the first three batches of the uninterrupted run */
    const char *p = want;
    for (int k = 0; k < 6 && p; k++) p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL;
    CHECK(got && p && strlen(got) == (size_t)(p - want) && !strncmp(got, want, (size_t)(p - want)));
    free(got);

    st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", "--resume", "--set",
               "sig.at_batch=0", NULL);
    CHECK_MSG(exit_code(st) == 0, "status %d: %s", st, err);
    CHECK(err && strstr(err, "plume: 6 earlier results kept\n"));
    free(err);
    got = read_file(out);
    CHECK_STR(got, want);
    free(got);
    CHECK(access(partial, F_OK) != 0);             /* the partial results went into OUT */

    /* A partial file cut inside a line (as by a crash or a full disk elsewhere): the cut line is redone. */
    remove(out);
    size_t cut = (size_t)(strchr(strchr(want, '\n') + 1, '\n') - want) + 10;   /* two lines and 10 bytes */
    FILE *f = fopen(partial, "wb");
    fwrite(want, 1, cut, f);
    fclose(f);
    st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", "--resume", "--set",
               "sig.at_batch=0", NULL);
    CHECK_MSG(exit_code(st) == 0 && strstr(err, "2 earlier results kept"), "status %d: %s", st, err);
    free(err);
    got = read_file(out);
    CHECK_STR(got, want);
    free(got);

    /* Results that do not belong to these requests: refused, nothing changed. */
    write_file(partial, "{\"id\":\"beer-2\",\"ctx\":\"x\",\"user\":\"bob\"}\n");
    st = plume(0, &err, "run", graph, "--data", requests, "--out", out, "--batch", "2", "--no-progress", "--resume", NULL);
    snprintf(msg, sizeof msg, "plume: %s:1: request 'beer-1' does not match result 1 of %s ('beer-2'): the requests "
             "changed since that run; run again without --resume\n", requests, partial);
    CHECK(exit_code(st) == 1);
    CHECK_STR(err, msg);
    free(err);
    got = read_file(out);
    CHECK_STR(got, want);
    free(got);
    CHECK(access(partial, F_OK) == 0);

    /* More results than requests. */
    const char *two = in_dir(4, "two.jsonl");
    char *all = read_file(requests);
    *(strchr(strchr(all, '\n') + 1, '\n') + 1) = '\0';
    write_file(two, all);
    free(all);
    remove(partial);
    st = plume(0, &err, "run", graph, "--data", two, "--out", out, "--resume", "--no-progress", NULL);
    snprintf(msg, sizeof msg, "plume: %s holds 15 results but %s has only 2 requests: the requests changed since "
             "that run; run again without --resume\n", out, two);
    CHECK(exit_code(st) == 1);
    CHECK_STR(err, msg);
    free(err);

    /* --resume without --out */
    st = plume(0, &err, "run", graph, "--data", two, "--resume", NULL);
    CHECK(exit_code(st) == 2 && err && strstr(err, "--resume needs --out"));
    free(err);
    remove(out);
    remove(ref);
    free(want);
}

/* ---- modules that cannot load ---- */
static void test_bad_modules(void) {
    plume_error err;
    plume_registry *reg = plume_registry_new(&err);
    char path[1200];
    snprintf(path, sizeof path, "%s/undefined.so", TEST_UNDEFINED_DIR);
    CHECK(plume_registry_load(reg, path, &err) == -1);
    CHECK_MSG(strstr(err.msg, path) && strstr(err.msg, "undefined symbol: plume_fault_no_such_function"), "%s",
              err.msg);

    /* Built for another ABI: the same module marked as a 32-bit ELF file. */
    char *so = NULL;
    snprintf(path, sizeof path, "%s/fault.so", TEST_FAULT_DIR);
    FILE *f = fopen(path, "rb");
    CHECK(f != NULL);
    if (f) {
        fseek(f, 0, SEEK_END);
        long n = ftell(f);
        fseek(f, 0, SEEK_SET);
        so = malloc((size_t)n);
        CHECK(fread(so, 1, (size_t)n, f) == (size_t)n);
        fclose(f);
        so[4] = 1;   /* EI_CLASS: ELFCLASS32 */
        const char *other = in_dir(0, "elf32.so");
        f = fopen(other, "wb");
        fwrite(so, 1, (size_t)n, f);
        fclose(f);
        free(so);
        CHECK(plume_registry_load(reg, other, &err) == -1);
        CHECK_MSG(strstr(err.msg, other) && strstr(err.msg, "wrong ELF class: ELFCLASS32"), "%s", err.msg);
        remove(other);
    }
    plume_registry_close(reg);

    /* In a module folder, a module that does not load is listed; the others still load. */
    char both[2400];
    snprintf(both, sizeof both, "%s:%s", TEST_UNDEFINED_DIR, TEST_FAULT_DIR);
    setenv("PLUME_MODULE_PATH", both, 1);
    reg = plume_registry_open(&err);
    CHECK(reg && plume_registry_find(reg, "fault.crash", NULL) && plume_registry_find(reg, "text.join", NULL));
    CHECK(reg && plume_registry_problem_count(reg) == 1 &&
          strstr(plume_registry_problem(reg, 0), "plume_fault_no_such_function"));
    plume_registry_close(reg);
    setenv("PLUME_MODULE_PATH", TEST_FAULT_DIR, 1);
}

/* ---- a graph naming a model that does not exist ---- */
static void test_missing_model(void) {
    const char *graph = in_dir(0, "model.yaml");
    write_file(graph, "plume: 1\nmodels:\n  big: { path: no-such-model.gguf }\nstages:\n"
                      "  e: { use: fault.error, in: { text: context }, out: { text: ctx }, with: { word: x } }\n");
    char *err = NULL;
    int st = plume(0, &err, "check", graph, NULL);
    char want[1024];
    snprintf(want, sizeof want, "%s:3:16: model 'big': file 'no-such-model.gguf' does not exist", graph);
    CHECK_MSG(exit_code(st) == 1 && err && strstr(err, want), "status %d: %s", st, err);
    free(err);
}

/* ---- the output disk full, or read-only ---- */
static void test_disk(void) {
    const char *graph = in_dir(0, "big.yaml"), *out = in_dir(1, "full.jsonl"), *many = in_dir(2, "many.jsonl");
    write_file(graph, "plume: 1\nstages:\n  e: { use: fault.error, in: { text: context }, out: { text: ctx }, "
                      "with: { word: \"never in a request\" } }\noutput: [ctx, profile, target]\n");
    /* 40 copies of the requests: about 200 kB of results */
    char *one = read_file(requests);
    FILE *f = fopen(many, "wb");
    for (int i = 0; i < 40; i++) fputs(one, f);
    fclose(f);
    free(one);
    write_file(out, "OLD RESULTS\n");
    int entries = count_entries(dir);

    /* A file size limit stands for a full disk: writes fail with EFBIG instead of ENOSPC. */
    char *err = NULL;
    int st = plume(65536, &err, "run", graph, "--data", many, "--out", out, "--no-progress", NULL);
    CHECK_MSG(exit_code(st) == 1 && err && strstr(err, "cannot write the results: File too large"), "status %d: %s",
              st, err);
    free(err);
    char *text = read_file(out);
    CHECK_STR(text, "OLD RESULTS\n");
    free(text);
    CHECK(count_entries(dir) == entries);

    /* A real full disk and a read-only one: a 64 kB tmpfs, in a mount namespace of our own (as
     * root, where unshare is allowed; elsewhere these two are skipped, and say so). */
    if (system("unshare -m true 2>/dev/null") != 0) {
        fprintf(stderr, "test_disk: unshare -m is not permitted here: tmpfs and read-only checks skipped\n");
        return;
    }
    const char *mnt = in_dir(3, "mnt");
    mkdir(mnt, 0755);
    char cmd[8192], *log = (char *)in_dir(4, "disk.log");
    snprintf(cmd, sizeof cmd,
             "unshare -m sh -c 'mount -t tmpfs -o size=64k plume-full %s && echo OLD > %s/out.jsonl && "
             "%s run %s --data %s --out %s/out.jsonl --no-progress 2>&1; echo \"status $?\"; ls -A %s; cat %s/out.jsonl;"
             "mount -o remount,ro %s && %s run %s --data %s --out %s/out.jsonl --no-progress 2>&1; echo \"status $?\";"
             "ls -A %s; cat %s/out.jsonl' > %s 2>&1",
             mnt, mnt, plume_bin, graph, many, mnt, mnt, mnt, mnt, plume_bin, graph, requests, mnt, mnt, mnt, log);
    CHECK(system(cmd) == 0);
    text = read_file(log);
    char want[4096];
    snprintf(want, sizeof want,
             "plume: %s/out.jsonl: cannot write the results: No space left on device\nstatus 1\nout.jsonl\nOLD\n"
             "plume: %s/out.jsonl: cannot create a temporary file in %s: Read-only file system; does the folder "
             "exist, and is it writable?\nstatus 1\nout.jsonl\nOLD\n", mnt, mnt, mnt);
    CHECK_STR(text, want);
    free(text);
    rmdir(mnt);
    remove(log);
}

int main(void) {
    const char *build = ctest_env("PLUME_BUILD_DIR"), *data = ctest_env("PLUME_TEST_DATA");
    snprintf(plume_bin, sizeof plume_bin, "%s/bin/plume", build);
    snprintf(requests, sizeof requests, "%s/requests.jsonl", data);
    make_test_dir(dir, sizeof dir, "plume-faults");
    snprintf(errlog, sizeof errlog, "%s.stderr", dir);
    setenv("PLUME_MODULE_PATH", TEST_FAULT_DIR, 1);
    test_stage_error();
    test_stage_crash();
    test_interrupt_resume();
    test_bad_modules();
    test_missing_model();
    test_disk();
    remove_tree(dir);
    remove(errlog);
    return check_finish("test_faults");
}
