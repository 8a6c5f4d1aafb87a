/* The text module's stages through a real graph: text.join, text.truncate, docs.take.
 * Expected values are written out by hand from the inputs. */
#include "check.h"
#include "engine_test.h"

static plume_registry *reg;

/* Runs one request through a graph and returns the result line (caller frees). */
static char *run_one(const char *yaml, const char *request) {
    plume_error err = { "" };
    plume_graph *g = plume_graph_parse(reg, yaml, strlen(yaml), "t.yaml", test_dir, NULL, 0, &err);
    CHECK_MSG(g != NULL, "%s", err.msg);
    if (!g) return NULL;
    char out[600];
    snprintf(out, sizeof out, "%s/out.jsonl", test_dir);
    char *text = run_request(g, request, out, &err);
    CHECK_MSG(text != NULL, "%s", err.msg);
    plume_graph_free(g);
    return text;
}

static void expect(const char *yaml, const char *request, const char *want) {
    char *got = run_one(yaml, request);
    CHECK_STR(got, want);
    free(got);
}

int main(void) {
    test_tmpdir();
    reg = test_registry();
    const char *req = "{\"id\": \"q\", \"user\": \"ann\", \"context\": \"na\xc3\xafve \xe2\x82\xac sign\", \"target\": \"\","
                      " \"profile\": [{\"id\": \"d1\", \"text\": \"one\", \"time\": 1}, {\"id\": \"d2\", \"title\": \"T\","
                      " \"text\": \"two\", \"time\": 2}, {\"id\": \"d3\", \"text\": \"three\"}]}";

    /* text.truncate counts code points: "naïve € sign" is n,a,ï,v,e,' ',€ ... */
    const char *cut = "plume: 1\nstages:\n  c: { use: text.truncate, in: { text: context }, out: { text: s }, "
                      "with: { max_chars: %d } }\n";
    char yaml[512];
    snprintf(yaml, sizeof yaml, cut, 3);
    expect(yaml, req, "{\"id\":\"q\",\"s\":\"na\xc3\xaf\"}\n");          /* ï (2 bytes) kept whole */
    snprintf(yaml, sizeof yaml, cut, 7);
    expect(yaml, req, "{\"id\":\"q\",\"s\":\"na\xc3\xafve \xe2\x82\xac\"}\n");  /* € (3 bytes) kept whole */
    snprintf(yaml, sizeof yaml, cut, 6);
    expect(yaml, req, "{\"id\":\"q\",\"s\":\"na\xc3\xafve \"}\n");
    snprintf(yaml, sizeof yaml, cut, 0);
    expect(yaml, req, "{\"id\":\"q\",\"s\":\"\"}\n");
    snprintf(yaml, sizeof yaml, cut, 100);
    expect(yaml, req, "{\"id\":\"q\",\"s\":\"na\xc3\xafve \xe2\x82\xac sign\"}\n");

    /* text.join: ports in order, separator between, empty pieces skipped unless told otherwise */
    expect("plume: 1\nstages:\n  j: { use: text.join, in: { a: user, b: target, c: id }, out: { text: s }, "
           "with: { sep: \" / \" } }\n", req, "{\"id\":\"q\",\"s\":\"ann / q\"}\n");
    expect("plume: 1\nstages:\n  j: { use: text.join, in: { a: user, b: target, c: id }, out: { text: s }, "
           "with: { sep: \",\", skip_empty: false } }\n", req, "{\"id\":\"q\",\"s\":\"ann,,q\"}\n");
    expect("plume: 1\nstages:\n  j: { use: text.join, in: { a: id, b: id }, out: { text: s } }\n", req,
           "{\"id\":\"q\",\"s\":\"q\\nq\"}\n");

    /* docs.take: the first n, in order, fields kept */
    expect("plume: 1\nstages:\n  t: { use: docs.take, in: { docs: profile }, out: { docs: top }, with: { n: 2 } }\n",
           req, "{\"id\":\"q\",\"top\":[{\"id\":\"d1\",\"title\":\"\",\"text\":\"one\",\"time\":1.0,\"score\":0.0},"
           "{\"id\":\"d2\",\"title\":\"T\",\"text\":\"two\",\"time\":2.0,\"score\":0.0}]}\n");
    expect("plume: 1\nstages:\n  t: { use: docs.take, in: { docs: profile }, out: { docs: top }, with: { n: 0 } }\n",
           req, "{\"id\":\"q\",\"top\":[]}\n");

    /* docs.join: texts in order, titles on request, the budget counted in code points */
    expect("plume: 1\nstages:\n  j: { use: docs.join, in: { docs: profile }, out: { text: s } }\n", req,
           "{\"id\":\"q\",\"s\":\"one\\ntwo\\nthree\"}\n");
    expect("plume: 1\nstages:\n  j: { use: docs.join, in: { docs: profile }, out: { text: s }, "
           "with: { sep: \" | \", with_title: true, max_chars: 12 } }\n", req,
           "{\"id\":\"q\",\"s\":\"one | T: two\"}\n");
    expect("plume: 1\nstages:\n  t: { use: text.join, in: { a: context, b: context }, out: { text: c2 }, with: { sep: \"\" } }\n"
           "  j: { use: docs.join, in: { docs: profile }, out: { text: s }, with: { max_chars: 1 } }\n"
           "output: [s]\n", req, "{\"id\":\"q\",\"s\":\"o\"}\n");

    /* io.docs_file: the same documents for every record */
    char docs[600], y2[1024];
    snprintf(docs, sizeof docs, "%s/corpus.jsonl", test_dir);
    write_file(docs, "{\"id\": \"c1\", \"title\": \"A\", \"text\": \"alpha\", \"time\": 5}\n\n{\"id\": 2, \"text\": \"beta\"}\n");
    snprintf(y2, sizeof y2, "plume: 1\nstages:\n  f: { use: io.docs_file, out: { docs: corpus }, with: { path: \"%s\" } }\n",
             docs);
    expect(y2, req, "{\"id\":\"q\",\"corpus\":[{\"id\":\"c1\",\"title\":\"A\",\"text\":\"alpha\",\"time\":5.0,\"score\":0.0},"
           "{\"id\":\"2\",\"title\":\"\",\"text\":\"beta\",\"time\":0.0,\"score\":0.0}]}\n");
    plume_value v = { 0 };
    plume_error err;
    write_file(docs, "{\"id\": \"c1\"}\n{\"id\": \n");
    CHECK(plume_docs_read_jsonl(docs, &v, &err) == -1);
    char want[800];
    snprintf(want, sizeof want, "%s:2: malformed JSON: unexpected token near end of file", docs);
    CHECK_STR(err.msg, want);

    /* The main job: graphs/default.yaml (the paper's pipeline, generating with the shipped model)
     * over tests/data/requests.jsonl. The first line: the prediction starts with the request's
     * context, and the per-record scores follow. Short decoding keeps the test fast. */
    {
        char graph_path[600], data[600], out[600], model[600];
        snprintf(graph_path, sizeof graph_path, "%s/graphs/default.yaml", getenv("PLUME_SOURCE_DIR"));
        snprintf(model, sizeof model, "%s/models/plume-email.gguf", getenv("PLUME_SOURCE_DIR"));
        snprintf(data, sizeof data, "%s/requests.jsonl", getenv("PLUME_TEST_DATA"));
        snprintf(out, sizeof out, "%s/default.jsonl", test_dir);
        setenv("PLUME_MODEL", model, 1);
        setenv("PLUME_MAX_TOKENS", "4", 1);
        setenv("PLUME_BEAMS", "1", 1);
        plume_graph *g = plume_graph_load(reg, graph_path, NULL, 0, &err);
        CHECK_MSG(g != NULL, "%s", err.msg);
        plume_run_options opt = plume_run_defaults();
        opt.data = data;
        opt.out = out;
        plume_run_report rep;
        CHECK(g && plume_run(g, &opt, &rep, &err) == 0 && rep.records == 15 && rep.failed == 0);
        char *text = read_file(out);
        const char *first = "{\"id\":\"beer-1\",\"output\":\"How long should I age a barleywine before opening it?";
        CHECK(text && strncmp(text, first, strlen(first)) == 0);
        const char *nl = text ? strchr(text, '\n') : NULL, *score = text ? strstr(text, "\"rouge1\":") : NULL;
        CHECK(nl && score && score < nl && strstr(text, "\"bleu\":") < nl);
        free(text);
        plume_graph_free(g);
    }

    plume_registry_close(reg);
    test_cleanup();
    return check_finish("test_text");
}
