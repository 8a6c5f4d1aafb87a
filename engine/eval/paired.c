/* Paired comparisons of per-record scores: Student's paired t-test and the exact sign test.
 *
 * The t distribution's tail comes from the regularized incomplete beta function,
 *   P(|T| >= |t|) = I_x(df / 2, 1 / 2)  with  x = df / (df + t^2),
 * evaluated by its continued fraction (modified Lentz), which converges fast for
 * x < (a + 1) / (a + b + 2); otherwise the symmetry I_x(a, b) = 1 - I_{1-x}(b, a) is used.
 * The sign test sums binomial probabilities in log space so that n in the thousands neither
 * overflows nor underflows. */
#include <math.h>
#include "plume/eval.h"

/* The continued fraction of I_x(a, b), without its prefactor. */
static double beta_fraction(double a, double b, double x) {
    const double tiny = 1e-300, eps = 1e-15;
    double c = 1, d = 1 - (a + b) * x / (a + 1);
    if (fabs(d) < tiny) d = tiny;
    d = 1 / d;
    double h = d;
    for (int m = 1; m <= 1000; m++) {
        double m2 = 2.0 * m;
        double num = m * (b - m) * x / ((a + m2 - 1) * (a + m2));   /* the even step */
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        h *= d * c;
        num = -(a + m) * (a + b + m) * x / ((a + m2) * (a + m2 + 1));   /* the odd step */
        d = 1 + num * d;
        c = 1 + num / c;
        if (fabs(d) < tiny) d = tiny;
        if (fabs(c) < tiny) c = tiny;
        d = 1 / d;
        double step = d * c;
        h *= step;
        if (fabs(step - 1) < eps) break;
    }
    return h;
}

/* The regularized incomplete beta function I_x(a, b) for a, b > 0 and x in [0, 1]. */
static double incomplete_beta(double a, double b, double x) {
    if (x <= 0) return 0;
    if (x >= 1) return 1;
    double log_front = lgamma(a + b) - lgamma(a) - lgamma(b) + a * log(x) + b * log1p(-x);
    if (x < (a + 1) / (a + b + 2)) return exp(log_front) * beta_fraction(a, b, x) / a;
    return 1 - exp(log_front) * beta_fraction(b, a, 1 - x) / b;
}

double plume_student_t_p(double t, double df) {
    if (!(df > 0) || isnan(t)) return 1;
    if (isinf(t)) return 0;
    return incomplete_beta(df / 2, 0.5, df / (df + t * t));
}

double plume_sign_test_p(size_t k, size_t n) {
    if (n == 0) return 1;
    size_t lo = k < n - k ? k : n - k;
    /* P(X <= lo) = sum_{i <= lo} C(n, i) / 2^n, each term from lgamma */
    double total = 0, log_half_n = (double)n * log(0.5);
    for (size_t i = 0; i <= lo; i++)
        total += exp(lgamma((double)n + 1) - lgamma((double)i + 1) - lgamma((double)(n - i) + 1) + log_half_n);
    double p = 2 * total;
    return p > 1 ? 1 : p;
}

plume_paired plume_paired_compare(const double *a, const double *b, size_t n) {
    plume_paired r = { .n = n, .t_p = 1, .sign_p = 1 };
    if (n == 0) return r;
    double sa = 0, sb = 0, sd = 0;
    for (size_t i = 0; i < n; i++) {
        double d = a[i] - b[i];
        sa += a[i];
        sb += b[i];
        sd += d;
        r.positive += d > 0;
        r.negative += d < 0;
    }
    r.mean_a = sa / (double)n;
    r.mean_b = sb / (double)n;
    r.mean_diff = sd / (double)n;
    if (n < 2) return r;
    double ss = 0;   /* two passes: the squares of deviations, not a difference of large sums */
    for (size_t i = 0; i < n; i++) {
        double e = (a[i] - b[i]) - r.mean_diff;
        ss += e * e;
    }
    r.sd_diff = sqrt(ss / (double)(n - 1));
    if (r.sd_diff > 0) {
        r.t = r.mean_diff / (r.sd_diff / sqrt((double)n));
        r.t_p = plume_student_t_p(r.t, (double)(n - 1));
    } else {
        r.t_p = r.mean_diff == 0 ? 1 : 0;
    }
    r.sign_p = plume_sign_test_p(r.positive, r.positive + r.negative);
    return r;
}
