/* plume/dist.h: the functions every caller uses, which go to the installed backend, and the
 * backend of one process (rank 0 of 1), whose collectives leave their buffers as they are (a
 * sum over one rank). MPI's backend lives in libplume-mpi (engine/dist/dist_mpi.c). */
#include "plume/dist.h"
#include "dist_internal.h"

static int one_rank(void) { return 0; }
static int one_size(void) { return 1; }
static void one_finalize(void) {}

static int one_sum_f32(float *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

static int one_sum_f64(double *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

static int one_max_f64(double *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

static int one_all_ok(int ok, int *first_bad) {
    if (first_bad) *first_bad = ok ? -1 : 0;
    return ok != 0;
}

/* Reached only under an MPI launch: fine for a job of one, wrong for more. */
static int one_init(int *argc, char ***argv, plume_error *err) {
    (void)argc;
    (void)argv;
    if (pl_dist_launched_size() > 1)
        return plume_fail(err, "started by mpirun, but this plume was built without MPI: each of the ranks would do "
                          "the whole job; hint: install libopenmpi-dev and rebuild (cmake -DPLUME_MPI=ON)");
    return 0;
}

static const plume_dist_backend one_process = {
    "one process", one_init, one_finalize, one_rank, one_size,
    one_sum_f32, one_sum_f64, one_max_f64, one_all_ok,
};

static const plume_dist_backend *backend = &one_process;

void plume_dist_use(const plume_dist_backend *b) { backend = b ? b : &one_process; }

int plume_dist_built(void) { return backend != &one_process; }

int plume_dist_init(int *argc, char ***argv, plume_error *err) {
    if (pl_dist_launched_size() < 0) return 0;   /* not an MPI launch: one process, nothing to join */
    return backend->init(argc, argv, err);
}

void plume_dist_finalize(void) { backend->finalize(); }
int plume_dist_rank(void) { return backend->rank(); }
int plume_dist_size(void) { return backend->size(); }
int plume_dist_sum_f32(float *buf, size_t n, plume_error *err) { return backend->sum_f32(buf, n, err); }
int plume_dist_sum_f64(double *buf, size_t n, plume_error *err) { return backend->sum_f64(buf, n, err); }
int plume_dist_max_f64(double *buf, size_t n, plume_error *err) { return backend->max_f64(buf, n, err); }
int plume_dist_all_ok(int ok, int *first_bad) { return backend->all_ok(ok, first_bad); }
