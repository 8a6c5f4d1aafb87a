/* The environment an MPI launcher leaves (dist_env.c), read by dist.c. */
#ifndef PLUME_DIST_INTERNAL_H
#define PLUME_DIST_INTERNAL_H

/* The job size an MPI launcher announced in the environment: >= 1; 0 for a launch that does
 * not say its size; -1 when the process was not started by an MPI launcher. */
long pl_dist_launched_size(void);

#endif
