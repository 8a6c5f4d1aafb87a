/* A third-party plugin: compiled here from tests/engine/plugins/shout.c with the C compiler and
 * plume's headers only, then loaded by path from a graph (no rebuild of plume), and through
 * PLUME_MODULE_PATH by the `plume` command. */
#include <limits.h>
#include <stdlib.h>
#include <sys/wait.h>
#include "check.h"
#include "engine_test.h"
#include "run_cmd.h"

int main(void) {
    const char *dir = test_tmpdir();
    const char *src = getenv("PLUME_SOURCE_DIR"), *build = getenv("PLUME_BUILD_DIR");
    char cmd[8192], out[16384], path[1024];

    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -Wall -Wextra -Werror -I'%s/include' '%s/plugins/shout.c' -o '%s/shout.so' 2>&1",
             TEST_CC, src, TEST_ENGINE_DIR, dir);
    int rc = run_cmd_into(cmd, out, sizeof out);
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
        char *text = run_request(g, "{\"id\": \"p1\", \"context\": \"quiet words, 42\"}", res, &err);
        CHECK_MSG(text != NULL, "%s", err.msg);
        CHECK_STR(text, "{\"id\":\"p1\",\"out\":\"QUIET WORDS, 42 !!\"}\n");
        free(text);
        plume_graph_free(g);
    }
    plume_registry_close(reg);

    /* A stage the plugin does not have. */
    write_file(path, "plume: 1\nstages:\n  loud: { use: ./shout.so:example.whisper }\n");
    reg = plume_registry_new(NULL);
    g = plume_graph_load(reg, path, NULL, 0, &err);
    char want[8192];
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
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK_STR(out, "{\"id\":\"x\",\"out\":\"HI THERE!\"}\n");

    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' check '%s' 2>&1", dir, build, path);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    snprintf(want, sizeof want, "%s: ok: 1 stage (loud); each result line has: id, out\n", path);
    CHECK_STR(out, want);

    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' modules example.shout 2>&1", dir, build);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK(strstr(out, "example.shout\n\n  Upper-cases the ASCII letters of a text and appends an ending.\n") == out);
    CHECK(strstr(out, "    ending       string  default \"!\"\n                         appended to the text\n") != NULL);

    /* A plugin that takes the request stage's name changes nothing: the engine reads requests with
     * its own stage, built into libplume, and `plume modules` says so. */
    snprintf(cmd, sizeof cmd, "%s -shared -fPIC -Wall -Wextra -Werror -I'%s/include' '%s/plugins/fake_request.c' "
             "-o '%s/fake_request.so' 2>&1", TEST_CC, src, TEST_ENGINE_DIR, dir);
    CHECK_MSG(run_cmd_into(cmd, out, sizeof out) == 0, "%s\n%s", cmd, out);
    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' run '%s' --context 'hi there' --id x 2>/dev/null",
             dir, build, path);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK_STR(out, "{\"id\":\"x\",\"out\":\"HI THERE!\"}\n");
    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' modules io.request 2>/dev/null", dir, build);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "  module: engine 1.0\n  file:   ") != NULL && strstr(out, "/libplume.so") != NULL, "%s", out);
    {
        char fake[1024];
        snprintf(fake, sizeof fake, "%s/fake_request.so", dir);
        remove(fake);
    }

    /* A declared range is shown beside the default. */
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' modules docs.take 2>&1", build);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK_MSG(strstr(out, "    n            int     default 5 (0 or more)\n") != NULL, "%s", out);

    /* The listing: one block per stage, with ports and parameters; defaults as one would type them. */
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' modules 2>&1", build);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    char modules[PATH_MAX];
    snprintf(path, sizeof path, "%s/lib/plume/modules", build);
    if (!realpath(path, modules)) snprintf(modules, sizeof modules, "?");
    snprintf(want, sizeof want, "docs.take  (module text 1.0, %s/plume-text.so)\n"
             "  Keeps the first n documents of a list, with their scores; the order is kept.\n"
             "  in:  docs: docs\n"
             "  out: docs: docs\n"
             "  with: n: int = 5 (0 or more)\n\n", modules);
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    snprintf(want, sizeof want, "  in:  a: text, b: text, c?: text, d?: text\n"
             "  out: text: text\n"
             "  with: sep: string = \"\\n\", skip_empty: bool = true\n\n");
    CHECK_MSG(strstr(out, want) != NULL, "%s", out);
    snprintf(path, sizeof path, "%s/g.yaml", dir);

    /* Without the path, the command says what is wrong, where, and what was probably meant. */
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' check '%s' --set loud.ending=? 2>&1", build, path);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 1);
    snprintf(want, sizeof want, "%s:3:16: stage 'loud' uses unknown stage 'example.shout'; `plume modules` lists "
             "the stages there are\n", path);
    CHECK_STR(out, want);

    /* One request from the command line with a profile file; --set reaches the stage. */
    char profile[1024];
    snprintf(profile, sizeof profile, "%s/profile.jsonl", dir);
    write_file(profile, "{\"id\": \"p1\", \"title\": \"Old\", \"text\": \"first post\", \"time\": 10}\n"
                        "{\"id\": \"p2\", \"text\": \"second post\"}\n");
    write_file(path, "plume: 1\n"
                     "stages:\n"
                     "  past: { use: docs.join, in: { docs: profile }, out: { text: past }, with: { sep: \" + \" } }\n"
                     "  all:  { use: text.join, in: { a: context, b: past }, out: { text: all } }\n"
                     "output: [all]\n");
    snprintf(cmd, sizeof cmd, "'%s/bin/plume' run '%s' --context 'Now:' --profile '%s' --set all.sep=' ' 2>&1",
             build, path, profile);
    CHECK(run_cmd_into(cmd, out, sizeof out) == 0);
    CHECK_STR(out, "{\"id\":\"cli\",\"all\":\"Now: first post + second post\"}\n");

    /* A failing record: its line carries the error, the others are written, exit status 1. */
    char data[1024], res[1024];
    snprintf(data, sizeof data, "%s/req.jsonl", dir);
    snprintf(res, sizeof res, "%s/res.jsonl", dir);
    write_file(data, "{\"id\": \"a\", \"context\": \"fine\"}\n{\"id\": \"b\", \"context\": \"bad apple\"}\n"
                     "{\"id\": \"c\", \"context\": \"fine too\"}\n");
    write_file(path, "plume: 1\nstages:\n  f: { use: test.fail_if, in: { text: context }, out: { text: ok }, "
                     "with: { word: bad } }\n");
    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' run '%s' --data '%s' --out '%s' --batch 2 2>&1 "
             "| sed 's/, [0-9.]* s ->/, T s ->/'", TEST_PLUGIN_DIR, build, path, data, res);
    FILE *p = popen(cmd, "r");
    size_t n = p ? fread(out, 1, sizeof out - 1, p) : 0;
    out[n] = '\0';
    snprintf(want, sizeof want, "plume: 3 records, 1 failed, T s -> %s\n", res);
    CHECK_STR(out, want);
    if (p) pclose(p);
    snprintf(cmd, sizeof cmd, "PLUME_MODULE_PATH='%s' '%s/bin/plume' run '%s' --data '%s' --out '%s' >/dev/null 2>&1",
             TEST_PLUGIN_DIR, build, path, data, res);
    CHECK(WEXITSTATUS(system(cmd)) == 1);
    char *text = read_file(res);
    CHECK_STR(text, "{\"id\":\"a\",\"ok\":\"fine\"}\n"
                    "{\"id\":\"b\",\"error\":\"stage 'f': the text of record b contains 'bad'\"}\n"
                    "{\"id\":\"c\",\"ok\":\"fine too\"}\n");
    free(text);

    test_cleanup();
    return check_finish("test_plugin");
}
