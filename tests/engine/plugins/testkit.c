/* Stages for the engine's tests, built as a module by tests/engine/CMakeLists.txt.
 *   test.meet       waits until another test.meet of the same batch runs at the same time
 *   test.fail_if    fails the records whose text contains a word
 *   test.count      writes the size of the batch the record was in
 *   test.interrupt  raises SIGUSR1 during the n-th batch (the test's handler cancels the run)
 *   test.model      writes the file path of the model it names
 *   test.no_start   fails in create() */
#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include "plume/stage.h"

static const plume_port text_in[] = { { "text", PLUME_TEXT, "any text", 0 }, { 0 } };
static const plume_port text_out[] = { { "text", PLUME_TEXT, "the same text", 0 }, { 0 } };
static const plume_port number_out[] = { { "n", PLUME_NUMBER, "a count", 0 }, { 0 } };

static int copy_text(plume_batch *b, size_t r) {
    const plume_value *in = plume_batch_in(b, r, 0);
    return plume_value_set_text(plume_batch_out(b, r, 0), in->as.text.str, in->as.text.len);
}

/* ---- test.meet: a two-party rendezvous with a timeout ---- */
static pthread_mutex_t meet_lock = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t meet_cond = PTHREAD_COND_INITIALIZER;
static long meet_arrived;

typedef struct meet { long long timeout_ms; } meet;

static int meet_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((meet *)state)->timeout_ms = plume_args_int(args, "timeout_ms");
    return 0;
}

static int meet_run(void *state, plume_batch *b, plume_error *err) {
    const meet *s = state;
    struct timespec deadline;
    clock_gettime(CLOCK_REALTIME, &deadline);
    deadline.tv_sec += (time_t)(s->timeout_ms / 1000);
    deadline.tv_nsec += (long)(s->timeout_ms % 1000) * 1000000L;
    if (deadline.tv_nsec >= 1000000000L) deadline.tv_sec++, deadline.tv_nsec -= 1000000000L;
    pthread_mutex_lock(&meet_lock);
    long target = (meet_arrived / 2 + 1) * 2;  /* the pair this arrival belongs to */
    meet_arrived++;
    pthread_cond_broadcast(&meet_cond);
    int rc = 0;
    while (meet_arrived < target && rc != ETIMEDOUT) rc = pthread_cond_timedwait(&meet_cond, &meet_lock, &deadline);
    int met = meet_arrived >= target;
    if (!met) meet_arrived = target;  /* leave the counter ready for the next pair */
    pthread_mutex_unlock(&meet_lock);
    if (!met) return plume_fail(err, "no other stage ran at the same time (waited %lld ms)", s->timeout_ms);
    for (size_t r = 0; r < plume_batch_count(b); r++) copy_text(b, r);
    return 0;
}

static const plume_param meet_params[] = {
    { "timeout_ms", PLUME_INT, "5000", "how long to wait for the other party", PLUME_NO_RANGE }, { 0 } };

static const plume_stage test_meet = {
    .name = "test.meet", .doc = "Waits until another test.meet runs at the same time.",
    .inputs = text_in, .outputs = text_out, .params = meet_params, .state_size = sizeof(meet),
    .create = meet_create, .run = meet_run,
};

/* ---- test.fail_if ---- */
typedef struct fail_if { const char *word; } fail_if;

static int fail_if_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((fail_if *)state)->word = plume_args_string(args, "word");
    return 0;
}

static int fail_if_run(void *state, plume_batch *b, plume_error *err) {
    const fail_if *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        if (strstr(plume_batch_in(b, r, 0)->as.text.str, s->word))
            plume_batch_fail(b, r, "the text of record %s contains '%s'", plume_batch_id(b, r), s->word);
        else
            copy_text(b, r);
    }
    return 0;
}

static const plume_param fail_if_params[] = {
    { "word", PLUME_STRING, NULL, "the word that fails a record",
      PLUME_NO_RANGE },
    { 0 } };

static const plume_stage test_fail_if = {
    .name = "test.fail_if", .doc = "Fails the records whose text contains a word; copies the others.",
    .inputs = text_in, .outputs = text_out, .params = fail_if_params, .state_size = sizeof(fail_if),
    .create = fail_if_create, .run = fail_if_run,
};

/* ---- test.count ---- */
static int count_run(void *state, plume_batch *b, plume_error *err) {
    for (size_t r = 0; r < plume_batch_count(b); r++)
        plume_value_set_number(plume_batch_out(b, r, 0), (double)plume_batch_count(b));
    return 0;
}

static const plume_stage test_count = {
    .name = "test.count", .doc = "Writes the number of records of the batch.",
    .inputs = text_in, .outputs = number_out, .run = count_run,
};

/* ---- test.interrupt ---- */
typedef struct interrupt { long long at, seen; } interrupt;

static int interrupt_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    ((interrupt *)state)->at = plume_args_int(args, "at_batch");
    return 0;
}

static int interrupt_run(void *state, plume_batch *b, plume_error *err) {
    interrupt *s = state;
    if (++s->seen == s->at) raise(SIGUSR1);
    for (size_t r = 0; r < plume_batch_count(b); r++) copy_text(b, r);
    return 0;
}

static const plume_param interrupt_params[] = {
    { "at_batch", PLUME_INT, "2", "which batch raises SIGUSR1",
      PLUME_NO_RANGE },
    { 0 } };

static const plume_stage test_interrupt = {
    .name = "test.interrupt", .doc = "Raises SIGUSR1 during one batch.",
    .inputs = text_in, .outputs = text_out, .params = interrupt_params, .state_size = sizeof(interrupt),
    .create = interrupt_create, .run = interrupt_run,
};

/* ---- test.model ---- */
typedef struct model { const char *path; } model;

static int model_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    model *s = state;
    s->path = plume_host_model_path(host, plume_args_string(args, "model"));
    return s->path ? 0 : plume_fail(err, "no path for model '%s'", plume_args_string(args, "model"));
}

static int model_run(void *state, plume_batch *b, plume_error *err) {
    const model *s = state;
    for (size_t r = 0; r < plume_batch_count(b); r++)
        plume_value_set_text(plume_batch_out(b, r, 0), s->path, strlen(s->path));
    return 0;
}

static const plume_param model_params[] = { { "model", PLUME_MODEL, NULL, "a declared model", PLUME_NO_RANGE }, { 0 } };

static const plume_stage test_model = {
    .name = "test.model", .doc = "Writes the path of the model it names.",
    .inputs = text_in, .outputs = text_out, .params = model_params, .state_size = sizeof(model),
    .create = model_create, .run = model_run,
};

/* ---- test.no_start ---- */
static int no_start_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    return plume_fail(err, "this stage never starts");
}

/* A declared range: a value outside it must be refused before create() is ever called. */
static const plume_param no_start_params[] = {
    { "share", PLUME_FLOAT, "0.5", "a fraction, 0 to 1 (a declared range)", PLUME_RANGE(0, 1) },
    { "tries", PLUME_INT, "3", "at least 1 (a declared range)", PLUME_AT_LEAST(1) },
    { 0 } };

static const plume_stage test_no_start = {
    .name = "test.no_start", .doc = "Fails in create().",
    .inputs = text_in, .outputs = text_out, .params = no_start_params, .create = no_start_create, .run = count_run,
};

PLUME_MODULE("test", "1.0", &test_meet, &test_fail_if, &test_count, &test_interrupt, &test_model, &test_no_start);
