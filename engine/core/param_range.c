/* Declared parameter ranges: whether a value lies inside, and the range in words for errors
 * and for `plume modules`. Both ends are included, as in FFmpeg's AVOption. */
#include <math.h>
#include <stdio.h>
#include "engine.h"

int plume_param_has_range(const plume_param *p) {
    return (p->type == PLUME_INT || p->type == PLUME_FLOAT) && !(p->min == 0 && p->max == 0);
}

int plume_param_in_range(const plume_param *p, double value) {
    if (!plume_param_has_range(p)) return 1;
    return value >= p->min && value <= p->max;
}

const char *plume_param_range_text(const plume_param *p, char *buf, size_t size) {
    if (!size) return buf;
    buf[0] = '\0';
    if (!plume_param_has_range(p)) return buf;
    /* %.15g writes an int's bound whole (1048576, not 1.04858e+06) and a float's as declared (0.1) */
    int lo = isfinite(p->min), hi = isfinite(p->max);
    if (lo && hi) snprintf(buf, size, "from %.15g to %.15g", p->min, p->max);
    else if (lo) snprintf(buf, size, "%.15g or more", p->min);
    else if (hi) snprintf(buf, size, "at most %.15g", p->max);
    return buf;
}
