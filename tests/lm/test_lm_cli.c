/* The commands, as a user runs them: `plume convert llama2c` then `plume generate` prints
 * the published stories260K text; `plume bench --json` prints every figure, positive (and
 * with --rounds, medians within their ranges);
 * bad arguments fail with a message and status 2. */
#include <math.h>
#include <stdlib.h>
#include <sys/wait.h>
#include <unistd.h>
#include "check.h"
#include "lm_test_util.h"
#include "run_cmd.h"


int main(void) {
    const char *build = getenv("PLUME_BUILD_DIR");
    char dir[] = "/tmp/plume-lm-cli-XXXXXX", cmd[4096], spath[1024], model[1100];
    CHECK(build != NULL && mkdtemp(dir) != NULL);
    if (!build) return check_finish("test_lm_cli");
    snprintf(spath, sizeof spath, "%s/stories260K/SOURCE.md", test_data_dir());
    snprintf(model, sizeof model, "%s/s.gguf", dir);
    char *published = read_published_text(spath), *out = NULL;
    CHECK(published != NULL);

    snprintf(cmd, sizeof cmd, "'%s/bin/plume' convert llama2c '%s/stories260K/stories260K.bin' "
             "'%s/stories260K/tok512.bin' -o '%s' 2>&1", build, test_data_dir(), test_data_dir(), model);
    CHECK(run_cmd(cmd, &out) == 0);
    free(out);

    snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s' -p '' -n 256 --ignore-eos 2>/dev/null", build, model);
    CHECK(run_cmd(cmd, &out) == 0);
    size_t n = strlen(out);
    CHECK(n > 0 && out[n - 1] == '\n');
    if (n) out[n - 1] = 0;
    CHECK_STR(out, published);
    free(out);

    snprintf(cmd, sizeof cmd, "'%s/bin/plume' bench -m '%s' --json --prompt 16 --decode 2 --batch 3 "
             "--bandwidth-mb 8 2>&1", build, model);
    CHECK(run_cmd(cmd, &out) == 0);
    const char *keys[] = { "prompt_tokens_per_s", "decode_b1_tokens_per_s", "decode_batch_tokens_per_s",
                           "decode_b1_gb_per_s", "device_read_gb_per_s", "host_memcpy_gb_per_s",
                           "prompt_tokens_per_cpu_s", "decode_b1_tokens_per_cpu_s", "decode_batch_tokens_per_cpu_s" };
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        char *at = strstr(out, keys[i]);
        double v = at ? strtod(at + strlen(keys[i]) + 3, NULL) : 0;  /* past `": ` */
        CHECK_MSG(at && v > 0, "%s in %s", keys[i], out);
    }
    /* the share of the roofline is batch 1's weight bandwidth over the streaming read */
    const char *sh = strstr(out, "\"decode_b1_roofline_share\": "), *gb = strstr(out, "\"decode_b1_gb_per_s\": "),
               *rd = strstr(out, "\"device_read_gb_per_s\": ");
    double share = sh ? strtod(sh + 28, NULL) : -1, b1 = gb ? strtod(gb + 22, NULL) : 0,
           read = rd ? strtod(rd + 24, NULL) : 0;
    CHECK_MSG(sh && read > 0 && fabs(share - b1 / read) <= 1e-3 + 1e-3 * share, "roofline share %g, %g / %g", share,
              b1, read);
    free(out);

    /* Three rounds: each median lies within its range, and the ratio is that of batch 3 to 1. */
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' bench -m '%s' --json --prompt 8 --decode 2 --batch 3 --rounds 3 "
             "--bandwidth-mb 1 2>&1", build, model);
    CHECK(run_cmd(cmd, &out) == 0);
    CHECK_MSG(strstr(out, "\"rounds\": 3,") != NULL, "no rounds in %s", out);
    const char *ranged[] = {"prompt_tokens_per_s", "decode_b1_tokens_per_s", "decode_batch_tokens_per_s",
                            "decode_batch_over_b1", "decode_b1_roofline_share"};
    const char *range = strstr(out, "\"range\"");
    CHECK_MSG(range != NULL, "no range in %s", out);
    for (size_t i = 0; range && i < sizeof ranged / sizeof ranged[0]; i++) {
        char key[64];
        snprintf(key, sizeof key, "\"%s\": ", ranged[i]);
        const char *m = strstr(out, key), *r = strstr(range, key);
        double med = m ? strtod(m + strlen(key), NULL) : -1, lo = -1, hi = -1;
        if (r) sscanf(r + strlen(key), "[%lf, %lf]", &lo, &hi);
        CHECK_MSG(m && r && lo > 0 && lo <= med && med <= hi, "%s: median %g, range %g..%g", ranged[i], med, lo, hi);
    }
    free(out);
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' bench -m '%s' --rounds 0 2>&1", build, model);
    CHECK(run_cmd(cmd, &out) == 2 && strstr(out, "--rounds"));
    free(out);

    snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s' -p x --top-p 2 2>&1", build, model);
    CHECK(run_cmd(cmd, &out) == 2 && strstr(out, "--top-p"));
    free(out);
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' generate -m '%s/missing.gguf' -p x 2>&1", build, dir);
    CHECK(run_cmd(cmd, &out) == 1 && strstr(out, "missing.gguf"));
    free(out);

    unlink(model);
    rmdir(dir);
    free(published);
    return check_finish("test_lm_cli");
}
