#define _GNU_SOURCE  /* linkat's AT_SYMLINK_FOLLOW, sigaltstack */
/* Crash reports: a stage that crashes (SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT) while plume
 * starts or runs a graph is named, with its module file and the batch it was given, and the
 * result lines of the batches finished before it are kept in OUT.partial, as Ctrl-C keeps them,
 * so that `plume run --resume` finishes the file once the stage is fixed. The process then dies
 * of the same signal (exit status 128 + signal, a core dump where enabled), as it would have.
 *
 * Why a signal handler, and not each third-party stage in a child process: a stage works on
 * records in place (plume_batch_in/out hand it the run's own values) and may share the device
 * and the loaded models with the other stages. Isolating it would mean copying every batch's
 * slots through a pipe or shared memory both ways, and a second Vulkan device and a second copy
 * of each model per isolated stage; a stage's speed and memory would change with where it was
 * loaded from. A crash is a bug to fix, not a state to go on from: what the user needs is what
 * crashed and the finished work kept, which the handler gives without any cost to a run that
 * does not crash.
 *
 * What makes it safe inside a crashed process: the handler calls only async-signal-safe
 * functions (write, fsync, linkat, rename, unlink, sigaction, raise) and reads only what was
 * prepared before: the node each thread is in (thread-local, set before every call into a
 * stage), the batch's first and last request (their "FILE:LINE" strings, alive during the
 * batch), and the results file's descriptor and paths. The results are flushed (fflush) after
 * every batch, so the file on the disk holds exactly the whole lines of the finished batches
 * whatever state the stdio buffer of a crashed process is in. The handler runs on an
 * alternate stack, so a stage that overflows its stack is reported too. */
#include <fcntl.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include "engine.h"

#define ALT_STACK_SIZE (64 * 1024)

static const int guarded_signals[] = { SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT };
#define N_SIGNALS (sizeof guarded_signals / sizeof guarded_signals[0])

static atomic_int reports_on;                 /* plume_set_crash_reports */
static atomic_int armed;
static const plume_graph *guarded;            /* the graph being started or run, while armed */
static struct sigaction previous[N_SIGNALS];
static void *main_alt_stack;
static stack_t main_alt_previous;

/* which stage the thread is in, and where in its life */
static _Thread_local int current_node = -1;
static _Thread_local int current_phase;
static atomic_int last_node = -1;             /* the stage entered last by any thread */
static atomic_int inside;                     /* calls into stages in progress, all threads */

/* the batch */
static atomic_size_t batch_number;            /* 1-based; 0: before the first */
static const char *_Atomic batch_from, *_Atomic batch_to;

/* the results file */
static atomic_int out_ready;
static int out_fd = -1, out_anon, out_published;
static char out_tmp[PATH_MAX], out_partial[PATH_MAX + 16], out_link[PATH_MAX + 32], out_proc[64];
static atomic_size_t out_kept;                /* whole lines on the disk (flushed) */
static atomic_int out_is_stdout;

static atomic_flag handling = ATOMIC_FLAG_INIT;

void plume_set_crash_reports(int on) {
    atomic_store(&reports_on, on != 0);
}

/* ---- what the engine tells the guard ---- */

void pl_crash_enter(int node, int phase) {
    current_node = node;
    current_phase = phase;
    atomic_store(&last_node, node);
    atomic_fetch_add(&inside, 1);
}

void pl_crash_leave(void) {
    current_node = -1;
    atomic_fetch_sub(&inside, 1);
}

void pl_crash_batch(size_t number, const char *first_request, const char *last_request) {
    atomic_store(&batch_from, first_request);
    atomic_store(&batch_to, last_request);
    atomic_store(&batch_number, number);
}

