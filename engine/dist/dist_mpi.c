/* The MPI backend of plume/dist.h (Open MPI), the whole of libplume-mpi and the only file of
 * plume that includes mpi.h (see plume/dist_mpi.h).
 *
 * plume_dist_init calls init only when an MPI launcher started the process, so a plain
 * `plume run` never touches MPI. Only the main thread calls MPI (MPI_THREAD_FUNNELED): the stage threads
 * of `plume run` and lavapipe's threads never do. */
#include <limits.h>
#include <mpi.h>
#include "plume/dist_mpi.h"

static int joined;            /* MPI_Init was called here */
static int rank_ = 0, size_ = 1;

static int mpi_fail(plume_error *err, const char *what, int code) {
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(code, msg, &len) != MPI_SUCCESS) len = 0;
    msg[len < MPI_MAX_ERROR_STRING ? len : MPI_MAX_ERROR_STRING - 1] = '\0';
    return plume_fail(err, "rank %d of %d: %s failed: %s", rank_, size_, what, len ? msg : "(no message)");
}

static int mpi_init(int *argc, char ***argv, plume_error *err) {
    if (joined) return 0;
    int provided = 0, rc = MPI_Init_thread(argc, argv, MPI_THREAD_FUNNELED, &provided);
    if (rc != MPI_SUCCESS) return mpi_fail(err, "MPI_Init_thread", rc);
    joined = 1;
    /* errors come back as codes (with a message) instead of aborting the job at once */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &rank_);
    MPI_Comm_size(MPI_COMM_WORLD, &size_);
    return 0;
}

static void mpi_finalize(void) {
    if (!joined) return;
    MPI_Finalize();
    joined = 0;
    rank_ = 0;
    size_ = 1;
}

static int mpi_rank(void) { return rank_; }
static int mpi_size(void) { return size_; }

/* MPI counts are ints: large buffers go in pieces of at most 2^30 elements. */
static int allreduce(void *buf, size_t n, size_t elem, MPI_Datatype type, MPI_Op op, const char *what,
                     plume_error *err) {
    if (size_ == 1) return 0;
    for (size_t at = 0; at < n;) {
        size_t k = n - at < ((size_t)1 << 30) ? n - at : ((size_t)1 << 30);
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)buf + at * elem, (int)k, type, op, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS) return mpi_fail(err, what, rc);
        at += k;
    }
    return 0;
}

static int mpi_sum_f32(float *buf, size_t n, plume_error *err) {
    return allreduce(buf, n, sizeof *buf, MPI_FLOAT, MPI_SUM, "MPI_Allreduce (sum of floats)", err);
}

static int mpi_sum_f64(double *buf, size_t n, plume_error *err) {
    return allreduce(buf, n, sizeof *buf, MPI_DOUBLE, MPI_SUM, "MPI_Allreduce (sum of doubles)", err);
}

static int mpi_max_f64(double *buf, size_t n, plume_error *err) {
    return allreduce(buf, n, sizeof *buf, MPI_DOUBLE, MPI_MAX, "MPI_Allreduce (max of doubles)", err);
}

static int mpi_all_ok(int ok, int *first_bad) {
    /* the lowest failing rank: MIN over (rank if failed, else INT_MAX) */
    int mine = ok ? INT_MAX : rank_, lowest = mine;
    if (size_ > 1 && MPI_Allreduce(&mine, &lowest, 1, MPI_INT, MPI_MIN, MPI_COMM_WORLD) != MPI_SUCCESS)
        lowest = rank_;
    if (first_bad) *first_bad = lowest == INT_MAX ? -1 : lowest;
    return lowest == INT_MAX;
}

static const plume_dist_backend mpi_backend = {
    "MPI", mpi_init, mpi_finalize, mpi_rank, mpi_size, mpi_sum_f32, mpi_sum_f64, mpi_max_f64, mpi_all_ok,
};

const plume_dist_backend *plume_dist_mpi(void) { return &mpi_backend; }
