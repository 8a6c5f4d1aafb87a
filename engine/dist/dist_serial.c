/* plume/dist.h without MPI (built with -DPLUME_MPI=OFF, or Open MPI not found): one process,
 * rank 0 of 1; the collectives leave their buffers as they are (a sum over one rank). */
#include "plume/dist.h"
#include "dist_internal.h"

int plume_dist_built(void) { return 0; }

int plume_dist_init(int *argc, char ***argv, plume_error *err) {
    (void)argc;
    (void)argv;
    long n = pl_dist_launched_size();
    if (n > 1)
        return plume_fail(err, "started by mpirun, but this plume was built without MPI: each of the ranks would do "
                          "the whole job; hint: install libopenmpi-dev and rebuild (cmake -DPLUME_MPI=ON)");
    return 0;
}

void plume_dist_finalize(void) {}
int plume_dist_rank(void) { return 0; }
int plume_dist_size(void) { return 1; }

int plume_dist_sum_f32(float *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

int plume_dist_sum_f64(double *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

int plume_dist_max_f64(double *buf, size_t n, plume_error *err) {
    (void)buf, (void)n, (void)err;
    return 0;
}

int plume_dist_all_ok(int ok, int *first_bad) {
    if (first_bad) *first_bad = ok ? -1 : 0;
    return ok != 0;
}
