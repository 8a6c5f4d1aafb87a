/* A minimal test harness: CHECK macros that report file:line and keep going,
 * and check_finish() that prints the totals and returns the exit status. */
#ifndef PLUME_TEST_CHECK_H
#define PLUME_TEST_CHECK_H
#include <math.h>
#include <stdio.h>
#include <string.h>

static int check_passed_, check_failed_;

#define CHECK(cond) do { if (cond) check_passed_++; else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s\n", __FILE__, __LINE__, #cond); } } while (0)

#define CHECK_MSG(cond, ...) do { if (cond) check_passed_++; else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK failed: %s: ", __FILE__, __LINE__, #cond); \
    fprintf(stderr, __VA_ARGS__); fputc('\n', stderr); } } while (0)

#define CHECK_STR(a, b) do { const char *a_ = (a), *b_ = (b); \
    if (a_ && b_ && strcmp(a_, b_) == 0) check_passed_++; else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK_STR failed:\n  got:      %s\n  expected: %s\n", \
            __FILE__, __LINE__, a_ ? a_ : "(null)", b_ ? b_ : "(null)"); } } while (0)

#define CHECK_NEAR(a, b, tol) do { double a_ = (a), b_ = (b); \
    if (fabs(a_ - b_) <= (tol)) check_passed_++; else { check_failed_++; \
    fprintf(stderr, "%s:%d: CHECK_NEAR failed: %s = %.9g, expected %.9g (tol %g)\n", \
            __FILE__, __LINE__, #a, a_, b_, (double)(tol)); } } while (0)

static inline int check_finish(const char *name) {
    printf("%s: %d checks passed, %d failed\n", name, check_passed_, check_failed_);
    return check_failed_ ? 1 : 0;
}
#endif
