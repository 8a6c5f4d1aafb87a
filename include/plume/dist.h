/* plume — several processes working as one job (MPI ranks).
 *
 * Under `mpirun -n N plume ...`, plume_dist_init joins the MPI job and every process gets a
 * rank 0..N-1; `plume run` then shards the requests and `plume train` splits each optimizer
 * step's batch across the ranks. Started any other way (or with no MPI backend installed),
 * plume is one process of rank 0 in a job of size 1 and every function below is a cheap
 * no-op, so callers need no special case and no mpi.h.
 *
 * libplume itself never links MPI: it holds the one-process implementation, and a program
 * that can run under mpirun installs MPI's from libplume-mpi (plume/dist_mpi.h) with
 * plume_dist_use before plume_dist_init. The `plume` command does so when built with MPI
 * (the CMake option PLUME_MPI).
 *
 * The collectives (sum, max, all_ok) must be called by every rank in the same order, as
 * MPI's are; they work on host memory. */
#ifndef PLUME_DIST_H
#define PLUME_DIST_H

#include <stddef.h>
#include "error.h"

#ifdef __cplusplus
extern "C" {
#endif

/* How the ranks of a job talk to each other. init is called by plume_dist_init only when an MPI
 * launcher started the process; the other members are what the functions below of the same
 * names do once it has. */
typedef struct plume_dist_backend {
    const char *name;
    int (*init)(int *argc, char ***argv, plume_error *err);
    void (*finalize)(void);
    int (*rank)(void);
    int (*size)(void);
    int (*sum_f32)(float *buf, size_t n, plume_error *err);
    int (*sum_f64)(double *buf, size_t n, plume_error *err);
    int (*max_f64)(double *buf, size_t n, plume_error *err);
    int (*all_ok)(int ok, int *first_bad);
} plume_dist_backend;

/* Installs a backend (NULL: the one-process one again). Call it before plume_dist_init; the
 * backend must outlive its use. */
PLUME_API void plume_dist_use(const plume_dist_backend *backend);

/* 1 when a backend other than the one-process one is installed (MPI), else 0. */
PLUME_API int plume_dist_built(void);

/* Joins the MPI job when the process was started by an MPI launcher (Open MPI's mpirun sets
 * OMPI_COMM_WORLD_SIZE; PMI_SIZE, PMIX_RANK for others), else does nothing. Call it once,
 * first thing in main. 0, or -1 with err (an MPI launch of a build without MPI: the ranks
 * would each do the whole job). */
PLUME_API int plume_dist_init(int *argc, char ***argv, plume_error *err);
/* Leaves the job (MPI_Finalize) if plume_dist_init joined one. */
PLUME_API void plume_dist_finalize(void);

PLUME_API int plume_dist_rank(void);        /* 0..size-1 */
PLUME_API int plume_dist_size(void);        /* 1 unless in an MPI job */
/* This process's index among the ranks on its machine (OMPI_COMM_WORLD_LOCAL_RANK), 0 when
 * unknown: the device layer picks device (local rank mod usable devices) when PLUME_DEVICE is
 * unset and a machine has several GPUs of the best kind. Read from the environment, so it is
 * right before plume_dist_init too. */
PLUME_API int plume_dist_local_rank(void);

/* In place: buf[i] = the sum over ranks of buf[i] (every rank gets the same result). */
PLUME_API int plume_dist_sum_f32(float *buf, size_t n, plume_error *err);
PLUME_API int plume_dist_sum_f64(double *buf, size_t n, plume_error *err);
/* In place: buf[i] = the largest buf[i] of any rank. */
PLUME_API int plume_dist_max_f64(double *buf, size_t n, plume_error *err);
/* A vote: 1 when ok is nonzero on every rank, else 0 (also when the vote itself fails). The
 * ranks call it after work that may fail on some of them, so they all go on or stop together
 * instead of leaving the others waiting in the next collective. *first_bad (may be NULL) gets
 * the lowest rank that voted 0, or -1. */
PLUME_API int plume_dist_all_ok(int ok, int *first_bad);

#ifdef __cplusplus
}
#endif
#endif
