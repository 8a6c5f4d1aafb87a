/* stories260K (tests/data/stories260K: llama2.c's checkpoint and its tokenizer) as the GGUF file
 * the trainer and the tests start from. */
#ifndef PLUME_TEST_STORIES_GGUF_H
#define PLUME_TEST_STORIES_GGUF_H
#include <stdio.h>
#include <stdlib.h>
#include "plume/convert.h"

/* Converts stories260K into a GGUF file at out_path with F32 weights. 0, or -1 with the converter's
 * message printed. Run outside ctest, the data is looked for in tests/data. */
static inline int convert_stories260k(const char *out_path) {
    const char *data = getenv("PLUME_TEST_DATA");
    char model[1024], tokenizer[1024];
    snprintf(model, sizeof model, "%s/stories260K/stories260K.bin", data ? data : "tests/data");
    snprintf(tokenizer, sizeof tokenizer, "%s/stories260K/tok512.bin", data ? data : "tests/data");
    plume_error err;
    if (plume_convert_llama2c(model, tokenizer, out_path, PLUME_GGML_F32, NULL, &err)) {
        fprintf(stderr, "convert: %s\n", err.msg);
        return -1;
    }
    return 0;
}
#endif
