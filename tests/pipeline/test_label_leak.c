/* The shipped default model never writes the author-distinction task's answers into email.
 *
 * By construction: the task answers with two control tokens of the model's own vocabulary
 * (<|same_author|>, <|other_author|>), which no text tokenizes to and which decoding never shows.
 * By behaviour: graphs/default.yaml over the whole shipped email test split, with
 * models/plume-email.gguf, gives no output with a line that is only a label (true, false, or a
 * control token's name), the symptom of a model trained on "true"/"false" answers. */
#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/gguf.h"
#include "pipe.h"
#include "plume/tokenizer.h"

/* 1 when some line of text, trimmed, is one of the labels (case-insensitive). */
static int has_label_line(const char *text) {
    static const char *labels[] = { "true", "false", "<|same_author|>", "<|other_author|>" };
    while (*text) {
        const char *end = strchr(text, '\n');
        size_t n = end ? (size_t)(end - text) : strlen(text);
        const char *a = text, *b = text + n;
        while (a < b && isspace((unsigned char)*a)) a++;
        while (b > a && isspace((unsigned char)b[-1])) b--;
        for (size_t k = 0; k < sizeof labels / sizeof labels[0]; k++)
            if ((size_t)(b - a) == strlen(labels[k]) && !strncasecmp(a, labels[k], (size_t)(b - a))) return 1;
        text += n + (end != NULL);
    }
    return 0;
}

int main(void) {
    const char *src = getenv("PLUME_SOURCE_DIR"), *build = getenv("PLUME_BUILD_DIR");
    char model[1024], cmd[4096], out[1024];
    snprintf(model, sizeof model, "%s/models/plume-email.gguf", src);

    /* the answers are control tokens of the model's tokenizer */
    plume_error err = { { 0 } };
    plume_gguf *g = NULL;
    plume_tokenizer *t = NULL;
    CHECK(plume_gguf_open(&g, model, &err) == 0 && plume_tokenizer_from_gguf(&t, g, &err) == 0);
    plume_gguf_close(g);
    const char *answers[2] = { "<|same_author|>", "<|other_author|>" };
    for (int i = 0; t && i < 2; i++) {
        int32_t id = plume_tokenizer_lookup(t, answers[i]);
        CHECK_MSG(id >= 0 && plume_tokenizer_token_type(t, id) == PLUME_TOKEN_CONTROL, "%s", answers[i]);
    }
    plume_tokenizer_free(t);

    /* the helper itself: a label alone on a line is caught, inside a sentence it is not */
    CHECK(has_label_line("Hi,\n false \nbye") && has_label_line("TRUE") && !has_label_line("it is true, sadly"));

    /* the default graph over the shipped test split */
    snprintf(out, sizeof out, "%s", pipe_tmp("leak.jsonl"));
    snprintf(cmd, sizeof cmd, "cd '%s' && PLUME_MODEL='%s' '%s/bin/plume' run graphs/default.yaml --data "
                              "data/email/dataset/test.jsonl --out '%s' 2> /dev/null", src, model, build, out);
    CHECK(system(cmd) == 0);
    FILE *f = fopen(out, "r");
    CHECK(f != NULL);
    char *line = NULL;
    size_t cap = 0, records = 0, leaks = 0;
    while (f && getline(&line, &cap, f) > 0) {
        json_t *o = json_loads(line, 0, NULL);
        const char *text = json_string_value(json_object_get(o, "output"));
        CHECK(text != NULL);
        records++;
        if (text && has_label_line(text)) {
            leaks++;
            fprintf(stderr, "a label line in %s: %s\n", json_string_value(json_object_get(o, "id")), text);
        }
        json_decref(o);
    }
    free(line);
    if (f) fclose(f);
    CHECK(records > 50);   /* the whole split ran */
    CHECK(leaks == 0);
    pipe_done();
    return check_finish("test_label_leak");
}
