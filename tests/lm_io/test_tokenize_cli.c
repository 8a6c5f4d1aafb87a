/* `plume tokenize` as a user runs it, on the vocabularies of tests/data/vocab: the ids and pieces
 * that the reference tokenizations and the models' published ids give (Llama 2: <s> 1, "Hello"
 * 15043, " world" 3186; GPT-2: "Hello world" 15496 995, and 😀 as a 3-byte token and a 1-byte
 * token; Qwen: <|im_start|> 151644, "user" 872, "\n" 198), control tokens parsed only with
 * --special, and bad arguments and files refused with a message (status 2 for usage, 1 for
 * a file). */
#include <stdbool.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "check.h"
#include "run_cmd.h"

static char cmd[4096];


static void expect(int status, const char *want, bool exact) {
    char *out = NULL;
    int st = run_cmd(cmd, &out);
    CHECK_MSG(st == status, "%s: status %d, expected %d", cmd, st, status);
    CHECK_MSG(out && (exact ? !strcmp(out, want) : strstr(out, want) != NULL), "%s:\n  got:      %s\n  expected: %s", cmd,
              out ? out : "", want);
    free(out);
}

int main(void) {
    const char *build = getenv("PLUME_BUILD_DIR"), *data = getenv("PLUME_TEST_DATA");
    CHECK(build && data);
    if (!build || !data) return check_finish("test_tokenize_cli");
    char plume[1024], spm[1024], gpt2[1024], qwen[1024];
    snprintf(plume, sizeof plume, "'%s/bin/plume' tokenize", build);
    snprintf(spm, sizeof spm, "'%s/vocab/ggml-vocab-llama-spm.gguf'", data);
    snprintf(gpt2, sizeof gpt2, "'%s/vocab/ggml-vocab-gpt-2.gguf'", data);
    snprintf(qwen, sizeof qwen, "'%s/vocab/ggml-vocab-qwen2.gguf'", data);

    /* SentencePiece adds BOS; the first word's dummy-prefix space is not shown */
    snprintf(cmd, sizeof cmd, "%s -m %s 'Hello world' 2>&1", plume, spm);
    expect(0, "1\t\"<s>\"\n15043\t\"Hello\"\n3186\t\" world\"\n", true);
    snprintf(cmd, sizeof cmd, "%s -m %s --no-bos --ids 'Hello world' 2>&1", plume, spm);
    expect(0, "15043 3186\n", true);
    snprintf(cmd, sizeof cmd, "%s -m %s --ids 'Hello world' 2>&1", plume, gpt2);
    expect(0, "15496 995\n", true);
    /* a piece that is part of a character shows its bytes */
    snprintf(cmd, sizeof cmd, "%s -m %s '\xf0\x9f\x98\x80' 2>&1", plume, gpt2);
    expect(0, "47249\t\"\\xF0\\x9F\\x98\"\n222\t\"\\x80\"\n", true);
    /* control tokens: text without --special, tokens with it */
    snprintf(cmd, sizeof cmd, "%s -m %s --special --ids '<|im_start|>user\nHi' 2>&1", plume, qwen);
    expect(0, "151644 872 198 ", false);
    snprintf(cmd, sizeof cmd, "%s -m %s --special '<|im_start|>user\n' 2>&1", plume, qwen);
    expect(0, "151644\t\"<|im_start|>\"\n872\t\"user\"\n198\t\"\\n\"\n", true);
    snprintf(cmd, sizeof cmd, "%s -m %s --ids '<|im_start|>' 2>&1", plume, qwen);
    char *out = NULL;
    CHECK(run_cmd(cmd, &out) == 0 && out && !strstr(out, "151644") && strchr(out, ' '));
    free(out);
    /* the text from a file, or standard input */
    snprintf(cmd, sizeof cmd, "printf 'Hello world' | %s -m %s --ids -f - 2>&1", plume, gpt2);
    expect(0, "15496 995\n", true);

    /* bad arguments and files */
    snprintf(cmd, sizeof cmd, "%s 'Hello' 2>&1", plume);
    expect(2, "usage: plume tokenize -m MODEL", false);
    snprintf(cmd, sizeof cmd, "%s -m %s --bogus x 2>&1", plume, gpt2);
    expect(2, "unknown or incomplete argument '--bogus'", false);
    snprintf(cmd, sizeof cmd, "%s -m %s a b 2>&1", plume, gpt2);
    expect(2, "one TEXT only", false);
    snprintf(cmd, sizeof cmd, "%s -m %s -f /nonexistent/text.txt 2>&1", plume, gpt2);
    expect(1, "cannot open /nonexistent/text.txt", false);
    snprintf(cmd, sizeof cmd, "%s -m /nonexistent/model.gguf x 2>&1", plume);
    expect(1, "/nonexistent/model.gguf", false);
    snprintf(cmd, sizeof cmd, "%s -m '%s/vocab/SOURCE.md' x 2>&1", plume, data);
    expect(1, "SOURCE.md: not a GGUF file", false);
    return check_finish("test_tokenize_cli");
}