void pl_crash_results(const pl_writer *w, const char *partial) {
    atomic_store(&out_ready, 0);
    if (!w || !w->f) return;
    if (!w->path) {
        atomic_store(&out_is_stdout, 1);
        return;
    }
    atomic_store(&out_is_stdout, 0);
    out_fd = fileno(w->f);
    out_anon = w->out.anon;
    out_published = w->published;
    size_t n = strlen(partial);
    const char *tmp = w->out.tmp;   /* the temporary file's name, or (published) OUT.partial */
    if (!tmp || strlen(tmp) >= sizeof out_tmp || n >= sizeof out_partial) return;
    memcpy(out_tmp, tmp, strlen(tmp) + 1);
    memcpy(out_partial, partial, n + 1);
    /* an unnamed file (O_TMPFILE) is named through /proc at the crash: link to a fresh name beside
     * the output (linkat cannot replace), then rename it over OUT.partial */
    memcpy(out_link, out_tmp, strlen(out_tmp) + 1);
    char pid[24];
    int k = (int)sizeof pid;
    pid[--k] = '\0';
    for (long p = (long)getpid(); p > 0 && k > 0; p /= 10) pid[--k] = (char)('0' + p % 10);
    strcat(out_link, ".crash-");
    strcat(out_link, pid + k);
    strcpy(out_proc, "/proc/self/fd/");
    char fd[16];
    k = (int)sizeof fd;
    fd[--k] = '\0';
    int v = out_fd;
    do fd[--k] = (char)('0' + v % 10); while ((v /= 10) > 0 && k > 0);
    strcat(out_proc, fd + k);
    atomic_store(&out_ready, 1);
}

void pl_crash_kept(size_t lines) {
    atomic_store(&out_kept, lines);
}

/* ---- the handler: async-signal-safe calls only ---- */

typedef struct text {
    char buf[3 * PATH_MAX + 1024];
    size_t len;
} text;

static void put(text *t, const char *s) {
    for (; s && *s && t->len + 1 < sizeof t->buf; s++) t->buf[t->len++] = *s;
}

static void put_number(text *t, size_t v) {
    char d[24];
    int k = (int)sizeof d;
    d[--k] = '\0';
    do d[--k] = (char)('0' + v % 10); while ((v /= 10) > 0 && k > 0);
    put(t, d + k);
}

static const char *signal_words(int sig) {
    switch (sig) {
    case SIGSEGV: return "SIGSEGV, a bad memory access";
    case SIGBUS: return "SIGBUS, a bad memory access";
    case SIGFPE: return "SIGFPE, an arithmetic fault such as an integer division by zero";
    case SIGILL: return "SIGILL, an illegal instruction";
    case SIGABRT: return "SIGABRT: abort() was called, or an assertion failed";
    default: return "a signal";
    }
}

/* Names the results file OUT.partial; 1 when it now holds the kept lines. */
static int keep_partial(void) {
    if (out_published) {   /* a checkpoint is OUT.partial already */
        fsync(out_fd);
        return 1;
    }
    if (fsync(out_fd)) return 0;
    if (out_anon) {
        unlink(out_link);
        if (linkat(AT_FDCWD, out_proc, AT_FDCWD, out_link, AT_SYMLINK_FOLLOW)) return 0;
        if (rename(out_link, out_partial)) {
            unlink(out_link);
            return 0;
        }
        return 1;
    }
    return rename(out_tmp, out_partial) == 0;
}

