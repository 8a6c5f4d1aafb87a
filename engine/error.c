/* Errors: one sentence in a fixed buffer, so failing never needs memory. */
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include "plume/error.h"

int plume_fail(plume_error *err, const char *fmt, ...) {
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int plume_fail_prefix(plume_error *err, const char *fmt, ...) {
    if (err) {
        char old[PLUME_ERROR_MAX], prefix[PLUME_ERROR_MAX];
        memcpy(old, err->msg, sizeof old);
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        snprintf(err->msg, sizeof err->msg, "%s%s", prefix, old);
    }
    return -1;
}
