/* Declared parameter ranges (plume_param.min and max): the check for ints and floats, the range
 * in words, and the loader refusing a module whose declared range cannot be honoured. */
#include <limits.h>
#include "check.h"
#include "engine_test.h"

static void test_in_range(void) {
    const plume_param beams = { "beams", PLUME_INT, "4", "width", PLUME_RANGE(1, 64) };
    CHECK(plume_param_has_range(&beams));
    CHECK(!plume_param_in_range(&beams, 0));
    CHECK(plume_param_in_range(&beams, 1));
    CHECK(plume_param_in_range(&beams, 64));
    CHECK(!plume_param_in_range(&beams, 65));
    CHECK(!plume_param_in_range(&beams, (double)LLONG_MIN));

    const plume_param n = { "n", PLUME_INT, "5", "count", PLUME_AT_LEAST(0) };
    CHECK(plume_param_in_range(&n, 0));
    CHECK(plume_param_in_range(&n, (double)LLONG_MAX));
    CHECK(!plume_param_in_range(&n, -1));

    const plume_param top_p = { "top_p", PLUME_FLOAT, "1", "mass", PLUME_RANGE(0, 1) };
    CHECK(plume_param_in_range(&top_p, 0.0));
    CHECK(plume_param_in_range(&top_p, 1.0));
    CHECK(plume_param_in_range(&top_p, 0.999999));
    CHECK(!plume_param_in_range(&top_p, 1.000001));
    CHECK(!plume_param_in_range(&top_p, -1e-12));

    const plume_param low = { "low", PLUME_FLOAT, "-3", "at most -2.5", PLUME_AT_MOST(-2.5) };
    CHECK(plume_param_in_range(&low, -2.5));
    CHECK(plume_param_in_range(&low, -1e300));
    CHECK(!plume_param_in_range(&low, -2.4999));

    /* no range declared: anything goes, for numbers and for the other types alike */
    const plume_param any = { "min_idf", PLUME_FLOAT, "1.5", "any", PLUME_NO_RANGE };
    const plume_param sep = { "sep", PLUME_STRING, " ", "text", PLUME_NO_RANGE };
    CHECK(!plume_param_has_range(&any) && !plume_param_has_range(&sep));
    CHECK(plume_param_in_range(&any, -1e300) && plume_param_in_range(&any, 1e300));
}

static void test_range_text(void) {
    char buf[96];
    const plume_param beams = { "beams", PLUME_INT, "4", "width", PLUME_RANGE(1, 64) };
    CHECK_STR(plume_param_range_text(&beams, buf, sizeof buf), "from 1 to 64");
    const plume_param tokens = { "max_tokens", PLUME_INT, "96", "new tokens", PLUME_RANGE(1, 1 << 20) };
    CHECK_STR(plume_param_range_text(&tokens, buf, sizeof buf), "from 1 to 1048576");
    const plume_param n = { "n", PLUME_INT, "5", "count", PLUME_AT_LEAST(0) };
    CHECK_STR(plume_param_range_text(&n, buf, sizeof buf), "0 or more");
    const plume_param b = { "b", PLUME_FLOAT, "0.75", "norm", PLUME_RANGE(0, 1) };
    CHECK_STR(plume_param_range_text(&b, buf, sizeof buf), "from 0 to 1");
    const plume_param low = { "low", PLUME_FLOAT, "-3", "at most -2.5", PLUME_AT_MOST(-2.5) };
    CHECK_STR(plume_param_range_text(&low, buf, sizeof buf), "at most -2.5");
    const plume_param frac = { "frac", PLUME_FLOAT, "0.2", "tenths", PLUME_RANGE(0.1, 0.9) };
    CHECK_STR(plume_param_range_text(&frac, buf, sizeof buf), "from 0.1 to 0.9");
    const plume_param any = { "min_idf", PLUME_FLOAT, "1.5", "any", PLUME_NO_RANGE };
    CHECK_STR(plume_param_range_text(&any, buf, sizeof buf), "");
}

static void expect_refused(const char *file, const char *want) {
    char path[PATH_MAX], real[PATH_MAX], full[PATH_MAX + 300];
    snprintf(path, sizeof path, "%s/%s", TEST_BAD_DIR, file);
    if (!realpath(path, real)) snprintf(real, sizeof real, "(missing)");
    plume_error err = { "" };
    plume_registry *r = plume_registry_new(&err);
    CHECK(r && plume_registry_load(r, path, &err) == -1);
    snprintf(full, sizeof full, "%s: %s", real, want);
    CHECK_STR(err.msg, full);
    CHECK(plume_registry_count(r) == 0);
    plume_registry_close(r);
}

int main(void) {
    test_in_range();
    test_range_text();
    expect_refused("bad_range_1.so", "stage 'bad.range', parameter 'beams': its default 0 is outside its range "
                                     "(from 1 to 64)");
    expect_refused("bad_range_2.so", "stage 'bad.range', parameter 'share' declares the range min 1, max 0: min "
                                     "must not be more than max");
    expect_refused("bad_range_3.so", "stage 'bad.range', parameter 'sep' is a string but declares a range (min 1, "
                                     "max 2); only int and float parameters have one");
    return check_finish("test_param_range");
}
