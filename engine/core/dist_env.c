/* What the MPI launcher tells a process through its environment, read the same way whichever
 * backend of plume/dist.h is installed. */
#include <stdlib.h>
#include "plume/dist.h"
#include "dist_internal.h"

/* A small non-negative integer from the environment, or -1. */
static long env_count(const char *name) {
    const char *v = getenv(name);
    if (!v || !*v) return -1;
    char *end;
    long n = strtol(v, &end, 10);
    return *end || n < 0 || n > 1000000 ? -1 : n;
}

long pl_dist_launched_size(void) {
    static const char *names[] = {"OMPI_COMM_WORLD_SIZE", "PMI_SIZE", "PMIX_SIZE"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        long n = env_count(names[i]);
        if (n >= 1) return n;
    }
    return getenv("PMIX_RANK") ? 0 : -1;   /* a PMIx launch that does not say the size */
}

int plume_dist_local_rank(void) {
    static const char *names[] = {"OMPI_COMM_WORLD_LOCAL_RANK", "MPI_LOCALRANKID", "SLURM_LOCALID"};
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++) {
        long n = env_count(names[i]);
        if (n >= 0) return (int)n;
    }
    return 0;
}
