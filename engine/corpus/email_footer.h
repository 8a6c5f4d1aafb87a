/* Mailing-list footers, found from the data: a trailing block of lines that ends the bodies of
 * messages from several different senders was added by a list, a newsletter or a sponsor, not
 * written by any of them. The mbox importer observes every body first, then strips. */
#ifndef PLUME_EMAIL_FOOTER_H
#define PLUME_EMAIL_FOOTER_H
#include <stddef.h>

typedef struct email_footers email_footers;

/* min_senders: distinct senders a trailing block must end messages of to count as a footer;
 * max_lines: the longest block considered, in non-blank lines; min_chars: the shortest, in
 * characters once normalized (so a "Thanks," that many people end with is not a footer).
 * NULL when out of memory. */
email_footers *email_footers_new(size_t min_senders, size_t max_lines, size_t min_chars);
void email_footers_free(email_footers *f);

/* Pass 1: counts every trailing block of text (1 .. max_lines non-blank lines) for sender.
 * Lines are compared normalized: white space runs become one space, ends trimmed, blank lines
 * skipped. 0, or -1 when out of memory. */
int email_footers_observe(email_footers *f, const char *sender, const char *text);

/* Pass 2: cuts footers off the end of text, in place: the longest trailing block that is a
 * footer, then again on what is left (a list footer can sit under a sponsor's block or a
 * signature can precede it). When no footer ends the text, a trailing block that starts with a
 * footer head (a line of at least min_chars characters that starts two or more different
 * footers), no longer than the longest footer it heads, is cut as one: a list that rotates its
 * sponsor's text under a fixed rule. Trailing blank lines go too. Returns how many blocks were cut. */
size_t email_footers_strip(email_footers *f, char *text);

/* The distinct footer blocks that email_footers_strip has cut so far, most often cut first:
 * the block (normalized lines joined by '\n'), its distinct senders (counted up to min_senders
 * and beyond) and how many times it was cut. Returns the number of such blocks; fills the
 * i-th when i is below it. */
size_t email_footers_cut(email_footers *f, size_t i, const char **block, size_t *senders, size_t *cut);
#endif
