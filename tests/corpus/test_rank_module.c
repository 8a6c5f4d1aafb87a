/* plume-rank.so as the loader sees it: one exported descriptor of this ABI, five stages named in
 * plume's module.stage style, each documenting the paper's name, with the ports and parameters
 * the graphs in graphs/ wire. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/stage.h"

static const plume_stage *find(const plume_module *m, const char *name) {
    for (const plume_stage *const *s = m->stages; *s; s++)
        if (!strcmp((*s)->name, name)) return *s;
    return NULL;
}

static int has_param(const plume_stage *s, const char *name, const char *fallback) {
    for (const plume_param *p = s->params; p && p->name; p++)
        if (!strcmp(p->name, name)) return fallback ? p->fallback && !strcmp(p->fallback, fallback) : 1;
    return 0;
}

int main(void) {
    char path[4096];
    snprintf(path, sizeof path, "%s/lib/plume/modules/plume-rank.so", getenv("PLUME_BUILD_DIR"));
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "%s", dlerror());
    if (!h) return check_finish("test_rank_module");
    const plume_module *m = dlsym(h, PLUME_MODULE_SYMBOL);
    CHECK(m != NULL);
    if (m) {
        CHECK(m->abi_version == PLUME_ABI_VERSION && m->stage_size == sizeof(plume_stage));
        CHECK_STR(m->name, "rank");
        const char *names[] = { "rank.doc_bm25", "rank.doc_dense", "rank.snippet", "rank.doc_by_snippet", "rank.recent" };
        const char *paper[] = { "RankDocBM25", "RankDocDense", "RankSnippet", "RankDocBySnpt", "RecentDoc" };
        size_t n = 0;
        for (const plume_stage *const *s = m->stages; *s; s++) n++;
        CHECK(n == 5);
        for (int i = 0; i < 5; i++) {
            const plume_stage *s = find(m, names[i]);
            CHECK_MSG(s != NULL, "%s missing", names[i]);
            if (!s) continue;
            CHECK_MSG(strstr(s->doc, paper[i]) != NULL, "%s's doc does not name %s", names[i], paper[i]);
            CHECK_STR(s->inputs[0].name, "query");
            CHECK(s->inputs[0].type == PLUME_TEXT);
            CHECK_STR(s->inputs[1].name, "profile");
            CHECK(s->inputs[1].type == PLUME_DOCS && s->inputs[2].name == NULL);
            CHECK_STR(s->outputs[0].name, "entries");
            CHECK(s->outputs[0].type == PLUME_DOCS && s->outputs[1].name == NULL);
            CHECK(has_param(s, "budget_chars", "2500"));
            CHECK(s->create && s->run && s->state_size > 0);
        }
        const plume_stage *bm25 = find(m, "rank.doc_bm25"), *recent = find(m, "rank.recent");
        if (bm25) CHECK(has_param(bm25, "k1", "1.2") && has_param(bm25, "b", "0.75"));
        if (recent) CHECK(recent->inputs[0].flags & PLUME_PORT_OPTIONAL);   /* recency needs no query */
        const plume_stage *by = find(m, "rank.doc_by_snippet");
        if (by) CHECK(has_param(by, "snippet_chars", "250") && strstr(by->doc, "BM25") != NULL);
    }
    dlclose(h);
    return check_finish("test_rank_module");
}
