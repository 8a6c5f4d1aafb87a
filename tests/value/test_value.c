/* Slot values: setters copy, lists grow, copy is deep, clear frees (ASan checks the last). */
#include <stdlib.h>
#include "check.h"
#include "plume/value.h"

int main(void) {
    plume_value v = { 0 };
    char buf[] = "hello";
    CHECK(plume_value_set_text(&v, buf, 5) == 0);
    buf[0] = 'j';  /* the value holds its own copy */
    CHECK_STR(v.as.text.str, "hello");
    CHECK(v.as.text.len == 5);

    for (int i = 0; i < 100; i++) {
        char id[16];
        snprintf(id, sizeof id, "d%d", i);
        plume_doc d = { id, NULL, "body", (double)i, 0.5 * i };
        CHECK(plume_docs_push(&v, &d) == 0);
    }
    CHECK(v.type == PLUME_DOCS && v.as.docs.count == 100);
    CHECK_STR(v.as.docs.items[42].id, "d42");
    CHECK_STR(v.as.docs.items[42].title, "");  /* NULL title becomes "" */
    CHECK_NEAR(v.as.docs.items[42].score, 21.0, 0);

    plume_value w = { 0 };
    CHECK(plume_value_copy(&w, &v) == 0);
    plume_value_clear(&v);
    CHECK(v.type == PLUME_NONE);
    CHECK_STR(w.as.docs.items[99].id, "d99");

    CHECK(plume_terms_push(&w, "beer", 2.5) == 0);  /* a list of another type replaces it */
    CHECK(w.type == PLUME_TERMS && w.as.terms.count == 1);
    CHECK_STR(w.as.terms.items[0].word, "beer");
    plume_value_clear(&w);

    CHECK_STR(plume_type_name(PLUME_TERMS), "terms");
    CHECK_STR(plume_type_name(PLUME_MODEL), "model");
    return check_finish("test_value");
}
