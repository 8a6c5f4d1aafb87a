/* Paired comparisons (engine/eval/paired.c) against values computed independently:
 * Student's t tails from their closed forms for 1, 2 and 3 degrees of freedom and from printed
 * tables of critical values; sign-test p-values from exact binomial sums (Python's integers and
 * fractions); a paired comparison worked by hand. */
#include <math.h>
#include "check.h"
#include "plume/eval.h"

int main(void) {
    const double pi = 3.14159265358979323846;
    /* df = 1 (Cauchy): P(|T| >= t) = 1 - 2 atan(t) / pi */
    CHECK_NEAR(plume_student_t_p(1.0, 1), 0.5, 1e-12);
    CHECK_NEAR(plume_student_t_p(-3.0, 1), 1 - 2 * atan(3.0) / pi, 1e-12);
    /* df = 2: 1 - t / sqrt(t^2 + 2) */
    CHECK_NEAR(plume_student_t_p(2.0, 2), 1 - 2 / sqrt(6.0), 1e-12);
    CHECK_NEAR(plume_student_t_p(0.3, 2), 1 - 0.3 / sqrt(2.09), 1e-12);
    /* critical values of two-sided tests (any t table) */
    CHECK_NEAR(plume_student_t_p(2.228138852, 10), 0.05, 1e-8);
    CHECK_NEAR(plume_student_t_p(4.032142984, 5), 0.01, 1e-8);
    CHECK_NEAR(plume_student_t_p(2.042272456, 30), 0.05, 1e-8);
    CHECK_NEAR(plume_student_t_p(2.625890521, 100), 0.01, 1e-7);
    CHECK_NEAR(plume_student_t_p(1.959963985, 1e7), 0.05, 1e-6);   /* the normal limit */
    CHECK_NEAR(plume_student_t_p(0, 7), 1.0, 1e-12);
    CHECK(plume_student_t_p(40, 3) < 1e-4 && plume_student_t_p(40, 3) > 0);
    CHECK(plume_student_t_p(INFINITY, 3) == 0 && plume_student_t_p(NAN, 3) == 1);

    /* the sign test: 2 * sum_{i <= min(k, n-k)} C(n, i) / 2^n, capped at 1 */
    CHECK_NEAR(plume_sign_test_p(2, 10), 0.109375, 1e-12);
    CHECK_NEAR(plume_sign_test_p(8, 10), 0.109375, 1e-12);
    CHECK_NEAR(plume_sign_test_p(5, 10), 1.0, 1e-12);
    CHECK_NEAR(plume_sign_test_p(3, 20), 0.0025768280029296875, 1e-12);
    CHECK_NEAR(plume_sign_test_p(450, 1000), 0.0017305360849763176, 1e-10);
    CHECK_NEAR(plume_sign_test_p(0, 0), 1.0, 0);

    /* by hand: d = {1, 0, 1, 3}; mean 1.25, sd sqrt(4.75 / 3), t = 1.25 / (sd / 2) on 3 df,
     * whose tail is 1 - (2 / pi) (u / (1 + u^2) + atan(u)), u = t / sqrt(3) */
    double a[4] = { 3, 5, 4, 6 }, b[4] = { 2, 5, 3, 3 };
    plume_paired r = plume_paired_compare(a, b, 4);
    double sd = sqrt(4.75 / 3), t = 1.25 / (sd / 2), u = t / sqrt(3.0);
    CHECK(r.n == 4 && r.positive == 3 && r.negative == 0);
    CHECK_NEAR(r.mean_a, 4.5, 1e-12);
    CHECK_NEAR(r.mean_b, 3.25, 1e-12);
    CHECK_NEAR(r.mean_diff, 1.25, 1e-12);
    CHECK_NEAR(r.sd_diff, sd, 1e-12);
    CHECK_NEAR(r.t, t, 1e-12);
    CHECK_NEAR(r.t_p, 1 - (2 / pi) * (u / (1 + u * u) + atan(u)), 1e-10);
    CHECK_NEAR(r.sign_p, 0.25, 1e-12);   /* 3 of 3 non-zero differences positive: 2 / 8 */

    /* swapping the sides flips the sign and keeps the p-values */
    plume_paired s = plume_paired_compare(b, a, 4);
    CHECK_NEAR(s.t, -t, 1e-12);
    CHECK_NEAR(s.t_p, r.t_p, 1e-12);
    CHECK(s.positive == 0 && s.negative == 3);

    /* nothing to test: identical scores, a single record, no records */
    plume_paired same = plume_paired_compare(a, a, 4);
    CHECK(same.t_p == 1 && same.sign_p == 1 && same.mean_diff == 0);
    plume_paired one = plume_paired_compare(a, b, 1);
    CHECK(one.t_p == 1 && one.sign_p == 1 && one.mean_diff == 1);
    plume_paired none = plume_paired_compare(a, b, 0);
    CHECK(none.n == 0 && none.t_p == 1);
    /* a constant non-zero difference: certain, p = 0 */
    double c[3] = { 2, 3, 4 }, d[3] = { 1, 2, 3 };
    CHECK(plume_paired_compare(c, d, 3).t_p == 0);
    return check_finish("test_paired");
}
