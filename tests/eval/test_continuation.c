/* plume_continuation_start: the context taken off a document's start, byte for byte or with white
 * space runs compared as equal; a document that does not start with its context is kept whole. */
#include <string.h>
#include "check.h"
#include "plume/eval.h"

static size_t start(const char *text, const char *ctx, int *found) {
    return plume_continuation_start(text, strlen(text), ctx, strlen(ctx), found);
}

int main(void) {
    int found = -1;
    CHECK(start("Re: lunch\nI'm in. See you", "Re: lunch\nI", &found) == 11 && found == 1);
    CHECK(start("abc", "abc", &found) == 3 && found == 1);
    CHECK(start("abc", "", &found) == 0 && found == 1);              /* no context: all continuation */
    /* white space runs of any kind and length match each other */
    CHECK(start("Re: lunch \r\n I'm in", "Re: lunch\nI", &found) == 14 && found == 1);
    CHECK(start("  Re:  lunch\n\nI'm", "Re: lunch I", &found) == 15 && found == 1);
    CHECK(start("Re: lunch I'm", "Re: lunch\n\n", &found) == 10 && found == 1);   /* trailing space */
    /* not the context: the whole text is the continuation */
    CHECK(start("Re: dinner\nI'm in", "Re: lunch\nI", &found) == 0 && found == 0);
    CHECK(start("Re: lu", "Re: lunch", &found) == 0 && found == 0);      /* shorter than the context */
    CHECK(start("Re:lunch", "Re: lunch", &found) == 0 && found == 0);    /* a space is not optional */
    CHECK(start("", "x", NULL) == 0);
    return check_finish("test_continuation");
}
