/* Stages that misbehave on purpose, for tests/faults (built as the module fault.so).
 *   fault.signal  raises a signal (SIGINT: as Ctrl-C) to its own process during the n-th batch
 *   fault.crash   writes to address 64 (SIGSEGV) on a record whose text contains a word
 *   fault.error   returns an error from run() for a batch holding a record with a word
 * Each passes its text through otherwise. */
#include <signal.h>
#include <stdint.h>
#include <string.h>
#include "plume/stage.h"

static const plume_port text_in[] = { { "text", PLUME_TEXT, "any text", 0 }, { 0 } };
static const plume_port text_out[] = { { "text", PLUME_TEXT, "the same text", 0 }, { 0 } };

static void copy_all(plume_batch *b) {
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        plume_value_set_text(plume_batch_out(b, r, 0), in->as.text.str, in->as.text.len);
    }
}

static const char *text_of(plume_batch *b, size_t r) { return plume_batch_in(b, r, 0)->as.text.str; }

/* ---- fault.signal ---- */
typedef struct fsignal { long long at, sig, seen; } fsignal;

static int signal_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    fsignal *s = state;
    s->at = plume_args_int(args, "at_batch");
    s->sig = plume_args_int(args, "signal");
    return 0;
}

static int signal_run(void *state, plume_batch *b, plume_error *err) {
    fsignal *s = state;
    if (++s->seen == s->at) raise((int)s->sig);
    copy_all(b);
    return 0;
}

static const plume_param signal_params[] = {
    { "at_batch", PLUME_INT, "2", "the batch during which the signal is raised (0: never)", PLUME_NO_RANGE },
    { "signal", PLUME_INT, "2", "the signal number (2: SIGINT)", PLUME_NO_RANGE }, { 0 } };

static const plume_stage fault_signal = {
    .name = "fault.signal", .doc = "Raises a signal during one batch.",
    .inputs = text_in, .outputs = text_out, .params = signal_params, .state_size = sizeof(fsignal),
    .create = signal_create, .run = signal_run,
};

/* ---- fault.crash and fault.error ---- */
typedef struct fword { const char *word; } fword;

static int word_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((fword *)state)->word = plume_args_string(args, "word");
    return 0;
}

static int crash_run(void *state, plume_batch *b, plume_error *err) {
    const fword *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        if (strstr(text_of(b, r), s->word)) {
            volatile uintptr_t nowhere = 64;   /* an unmapped page, not NULL, so UBSan does not stop it first */
            *(volatile int *)nowhere = 1;      /* SIGSEGV, as a buggy module would */
        }
    copy_all(b);
    return 0;
}

static int error_run(void *state, plume_batch *b, plume_error *err) {
    const fword *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        if (strstr(text_of(b, r), s->word))
            return plume_fail(err, "record %s holds '%s', so the whole batch fails", plume_batch_id(b, r), s->word);
    copy_all(b);
    return 0;
}

static const plume_param word_params[] = {
    { "word", PLUME_STRING, NULL, "the word that triggers the fault",
      PLUME_NO_RANGE },
    { 0 } };

static const plume_stage fault_crash = {
    .name = "fault.crash", .doc = "Crashes (SIGSEGV) on a record holding a word.",
    .inputs = text_in, .outputs = text_out, .params = word_params, .state_size = sizeof(fword),
    .create = word_create, .run = crash_run,
};

static const plume_stage fault_error = {
    .name = "fault.error", .doc = "Fails the batch that holds a record with a word.",
    .inputs = text_in, .outputs = text_out, .params = word_params, .state_size = sizeof(fword),
    .create = word_create, .run = error_run,
};

PLUME_MODULE("fault", "1.0", &fault_signal, &fault_crash, &fault_error);
