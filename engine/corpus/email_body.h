/* E-mail body clean-up for the mbox importer. */
#ifndef PLUME_EMAIL_BODY_H
#define PLUME_EMAIL_BODY_H
#include <stddef.h>
/* s[0..len) with quoted lines ('>', Supercite's "Tim>", "--]"), "On ... wrote:" attributions, everything after a "-- "
 * signature separator or an "-----Original Message-----" line, and a mailing-list footer (a rule
 * of 20 or more '_' or '=' followed by at most 8 lines) removed; runs of blank lines become one.
 * malloc'd, NULL when out of memory. */
char *email_clean_body(const char *s, size_t len);
#endif
