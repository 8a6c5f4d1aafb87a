/* plume/dist.h's backends (no MPI needed): the one-process backend libplume starts with, a
 * backend installed with plume_dist_use receiving every call, plume_dist_init calling a
 * backend's init only under an MPI launch, and the one-process backend refusing a launch of
 * several ranks. */
#include <stdlib.h>
#include "check.h"
#include "plume/dist.h"

/* A job of 3 ranks, this one rank 2, whose collectives are recognisable: a sum doubles, a max
 * adds 100, the vote fails with rank 1 as the first bad one. */
static int inits, finalizes;
static int fake_init(int *argc, char ***argv, plume_error *err) {
    (void)argc, (void)argv, (void)err;
    inits++;
    return 0;
}
static void fake_finalize(void) { finalizes++; }
static int fake_rank(void) { return 2; }
static int fake_size(void) { return 3; }
static int fake_sum_f32(float *buf, size_t n, plume_error *err) {
    (void)err;
    for (size_t i = 0; i < n; i++) buf[i] *= 2;
    return 0;
}
static int fake_sum_f64(double *buf, size_t n, plume_error *err) {
    (void)err;
    for (size_t i = 0; i < n; i++) buf[i] *= 2;
    return 0;
}
static int fake_max_f64(double *buf, size_t n, plume_error *err) {
    for (size_t i = 0; i < n; i++) buf[i] += 100;
    return n > 4 ? plume_fail(err, "fake: at most 4") : 0;
}
static int fake_all_ok(int ok, int *first_bad) {
    (void)ok;
    if (first_bad) *first_bad = 1;
    return 0;
}
static const plume_dist_backend fake = {
    "fake", fake_init, fake_finalize, fake_rank, fake_size,
    fake_sum_f32, fake_sum_f64, fake_max_f64, fake_all_ok,
};

static void clear_launch(void) {
    const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE", "PMIX_RANK"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) unsetenv(names[i]);
}

int main(void) {
    plume_error err;
    clear_launch();

    /* the one-process backend: rank 0 of 1, collectives leave the buffers as they are */
    CHECK(plume_dist_built() == 0);
    CHECK(plume_dist_rank() == 0 && plume_dist_size() == 1);
    double d[2] = {1.5, -2};
    float f[1] = {3};
    CHECK(plume_dist_sum_f64(d, 2, &err) == 0 && d[0] == 1.5 && d[1] == -2);
    CHECK(plume_dist_sum_f32(f, 1, &err) == 0 && f[0] == 3);
    CHECK(plume_dist_max_f64(d, 2, &err) == 0 && d[0] == 1.5);
    int bad = 7;
    CHECK(plume_dist_all_ok(1, &bad) == 1 && bad == -1);
    CHECK(plume_dist_all_ok(0, &bad) == 0 && bad == 0);
    /* not launched by MPI: nothing to join; launched as one rank: fine; as two: refused */
    CHECK(plume_dist_init(NULL, NULL, &err) == 0);
    setenv("OMPI_COMM_WORLD_SIZE", "1", 1);
    CHECK(plume_dist_init(NULL, NULL, &err) == 0);
    setenv("OMPI_COMM_WORLD_SIZE", "2", 1);
    CHECK(plume_dist_init(NULL, NULL, &err) == -1);
    CHECK_MSG(strstr(err.msg, "started by mpirun, but this plume was built without MPI") != NULL, "%s", err.msg);
    clear_launch();

    /* an installed backend gets every call */
    plume_dist_use(&fake);
    CHECK(plume_dist_built() == 1);
    CHECK(plume_dist_init(NULL, NULL, &err) == 0 && inits == 0);   /* no launch: init not called */
    setenv("PMIX_RANK", "2", 1);                                     /* a PMIx launch without a size */
    CHECK(plume_dist_init(NULL, NULL, &err) == 0 && inits == 1);
    clear_launch();
    CHECK(plume_dist_rank() == 2 && plume_dist_size() == 3);
    CHECK(plume_dist_sum_f64(d, 2, &err) == 0 && d[0] == 3 && d[1] == -4);
    CHECK(plume_dist_sum_f32(f, 1, &err) == 0 && f[0] == 6);
    CHECK(plume_dist_max_f64(d, 1, &err) == 0 && d[0] == 103);
    double five[5] = {0};
    CHECK(plume_dist_max_f64(five, 5, &err) == -1);
    CHECK_STR(err.msg, "fake: at most 4");
    CHECK(plume_dist_all_ok(1, &bad) == 0 && bad == 1);
    plume_dist_finalize();
    CHECK(finalizes == 1);

    /* NULL puts the one-process backend back */
    plume_dist_use(NULL);
    CHECK(plume_dist_built() == 0 && plume_dist_size() == 1);
    plume_dist_finalize();
    CHECK(finalizes == 1);
    return check_finish("test_dist_backend");
}
