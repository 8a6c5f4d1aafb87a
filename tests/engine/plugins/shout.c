/* A third-party stage, built outside plume's tree against the installed headers:
 *     cc -shared -fPIC $(pkg-config --cflags plume) shout.c -o shout.so
 * and used from a graph as `use: ./shout.so:example.shout`. It upper-cases ASCII letters
 * and appends an ending, e.g. "hello" -> "HELLO!". */
#include <stdlib.h>
#include <string.h>
#include <plume/stage.h>

typedef struct shout {
    const char *ending;
} shout;

static const plume_port inputs[] = { { "text", PLUME_TEXT, "text to shout", 0 }, { 0 } };
static const plume_port outputs[] = { { "text", PLUME_TEXT, "the text in capitals, then the ending", 0 }, { 0 } };
static const plume_param params[] = { { "ending", PLUME_STRING, "!", "appended to the text", PLUME_NO_RANGE }, { 0 } };

static int shout_create(void *state, const plume_args *args, plume_host *host, plume_error *err) {
    (void)host, (void)err;
    ((shout *)state)->ending = plume_args_string(args, "ending");
    return 0;
}

static int shout_run(void *state, plume_batch *b, plume_error *err) {
    (void)err;
    const shout *s = state;
    size_t elen = strlen(s->ending);
    for (size_t r = 0; r < plume_batch_count(b); r++) {
        const plume_value *in = plume_batch_in(b, r, 0);
        char *buf = malloc(in->as.text.len + elen + 1);
        if (!buf) {
            plume_batch_fail(b, r, "out of memory");
            continue;
        }
        for (size_t i = 0; i < in->as.text.len; i++) {
            char c = in->as.text.str[i];
            buf[i] = c >= 'a' && c <= 'z' ? (char)(c - 'a' + 'A') : c;
        }
        memcpy(buf + in->as.text.len, s->ending, elen);
        if (plume_value_set_text(plume_batch_out(b, r, 0), buf, in->as.text.len + elen))
            plume_batch_fail(b, r, "out of memory");
        free(buf);
    }
    return 0;
}

static const plume_stage example_shout = {
    .name = "example.shout",
    .doc = "Upper-cases the ASCII letters of a text and appends an ending.",
    .inputs = inputs, .outputs = outputs, .params = params,
    .state_size = sizeof(shout), .create = shout_create, .run = shout_run,
};

PLUME_MODULE("example", "1.0", &example_shout);
