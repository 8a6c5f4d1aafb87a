/* plume experiment's parts: the requests (and their profile-swapped twin), the rows of the
 * table, and the report files. cmd_experiment.c runs the graphs and fills the rows. */
#ifndef PLUME_TOOLS_EXPERIMENT_H
#define PLUME_TOOLS_EXPERIMENT_H
#include <stdint.h>
#include <stdio.h>
#include "plume/eval.h"
#include "score.h"

/* The requests every graph runs over, in file order (blank lines skipped). */
typedef struct exp_requests {
    size_t n;
    char **target, **context;   /* "" when a request has none (the run reports it as failed) */
    long *swap_from;            /* the request whose profile request i gets in the swapped run,
                                   or -1 when it cannot be swapped */
    long *user_of;              /* each request's user, numbered in order of first appearance; -1: none */
    size_t users;               /* distinct users */
    size_t not_swappable;       /* requests with no user, or whose user has no other user to swap with */
} exp_requests;

/* Reads the requests of `path` (the first `limit` when limit > 0, also copied to `copy`). */
int exp_requests_read(const char *path, size_t limit, const char *copy, exp_requests *rq);
/* The profile swap: users in order of first appearance are permuted by a derangement drawn with
 * Sattolo's algorithm from a splitmix64 generator seeded with `seed` (one cycle through every
 * user: nobody keeps their own). The k-th request of user u takes the profile of the
 * (k mod m)-th request of the user u is sent to, who has m requests. Fills rq->swap_from and
 * writes the swapped requests (every field but "profile" as it was) to `path`. */
int exp_requests_swap(const char *data, const char *path, uint64_t seed, exp_requests *rq);
void exp_requests_free(exp_requests *rq);

/* One graph's row of the table. */
typedef struct exp_row {
    char *name;
    size_t records, failed;
    score_means own;
    size_t context_missing;      /* predictions that did not start with the request's context */
    /* with --swap-profiles */
    int swapped;
    size_t swap_failed;
    score_means swap;
    plume_paired gain_r1, gain_rl;   /* continuation ROUGE-1 and ROUGE-L: own minus swapped */
    size_t identical;                /* swappable records whose two predictions are byte-identical */
} exp_row;

/* The report's frame: what the table was made from. */
typedef struct exp_report {
    const char *data;            /* the requests file */
    const char *model;           /* PLUME_MODEL, or NULL: each graph's own */
    size_t requests;
    int swapped;
    uint64_t seed;
    size_t users, not_swappable;
} exp_report;

void exp_write_markdown(FILE *f, const exp_report *rep, const exp_row *rows, size_t n);
void exp_write_csv(FILE *f, const exp_report *rep, const exp_row *rows, size_t n);
void exp_write_svg(FILE *f, const exp_report *rep, const exp_row *rows, size_t n);

#endif
