/* Graph checks: every error a graph can have, with its exact message and position,
 * and the things that must load: substitution, --set, models, output lists. */
#include <limits.h>
#include "check.h"
#include "engine_test.h"

static plume_registry *reg;
static const char *dir;

/* Parses `yaml` as "g.yaml" (relative paths resolved in the test folder) and expects `want`. */
static void expect_error_set(int line, const char *yaml, const char *const *sets, size_t n_sets, const char *want) {
    plume_error err = { "" };
    plume_graph *g = plume_graph_parse(reg, yaml, strlen(yaml), "g.yaml", dir, sets, n_sets, &err);
    CHECK_MSG(g == NULL, "line %d: the graph loaded but should not have", line);
    if (strcmp(err.msg, want)) fprintf(stderr, "test_graph_errors.c:%d:\n", line);
    CHECK_STR(err.msg, want);
    plume_graph_free(g);
}
#define expect_error(yaml, want) expect_error_set(__LINE__, yaml, NULL, 0, want)

static plume_graph *load_ok(const char *yaml, const char *const *sets, size_t n_sets) {
    plume_error err = { "" };
    plume_graph *g = plume_graph_parse(reg, yaml, strlen(yaml), "g.yaml", dir, sets, n_sets, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    return g;
}

int main(void) {
    dir = test_tmpdir();
    reg = test_registry();

    /* ---- stages ---- */
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  j:\n"
                 "    use: text.jion\n"
                 "    in: { a: user, b: context }\n"
                 "    out: { text: joined }\n",
                 "g.yaml:4:10: stage 'j' uses unknown stage 'text.jion'; did you mean 'text.join'?");
    expect_error("plume: 1\nstages:\n  j: { use: nothing.like.it }\n",
                 "g.yaml:3:13: stage 'j' uses unknown stage 'nothing.like.it'; `plume modules` lists the stages "
                 "there are");
    expect_error("plume: 1\nstages:\n  j: { in: { a: user } }\n",
                 "g.yaml:3:3: stage 'j' has no use:; name the stage kind it runs, e.g. use: text.join (`plume "
                 "modules` lists them)");
    expect_error("plume: 1\nstages:\n  request: { use: text.join }\n",
                 "g.yaml:3:3: 'request' is the name of the request reader; give this stage another name");

    /* ---- parameters ---- */
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  j:\n"
                 "    use: text.join\n"
                 "    in: { a: user, b: context }\n"
                 "    out: { text: joined }\n"
                 "    with: { seperator: \" \" }\n",
                 "g.yaml:7:13: stage 'j' (text.join) has no parameter 'seperator'; its parameters are: sep, "
                 "skip_empty");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  cut: { use: text.truncate, in: { text: context }, out: { text: short }, with: { max_char: 9 } }\n",
                 "g.yaml:3:83: stage 'cut' (text.truncate) has no parameter 'max_char'; did you mean 'max_chars'?");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  cut: { use: text.truncate, in: { text: context }, out: { text: short }, with: { max_chars: ten } }\n",
                 "g.yaml:3:94: parameter 'max_chars' of stage 'cut' (text.truncate) must be an integer, not 'ten'; "
                 "e.g. max_chars: 2500");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  j: { use: text.join, in: { a: user, b: context }, out: { text: t }, with: { skip_empty: maybe } }\n",
                 "g.yaml:3:91: parameter 'skip_empty' of stage 'j' (text.join) must be true or false, not "
                 "'maybe'; e.g. skip_empty: true");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  f: { use: test.fail_if, in: { text: context }, out: { text: t } }\n",
                 "g.yaml:3:3: stage 'f' (test.fail_if) needs parameter 'word' (string: the word that fails a "
                 "record); add it under with:");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  j: { use: text.join, in: { a: user, b: context }, out: { text: t }, with: { sep: [1, 2] } }\n",
                 "g.yaml:3:84: a parameter must be a single value, not a list");

    /* ---- declared parameter ranges: the place, the range and the value ---- */
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  top: { use: docs.take, in: { docs: profile }, out: { docs: top }, with: { n: -1 } }\n",
                 "g.yaml:3:80: parameter 'n' of stage 'top' (docs.take) must be 0 or more, not -1; e.g. n: 5");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  r: { use: rank.doc_bm25, in: { query: context, profile: profile }, out: { entries: e },\n"
                 "       with: { k1: 1.2, b: 1.5 } }\n",
                 "g.yaml:4:28: parameter 'b' of stage 'r' (rank.doc_bm25) must be from 0 to 1, not 1.5; e.g. b: 0.75");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  r: { use: rank.doc_bm25, in: { query: context, profile: profile }, out: { entries: e },\n"
                 "       with: { b: -0.000001 } }\n",
                 "g.yaml:4:19: parameter 'b' of stage 'r' (rank.doc_bm25) must be from 0 to 1, not -0.000001; "
                 "e.g. b: 0.75");
    const char *take_yaml = "plume: 1\nstages:\n  top: { use: docs.take, in: { docs: profile }, out: { docs: top } }\n";
    const char *take_minus[] = { "top.n=-3" };
    expect_error_set(__LINE__, take_yaml, take_minus, 1,
                     "--set top.n=-3: parameter 'n' of stage 'top' (docs.take) must be 0 or more, not -3; "
                     "e.g. --set top.n=5");
    {
        /* the bounds themselves are inside: 0 and 1 for b, 0 for n */
        const char *bounds = "plume: 1\n"
                             "stages:\n"
                             "  top: { use: docs.take, in: { docs: profile }, out: { docs: top }, with: { n: 0 } }\n"
                             "  r0: { use: rank.doc_bm25, in: { query: context, profile: top }, out: { entries: e0 },"
                             " with: { k1: 0, b: 0 } }\n"
                             "  r1: { use: rank.doc_bm25, in: { query: context, profile: top }, out: { entries: e1 },"
                             " with: { b: 1 } }\n";
        plume_graph_free(load_ok(bounds, NULL, 0));
    }

    /* ---- ports ---- */
    expect_error("plume: 1\nstages:\n  cut: { use: text.truncate, in: { txt: context }, out: { text: t } }\n",
                 "g.yaml:3:36: stage 'cut' (text.truncate) has no input port 'txt'; did you mean 'text'?");
    expect_error("plume: 1\nstages:\n  cut: { use: text.truncate, in: { text: context }, out: { words: t } }\n",
                 "g.yaml:3:60: stage 'cut' (text.truncate) has no output port 'words'; its outputs are: text (text)");
    expect_error("plume: 1\nstages:\n  j: { use: text.join, in: { a: user }, out: { text: t } }\n",
                 "g.yaml:3:3: stage 'j' (text.join) leaves input 'b' (text) unwired; wire it under in:, "
                 "e.g. in: { b: SLOT }");

    /* ---- slots ---- */
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  cut: { use: text.truncate, in: { text: contxt }, out: { text: short } }\n",
                 "g.yaml:3:42: stage 'cut' reads slot 'contxt', which is never written; did you mean 'context'?");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  cut: { use: text.truncate, in: { text: ranked }, out: { text: short } }\n",
                 "g.yaml:3:42: stage 'cut' reads slot 'ranked', which is never written; no stage writes it and the "
                 "request does not provide it");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  a: { use: text.truncate, in: { text: context }, out: { text: short } }\n"
                 "  b: { use: text.truncate, in: { text: user }, out: { text: short } }\n",
                 "g.yaml:4:61: slot 'short' is written twice: by stage 'b' here and by stage 'a' at line 3, column 64; "
                 "a slot has one writer, so rename one of them");
    expect_error("plume: 1\nstages:\n  a: { use: text.truncate, in: { text: user }, out: { text: context } }\n",
                 "g.yaml:3:61: stage 'a' writes slot 'context', which the request already provides; write to "
                 "another slot name");
    expect_error("plume: 1\nstages:\n  cut: { use: text.truncate, in: { text: profile }, out: { text: short } }\n",
                 "g.yaml:3:42: type mismatch: slot 'profile' holds docs (written by stage 'request'), but input "
                 "'text' of stage 'cut' (text.truncate) takes text; read a text slot, or put a stage in between that turns "
                 "docs into text");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  top: { use: docs.take, in: { docs: profile }, out: { docs: top } }\n"
                 "  cut: { use: text.truncate, in: { text: top }, out: { text: short } }\n",
                 "g.yaml:4:42: type mismatch: slot 'top' holds docs (written by stage 'top'), but input 'text' of "
                 "stage 'cut' (text.truncate) takes text; read a text slot, or put a stage in between that turns docs "
                 "into text");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  a: { use: text.join, in: { a: context, b: z }, out: { text: x } }\n"
                 "  b: { use: text.truncate, in: { text: x }, out: { text: y } }\n"
                 "  c: { use: text.truncate, in: { text: y }, out: { text: z } }\n",
                 "g.yaml:3:3: stages 'a' -> 'b' -> 'c' -> 'a' form a cycle: each reads a slot the one before it "
                 "writes; break the loop by reading a slot computed earlier");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  a: { use: text.truncate, in: { text: context }, out: { text: x } }\n"
                 "  b: { use: text.join, in: { a: x, b: b_out }, out: { text: b_out } }\n",
                 "g.yaml:4:3: stages 'b' -> 'b' form a cycle: each reads a slot the one before it writes; break the "
                 "loop by reading a slot computed earlier");
    expect_error("plume: 1\nstages:\n  a: { use: text.truncate, in: { text: context }, out: { text: x } }\n"
                 "output: [x, y]\n",
                 "g.yaml:4:13: output: lists slot 'y', which is never written; did you mean 'x'?");

    /* ---- models ---- */
    write_file("model.gguf", "");  /* relative to the current folder... */
    char abs_model[600];
    snprintf(abs_model, sizeof abs_model, "%s/m.gguf", dir);
    write_file(abs_model, "");      /* ...and to the graph's folder */
    {
        char want[1200];
        snprintf(want, sizeof want, "g.yaml:3:19: model 'writer': file 'models/none.gguf' does not exist (looked in "
                 "the current folder and in %s)", dir);
        expect_error_set(__LINE__, "plume: 1\n"
                         "models:\n"
                         "  writer: { path: models/none.gguf }\n"
                         "stages:\n"
                         "  m: { use: test.model, in: { text: context }, out: { text: t }, with: { model: writer } }\n",
                         NULL, 0, want);
    }
    /* a path from ${VAR:-default}: the message names the variable to set, or the value it had */
    unsetenv("PLUME_TEST_MODEL");
    {
        char want[1200];
        snprintf(want, sizeof want, "g.yaml:3:19: model 'writer': file 'models/none.gguf' does not exist (looked in "
                 "the current folder and in %s); the path is the default of ${PLUME_TEST_MODEL:-models/none.gguf}, "
                 "which is not set: set PLUME_TEST_MODEL=FILE.gguf to use another model", dir);
        expect_error_set(__LINE__, "plume: 1\n"
                         "models:\n"
                         "  writer: { path: \"${PLUME_TEST_MODEL:-models/none.gguf}\" }\n"
                         "stages:\n"
                         "  m: { use: test.model, in: { text: context }, out: { text: t }, with: { model: writer } }\n",
                         NULL, 0, want);
        setenv("PLUME_TEST_MODEL", "/nowhere/x.gguf", 1);
        expect_error_set(__LINE__, "plume: 1\n"
                         "models:\n"
                         "  writer: { path: \"${PLUME_TEST_MODEL:-models/none.gguf}\" }\n"
                         "stages:\n"
                         "  m: { use: test.model, in: { text: context }, out: { text: t }, with: { model: writer } }\n",
                         NULL, 0, "g.yaml:3:19: model 'writer': file '/nowhere/x.gguf' does not exist; the path comes "
                         "from PLUME_TEST_MODEL (set to '/nowhere/x.gguf' in the environment): point PLUME_TEST_MODEL "
                         "at a GGUF file");
        unsetenv("PLUME_TEST_MODEL");
    }
    expect_error("plume: 1\n"
                 "models:\n"
                 "  writer: { path: m.gguf }\n"
                 "stages:\n"
                 "  m: { use: test.model, in: { text: context }, out: { text: t }, with: { model: writr } }\n",
                 "g.yaml:5:81: parameter 'model' of stage 'm' names model 'writr', which is not declared; did you "
                 "mean 'writer'?");
    expect_error("plume: 1\n"
                 "stages:\n"
                 "  m: { use: test.model, in: { text: context }, out: { text: t }, with: { model: writer } }\n",
                 "g.yaml:3:81: parameter 'model' of stage 'm' names model 'writer', which is not declared; declare "
                 "it under models:");

    /* ---- substitution ---- */
    unsetenv("PLUME_TEST_UNSET");
    expect_error("plume: 1\n"
                 "models:\n"
                 "  writer: { path: \"${PLUME_TEST_UNSET}\" }\n"
                 "stages: {}\n",
                 "g.yaml:3:19: environment variable 'PLUME_TEST_UNSET' is not set; set it in the environment or give "
                 "a default: ${PLUME_TEST_UNSET:-VALUE}");
    expect_error("plume: 1\nmodels:\n  w: { path: \"${OOPS\" }\nstages: {}\n",
                 "g.yaml:3:14: '${' without a closing '}' in \"${OOPS\"; write ${NAME} or ${NAME:-default}");

    /* ---- the file itself ---- */
    expect_error("plume: 1\nstages:\n  a: { use: text.join\n",
                 "g.yaml:4:1: YAML syntax error: did not find expected ',' or '}' while parsing a flow mapping");
    expect_error("plume: 1\nstage:\n  a: { use: text.join }\n",
                 "g.yaml:2:1: unknown key 'stage' in the graph; did you mean 'stages'?");
    expect_error("stages: {}\n", "g.yaml:1:1: the graph has no 'plume:' version; start the file with 'plume: 1'");
    expect_error("plume: 2\nstages: {}\n", "g.yaml:1:8: graph format version must be 1; write 'plume: 1'");
    expect_error("plume: 1\nstages:\n  a: { use: text.join, wiht: { sep: x } }\n",
                 "g.yaml:3:24: unknown key 'wiht' in stage 'a'; did you mean 'with'?");

    expect_error("plume: 1\nstages:\n  a: { use: text.join, use: docs.take }\n",
                 "g.yaml:3:24: 'use' appears twice in a stage; it was first given on line 3");
    expect_error("plume: 1\nstages: {}\nplume: 1\n",
                 "g.yaml:3:1: 'plume' appears twice in a graph; it was first given on line 1");
    expect_error("plume: 1\nstages:\n  a: { use: text.truncate, in: { text: context }, out: { text: error } }\n",
                 "g.yaml:3:64: stage 'a' writes slot 'error', a name result lines keep for a failed record's message; "
                 "choose another name");
    expect_error("plume: 1\nstages:\n  a:\n", "g.yaml:3:5: a stage must be a mapping, not a scalar");
    expect_error("", "g.yaml: the file is empty; a graph starts with 'plume: 1'");

    /* ---- --set ---- */
    const char *join_yaml = "plume: 1\n"
                            "stages:\n"
                            "  j: { use: text.join, in: { a: user, b: context }, out: { text: t }, with: { sep: \"-\" } }\n";
    const char *bad_stage[] = { "jj.sep=+" };
    expect_error_set(__LINE__, join_yaml, bad_stage, 1, "--set jj.sep=+: the graph has no stage 'jj'; did you mean 'j'?");
    const char *bad_param[] = { "j.sepp=+" };
    expect_error_set(__LINE__, join_yaml, bad_param, 1,
                     "--set j.sepp=+: stage 'j' (text.join) has no parameter 'sepp'; did you mean 'sep'?");
    const char *bad_type[] = { "j.skip_empty=2" };
    expect_error_set(__LINE__, join_yaml, bad_type, 1,
                     "--set j.skip_empty=2: parameter 'skip_empty' of stage 'j' (text.join) must be true or false, "
                     "not '2'; e.g. --set j.skip_empty=true");
    const char *bad_form[] = { "sep=+" };
    expect_error_set(__LINE__, join_yaml, bad_form, 1,
                     "--set sep=+: expected STAGE.PARAM=VALUE, e.g. --set rank.budget_chars=2000");

    /* ---- ABI ---- */
    {
        char bad[PATH_MAX], yaml[PATH_MAX + 200], want[PATH_MAX + 400];
        if (!realpath(TEST_BAD_DIR "/bad_abi.so", bad)) snprintf(bad, sizeof bad, "(missing)");
        snprintf(yaml, sizeof yaml, "plume: 1\nstages:\n  x: { use: \"%s:bad.noop\" }\n", bad);
        snprintf(want, sizeof want, "g.yaml:3:13: stage 'x': %s: module ABI version %d, but this plume speaks "
                 "version %d; rebuild the module against this plume's headers", bad, PLUME_ABI_VERSION + 998,
                 PLUME_ABI_VERSION);
        expect_error_set(__LINE__, yaml, NULL, 0, want);
        plume_registry *r2 = plume_registry_new(NULL);
        plume_error err;
        CHECK(plume_registry_load(r2, bad, &err) == -1);
        char claimed[64];
        snprintf(claimed, sizeof claimed, "module ABI version %d,", PLUME_ABI_VERSION + 998);
        CHECK(strstr(err.msg, claimed) != NULL);
        CHECK(plume_registry_count(r2) == 0);
        plume_registry_close(r2);
    }

    /* ---- the distance behind the hints (hand-computed) ---- */
    CHECK(plume_edit_distance("kitten", "sitting", 100) == 3);
    CHECK(plume_edit_distance("wiht", "with", 100) == 1);     /* a swap is one edit */
    CHECK(plume_edit_distance("", "abc", 100) == 3);
    CHECK(plume_edit_distance("rank.bm52", "rank.bm25", 100) == 1);
    CHECK(plume_edit_distance("abcdef", "uvwxyz", 3) == 3);   /* capped */

    /* ---- what must load ---- */
    setenv("PLUME_TEST_SEP", "+", 1);
    const char *ok_yaml = "plume: 1\n"
                          "models:\n"
                          "  writer: { path: \"${PLUME_TEST_UNSET:-model.gguf}\" }\n"
                          "  other: m.gguf\n"
                          "stages:\n"
                          "  j: { use: text.join, in: { a: user, b: context }, out: { text: t }, with: { sep: \"${PLUME_TEST_SEP}\" } }\n"
                          "  m: { use: test.model, in: { text: t }, out: { text: where }, with: { model: writer } }\n"
                          "  n: { use: test.model, in: { text: t }, out: { text: where2 }, with: { model: other } }\n"
                          "output: [where2, id, t]\n";
    const char *sets[] = { "m.model=other" };
    plume_graph *g = load_ok(ok_yaml, sets, 1);
    if (g) {
        CHECK(plume_graph_stage_count(g) == 3);
        CHECK_STR(plume_graph_stage_name(g, 0), "j");
        CHECK(plume_graph_output_count(g) == 2);  /* id is always there, not listed twice */
        CHECK_STR(plume_graph_output(g, 0), "where2");
        CHECK_STR(plume_graph_output(g, 1), "t");
        char out[600];
        snprintf(out, sizeof out, "%s/out.jsonl", dir);
        plume_error err;
        char *text = run_request(g, "{\"id\":\"r1\",\"user\":\"ann\",\"context\":\"hi\"}", out, &err), want[1400];
        CHECK_MSG(text != NULL, "%s", err.msg);
        /* sep from ${PLUME_TEST_SEP}; m.model=other from --set; "other" resolved in the graph's folder */
        snprintf(want, sizeof want, "{\"id\":\"r1\",\"where2\":\"%s\",\"t\":\"ann+hi\"}\n", abs_model);
        CHECK_STR(text, want);
        free(text);
        plume_graph_free(g);
    }
    unlink("model.gguf");

    /* ---- DOT: every stage a node, every slot read an edge from its writer ---- */
    g = load_ok("plume: 1\n"
                "stages:\n"
                "  top: { use: docs.take, in: { docs: profile }, out: { docs: top } }\n"
                "  both: { use: text.join, in: { a: context, b: context }, out: { text: twice } }\n", NULL, 0);
    if (g) {
        FILE *f = tmpfile();
        plume_error err;
        CHECK(plume_graph_write_dot(g, f, &err) == 0);
        rewind(f);
        char dot[4096];
        size_t n = fread(dot, 1, sizeof dot - 1, f);
        dot[n] = '\0';
        fclose(f);
        CHECK_STR(dot, "digraph \"g.yaml\" {\n"
                       "  rankdir=LR;\n"
                       "  node [shape=box, style=rounded, fontname=\"sans-serif\"];\n"
                       "  edge [fontname=\"sans-serif\", fontsize=10];\n"
                       "  \"request\" [label=\"request\\nio.request\", shape=ellipse];\n"
                       "  \"top\" [label=\"top\\ndocs.take\"];\n"
                       "  \"both\" [label=\"both\\ntext.join\"];\n"
                       "  \"result\" [shape=ellipse, label=\"result\"];\n"
                       "  \"request\" -> \"top\" [label=\"profile (docs)\"];\n"
                       "  \"request\" -> \"both\" [label=\"context (text)\"];\n"
                       "  \"top\" -> \"result\" [label=\"top (docs)\"];\n"
                       "  \"both\" -> \"result\" [label=\"twice (text)\"];\n"
                       "}\n");
        plume_graph_free(g);
    }

    plume_registry_close(reg);
    test_cleanup();
    return check_finish("test_graph_errors");
}
