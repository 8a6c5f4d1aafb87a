/* plume — MPI for plume/dist.h, in its own library (libplume-mpi, which links Open MPI), so that
 * libplume and every stage plugin stay free of MPI.
 *
 *     plume_dist_use(plume_dist_mpi());      then plume_dist_init(&argc, &argv, &err) as usual
 *
 * Only the main thread calls MPI (MPI_THREAD_FUNNELED). */
#ifndef PLUME_DIST_MPI_H
#define PLUME_DIST_MPI_H

#include "dist.h"

#ifdef __cplusplus
extern "C" {
#endif

/* The MPI backend; MPI itself is initialised only when plume_dist_init finds an MPI launch. */
PLUME_API const plume_dist_backend *plume_dist_mpi(void);

#ifdef __cplusplus
}
#endif
#endif