static void on_crash(int sig) {
    if (atomic_flag_test_and_set(&handling)) {
        /* a second thread crashed at the same time: the first one reports and ends the process */
        for (;;) pause();
    }
    static text t;
    t.len = 0;
    if (pl_progress_line_open()) put(&t, "\n");
    const plume_graph *g = guarded;
    int node = current_node, phase = current_phase;
    if (node < 0 && atomic_load(&inside) > 0) {   /* a thread the stage started itself */
        node = atomic_load(&last_node);
        phase = -1;
    }
    if (g && node >= 0 && (size_t)node < g->n_nodes) {
        const pl_node *n = &g->nodes[node];
        put(&t, "plume: stage '");
        put(&t, n->name);
        put(&t, "' (");
        put(&t, n->stage ? n->stage->name : "?");
        put(&t, " from ");
        put(&t, n->module_path ? n->module_path : "?");
        put(&t, ") crashed");
        put(&t, phase == PL_CRASH_CREATE ? " in create()" : phase == PL_CRASH_DESTROY ? " in destroy()"
                : phase == PL_CRASH_RUN ? " in run()" : " (in a thread of its own, while it ran)");
    } else {
        put(&t, "plume crashed outside any stage");
    }
    put(&t, " with ");
    put(&t, signal_words(sig));
    size_t batch = atomic_load(&batch_number);
    const char *from = atomic_load(&batch_from), *to = atomic_load(&batch_to);
    if (phase != PL_CRASH_CREATE && phase != PL_CRASH_DESTROY && batch) {
        put(&t, ", on batch ");
        put_number(&t, batch);
        if (from && to) {
            put(&t, " (requests ");
            put(&t, from);
            put(&t, " to ");
            put(&t, to);
            put(&t, ")");
        }
    }
    put(&t, ".\n");
    if (phase != PL_CRASH_DESTROY && atomic_load(&out_ready)) {
        size_t kept = atomic_load(&out_kept);
        if (kept && keep_partial()) {
            put(&t, "plume: the output file was left as it was; the ");
            put_number(&t, kept);
            put(&t, kept == 1 ? " result" : " results");
            put(&t, " of the batches finished before it are in ");
            put(&t, out_partial);
            put(&t, ": fix or replace the stage, then run again with --resume to finish.\n");
        } else {
            if (!out_anon && !out_published) unlink(out_tmp);
            put(&t, kept ? "plume: the results so far could not be kept; the output file was left as it was.\n"
                         : "plume: no batch had finished; the output file was left as it was.\n");
        }
    } else if (phase != PL_CRASH_DESTROY && atomic_load(&out_is_stdout) && batch > 1) {
        put(&t, "plume: the results of the batches before it were printed above.\n");
    }
    ssize_t unused = write(STDERR_FILENO, t.buf, t.len);
    (void)unused;
    /* die of the same signal: the default action, once this handler returns */
    struct sigaction dfl;
    memset(&dfl, 0, sizeof dfl);
    dfl.sa_handler = SIG_DFL;
    sigaction(sig, &dfl, NULL);
    raise(sig);
}

/* ---- arming ---- */

void *pl_crash_thread_begin(void) {
    if (!atomic_load(&armed)) return NULL;
    stack_t st = { 0 };
    if (!(st.ss_sp = malloc(ALT_STACK_SIZE))) return NULL;
    st.ss_size = ALT_STACK_SIZE;
    if (sigaltstack(&st, NULL)) {
        free(st.ss_sp);
        return NULL;
    }
    return st.ss_sp;
}

void pl_crash_thread_end(void *stack) {
    if (!stack) return;
    stack_t off = { .ss_flags = SS_DISABLE };
    sigaltstack(&off, NULL);
    free(stack);
}

void pl_crash_arm(const plume_graph *g) {
    if (!atomic_load(&reports_on) || atomic_load(&armed)) return;
    guarded = g;
    atomic_store(&batch_number, 0);
    atomic_store(&batch_from, NULL);
    atomic_store(&batch_to, NULL);
    atomic_store(&out_ready, 0);
    atomic_store(&out_is_stdout, 0);
    atomic_store(&out_kept, 0);
    stack_t st = { 0 };
    if ((st.ss_sp = malloc(ALT_STACK_SIZE))) {
        st.ss_size = ALT_STACK_SIZE;
        if (sigaltstack(&st, &main_alt_previous)) {
            free(st.ss_sp);
            st.ss_sp = NULL;
        }
    }
    main_alt_stack = st.ss_sp;
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_crash;
    sa.sa_flags = SA_ONSTACK;
    sigfillset(&sa.sa_mask);
    for (size_t i = 0; i < N_SIGNALS; i++) sigaction(guarded_signals[i], &sa, &previous[i]);
    atomic_store(&armed, 1);
}

void pl_crash_disarm(void) {
    if (!atomic_load(&armed)) return;
    for (size_t i = 0; i < N_SIGNALS; i++) sigaction(guarded_signals[i], &previous[i], NULL);
    atomic_store(&out_ready, 0);
    if (main_alt_stack) {
        sigaltstack(&main_alt_previous, NULL);
        free(main_alt_stack);
        main_alt_stack = NULL;
    }
    guarded = NULL;
    atomic_store(&armed, 0);
}
