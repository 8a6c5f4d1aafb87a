/* A third-party plugin: compiled here from tests/engine/plugins/shout.c with the C compiler and
 * plume's headers only, then loaded by path from a graph (no rebuild of plume), and through
 * PLUME_MODULE_PATH by the `plume` command. */
#include <sys/wait.h>
#include "check.h"
#include "engine_test.h"

/* Runs a shell command; returns its exit status and its stdout+stderr in out. */
static int sh(const char *cmd, char *out, size_t size) {
    FILE *p = popen(cmd, "r");
    if (!p) return -1;
    size_t n = fread(out, 1, size - 1, p);
    out[n] = '\0';
    int st = pclose(p);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
}

int main(void) {
    const char *dir = test_tmpdir();
    const char *src = getenv("PLUME_SOURCE_DIR"), *build = getenv("PLUME_BUILD_DIR");
    char cmd[4096], out[16384], path[1024];

    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -Wall -Wextra -Werror -I'%s/include' '%s/plugins/shout.c' -o '%s/shout.so' 2>&1",
             TEST_CC, src, TEST_ENGINE_DIR, dir);
    int rc = sh(cmd, out, sizeof out);
    CHECK_MSG(rc == 0, "%s\n%s", cmd, out);

    /* The graph names the plugin by a path relative to the graph's own folder. */
    snprintf(path, sizeof path, "%s/g.yaml", dir);
    write_file(path, "plume: 1\n"
                     "stages:\n"
                     "  loud: { use: ./shout.so:example.shout, in: { text: context }, out: { text: out }, "
                     "with: { ending: \" !!\" } }\n");
    plume_registry *reg = plume_registry_new(NULL);
    plume_error err = { "" };
    plume_graph *g = plume_graph_load(reg, path, NULL, 0, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (g) {
        char res[1024];
        snprintf(res, sizeof res, "%s/r.jsonl", dir);
        plume_run_options opt = plume_run_defaults();
        opt.request = "{\"id\": \"p1\", \"context\": \"quiet words, 42\"}";
        opt.out = res;
        plume_run_report rep;
        CHECK(plume_run(g, &opt, &rep, &err) == 0);
        char *text = read_file(res);
        CHECK_STR(text, "{\"id\":\"p1\",\"out\":\"QUIET WORDS, 42 !!\"}\n");
        free(text);
        plume_graph_free(g);
    }
    plume_registry_close(reg);

    /* A stage the plugin does not have. */
    write_file(path, "plume: 1\nstages:\n  loud: { use: ./shout.so:example.whisper }\n");
    reg = plume_registry_new(NULL);
    g = plume_graph_load(reg, path, NULL, 0, &err);
    char want[2048];
    snprintf(want, sizeof want, "%s:3:16: stage 'loud': %s/shout.so has no stage 'example.whisper'; it has: "
             "example.shout", path, dir);
    CHECK(g == NULL);
    CHECK_STR(err.msg, want);
    plume_registry_close(reg);

    /* The same plugin, found by name through PLUME_MODULE_PATH, by the plume command. */
    write_file(path, "plume: 1\n"
                     "stages:\n"
                     "  loud: { use: example.shout, in: { text: context }, out: { text: out } }\n");
    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' run '%s' --context 'hi there' --id x 2>&1",
             dir, build, path);
    CHECK(sh(cmd, out, sizeof out) == 0);
    CHECK_STR(out, "{\"id\":\"x\",\"out\":\"HI THERE!\"}\n");

    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' check '%s' 2>&1", dir, build, path);
    CHECK(sh(cmd, out, sizeof out) == 0);
    snprintf(want, sizeof want, "%s: ok: 1 stage (loud); each result line has: id, out\n", path);
    CHECK_STR(out, want);

    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' modules example.shout 2>&1", dir, build);
    CHECK(sh(cmd, out, sizeof out) == 0);
    CHECK(strstr(out, "example.shout\n\n  Upper-cases the ASCII letters of a text and appends an ending.\n") == out);
    CHECK(strstr(out, "    ending       string  default \"!\"\n                         appended to the text\n") != NULL);

    /* Without the path, the command says what is wrong, where, and what was probably meant. */
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' check '%s' --set loud.ending=? 2>&1", build, path);
    CHECK(sh(cmd, out, sizeof out) == 1);
    snprintf(want, sizeof want, "%s:3:16: stage 'loud' uses unknown stage 'example.shout'; `plume modules` lists "
             "the stages there are\n", path);
    CHECK_STR(out, want);

    test_cleanup();
    return check_finish("test_plugin");
}
