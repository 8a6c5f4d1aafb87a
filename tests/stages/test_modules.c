/* The built module files (build/lib/plume/modules/plume-*.so) export a well-formed descriptor:
 * ABI numbers, the stage names, ports and parameters as `plume modules` will list them.
 * RTLD_LAZY: the batch accessors resolve against the engine, which this test does not call. */
#include <dlfcn.h>
#include <stdlib.h>
#include <string.h>
#include "check.h"
#include "plume/stage.h"

static void check_module(const char *name, const char *const *stages, size_t n_stages) {
    char path[1024];
    snprintf(path, sizeof path, "%s/lib/plume/modules/plume-%s.so", getenv("PLUME_BUILD_DIR"), name);
    void *h = dlopen(path, RTLD_LAZY | RTLD_LOCAL);
    CHECK_MSG(h != NULL, "%s", dlerror());
    if (!h) return;
    const plume_module *m = dlsym(h, PLUME_MODULE_SYMBOL);
    CHECK_MSG(m != NULL, "%s has no %s", path, PLUME_MODULE_SYMBOL);
    if (m) {
        CHECK(m->abi_version == PLUME_ABI_VERSION);
        CHECK(m->stage_size == sizeof(plume_stage));
        CHECK_STR(m->name, name);
        size_t n = 0;
        while (m->stages[n]) n++;
        CHECK(n == n_stages);
        for (size_t i = 0; i < n && i < n_stages; i++) {
            const plume_stage *s = m->stages[i];
            CHECK_STR(s->name, stages[i]);
            CHECK(s->run != NULL && s->doc && strlen(s->doc) > 40);
            for (const plume_port *p = s->inputs; p && p->name; p++)
                CHECK(p->type >= PLUME_TEXT && p->type <= PLUME_NUMBER && p->doc);
            for (const plume_port *p = s->outputs; p && p->name; p++)
                CHECK(p->type >= PLUME_TEXT && p->type <= PLUME_NUMBER && p->doc && !(p->flags & PLUME_PORT_OPTIONAL));
            for (const plume_param *p = s->params; p && p->name; p++)
                /* only a model may be required: nothing else has a value a graph must choose */
                CHECK(p->type >= PLUME_INT && p->type <= PLUME_MODEL && p->doc && (p->fallback || p->type == PLUME_MODEL));
        }
    }
    dlclose(h);
}

int main(void) {
    if (!getenv("PLUME_BUILD_DIR")) {
        fprintf(stderr, "test_modules: run through ctest (PLUME_BUILD_DIR unset)\n");
        return 1;
    }
    static const char *const ev[] = { "eval.metrics" };
    static const char *const syn[] = { "synthesize.ctx_independent", "synthesize.weak_labels", "synthesize.ctx" };
    static const char *const sum[] = { "summarize.ctx_independent", "summarize.weak_labels", "summarize.ctx" };
    static const char *const pr[] = { "prompt.compose" };
    static const char *const gen[] = { "generate.lm" };
    check_module("eval", ev, 1);
    check_module("synthesize", syn, 3);
    check_module("summarize", sum, 3);
    check_module("generate", gen, 1);
    check_module("prompt", pr, 1);
    return check_finish("test_modules");
}
