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
        char prefix[PLUME_ERROR_MAX];
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(prefix, sizeof prefix, fmt, ap);
        va_end(ap);
        /* Shift the old message right and put the prefix in front; the tail is cut if too long. */
        size_t np = strlen(prefix), no = strnlen(err->msg, sizeof err->msg - 1);
        if (np > sizeof err->msg - 1) np = sizeof err->msg - 1;
        if (np + no > sizeof err->msg - 1) no = sizeof err->msg - 1 - np;
        memmove(err->msg + np, err->msg, no);
        memcpy(err->msg, prefix, np);
        err->msg[np + no] = '\0';
    }
    return -1;
}
