/* plume modules [STAGE]: every stage there is, or one stage explained (as gst-inspect does). */
#include <stdio.h>
#include <string.h>
#include "commands.h"
#include "modules_markdown.h"
#include "plume/plume.h"
#include "stage_doc.h"

/* Prints `text` wrapped at 96 columns, each line indented by `indent` spaces. */
static void print_wrapped(const char *text, int indent) {
    const int width = 96;
    int col = 0;
    while (*text) {
        size_t word = strcspn(text, " ");
        if (col > 0 && col + 1 + (int)word > width) {
            putchar('\n');
            col = 0;
        }
        if (col == 0) col = printf("%*s", indent, "");
        else col += printf(" ");
        col += printf("%.*s", (int)word, text);
        text += word;
        while (*text == ' ') text++;
    }
    putchar('\n');
}

static void print_ports(const char *title, const plume_port *ports) {
    printf("  %s\n", title);
    if (!ports || !ports->name) {
        printf("    (none)\n");
        return;
    }
    for (const plume_port *p = ports; p->name; p++)
        printf("    %-12s %-7s %s%s\n", p->name, plume_type_name(p->type), p->doc ? p->doc : "",
               p->flags & PLUME_PORT_OPTIONAL ? " (optional: may be left unwired)" : "");
}

static void print_short(const plume_registry *reg, const plume_stage *s, const char *path) {
    const plume_module *m = plume_registry_module_of(reg, s);
    printf("%s  (module %s %s, %s)\n", s->name, m ? m->name : "?", m ? m->version : "", path);
    print_wrapped(s->doc ? s->doc : "(no description)", 2);
    printf("  in: ");
    int any = 0;
    for (const plume_port *p = s->inputs; p && p->name; p++, any = 1)
        printf(" %s%s: %s%s", p->name, p->flags & PLUME_PORT_OPTIONAL ? "?" : "", plume_type_name(p->type),
               p[1].name ? "," : "");
    printf("%s\n  out:", any ? "" : " (none)");
    any = 0;
    for (const plume_port *p = s->outputs; p && p->name; p++, any = 1)
        printf(" %s: %s%s", p->name, plume_type_name(p->type), p[1].name ? "," : "");
    printf("%s\n  with:", any ? "" : " (none)");
    any = 0;
    for (const plume_param *p = s->params; p && p->name; p++, any = 1) {
        printf(" %s: %s", p->name, plume_type_name(p->type));
        if (p->fallback) {
            printf(" = ");
            stage_doc_default(stdout, p->type, p->fallback);
        } else {
            printf(" (required)");
        }
        char range[96];
        if (plume_param_has_range(p)) printf(" (%s)", plume_param_range_text(p, range, sizeof range));
        if (p[1].name) putchar(',');
    }
    printf("%s\n\n", any ? "" : " (none)");
}

static void print_long(const plume_registry *reg, const plume_stage *s, const char *path) {
    const plume_module *m = plume_registry_module_of(reg, s);
    printf("%s\n\n", s->name);
    print_wrapped(s->doc ? s->doc : "(no description)", 2);
    putchar('\n');
    printf("  module: %s %s\n  file:   %s\n\n", m ? m->name : "?", m ? m->version : "", path);
    print_ports("inputs (wire each under in: to a slot another stage writes):", s->inputs);
    print_ports("outputs (wire each under out: to a new slot name):", s->outputs);
    printf("  parameters (set under with:, or on the command line with --set STAGE.PARAM=VALUE):\n");
    if (!s->params || !s->params->name) printf("    (none)\n");
    for (const plume_param *p = s->params; p && p->name; p++) {
        printf("    %-12s %-7s ", p->name, plume_type_name(p->type));
        if (p->fallback) {
            printf("default ");
            stage_doc_default(stdout, p->type, p->fallback);
        } else {
            printf("required");
        }
        char range[96];
        if (plume_param_has_range(p)) printf(" (%s)", plume_param_range_text(p, range, sizeof range));
        printf("\n                         %s\n", p->doc ? p->doc : "");
    }
    printf("\n  example:\n    stages:\n      ");
    stage_doc_example(stdout, s);
    putchar('\n');
}

/* A name with a slash or ending in .so is a module file: explain what it provides, and how a
 * graph gets at it. */
static int is_module_file(const char *arg) {
    size_t n = strlen(arg);
    return strchr(arg, '/') || (n > 3 && !strcmp(arg + n - 3, ".so"));
}

static int explain_file(const char *path) {
    plume_error err;
    plume_registry *file_reg = plume_registry_new(&err);
    if (!file_reg) {
        fprintf(stderr, "plume: %s\n", err.msg);
        return 1;
    }
    if (plume_registry_load(file_reg, path, &err)) {
        fprintf(stderr, "plume: %s\n", err.msg);
        plume_registry_close(file_reg);
        return 1;
    }
    /* which stages a graph would get by name: those already known come first and win */
    plume_registry *all = plume_registry_open(&err);
    size_t n = plume_registry_count(file_reg);
    const char *real = NULL;
    const plume_stage *first = plume_registry_stage(file_reg, 0, &real);
    const plume_module *m = first ? plume_registry_module_of(file_reg, first) : NULL;
    printf("%s: module %s %s, %zu stage%s\n\n", real ? real : path, m ? m->name : "?", m ? m->version : "", n,
           n == 1 ? "" : "s");
    for (size_t i = 0; i < n; i++) {
        const char *file;
        const plume_stage *s = plume_registry_stage(file_reg, i, &file);
        print_long(file_reg, s, file);
        const char *other = NULL;
        if (all && plume_registry_find(all, s->name, &other) && strcmp(other, file))
            printf("\n  note: a graph's `use: %s` gets the stage of %s (the built-in folder and PLUME_MODULE_PATH\n"
                   "  are searched, PLUME_MODULE_PATH first); `use: FILE:%s` picks this file's\n", s->name, other,
                   s->name);
        printf("\n");
    }
    printf("Use it from a graph by path (relative to the graph file), `use: %s:STAGE`, or by name, with its\n"
           "folder in PLUME_MODULE_PATH.\n", path);
    plume_registry_close(all);
    plume_registry_close(file_reg);
    return 0;
}

int cmd_modules(int argc, char **argv) {
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: plume modules [STAGE | FILE.so | --markdown]\n\n"
               "Lists every stage plume can load, with its ports and parameters; with STAGE, explains that one;\n"
               "with a module file (a path, or a name ending in .so), explains every stage it provides.\n"
               "Stages come from the folders in PLUME_MODULE_PATH, then from the built-in folder (%s).\n\n"
               "--markdown writes the reference of every stage as Markdown (docs/stages.md is this output).\n\n"
               "A stage of PLUME_MODULE_PATH with the name of a built-in stage hides it: the listing\n"
               "ends with a warning naming both files.\n",
               plume_builtin_module_dir() ? plume_builtin_module_dir() : "?");
        return 0;
    }
    if (argc > 2) {
        fprintf(stderr, "plume modules: one argument at most (STAGE, FILE.so or --markdown), got %d; "
                "`plume modules --help` explains them\n", argc - 1);
        return 2;
    }
    int markdown = argc == 2 && !strcmp(argv[1], "--markdown");
    if (argc == 2 && argv[1][0] == '-' && !markdown) {
        fprintf(stderr, "plume modules: unknown option '%s'; the options are --markdown and --help\n", argv[1]);
        return 2;
    }
    plume_error err;
    plume_registry *reg = plume_registry_open(&err);
    if (!reg) {
        fprintf(stderr, "plume: %s\n", err.msg);
        return 1;
    }
    int rc = 0;
    if (markdown) {
        if (modules_write_markdown(reg, stdout)) {
            fprintf(stderr, "plume modules: could not write the Markdown to standard output\n");
            rc = 1;
        }
    } else if (argc == 2 && is_module_file(argv[1])) {
        plume_registry_close(reg);
        return explain_file(argv[1]);
    } else if (argc == 2) {
        const char *path;
        const plume_stage *s = plume_registry_find(reg, argv[1], &path);
        if (s) {
            print_long(reg, s, path);
        } else {
            const char *near = plume_registry_suggest(reg, argv[1]);
            fprintf(stderr, "plume: no stage '%s'", argv[1]);
            if (near) fprintf(stderr, "; did you mean '%s'?\n", near);
            else fprintf(stderr, "; `plume modules` lists the stages there are\n");
            rc = 1;
        }
    } else {
        size_t n = plume_registry_count(reg);
        printf("%zu stage%s (built-in folder: %s)\n\n", n, n == 1 ? "" : "s",
               plume_builtin_module_dir() ? plume_builtin_module_dir() : "?");
        for (size_t i = 0; i < n; i++) {
            const char *path;
            const plume_stage *s = plume_registry_stage(reg, i, &path);
            print_short(reg, s, path);
        }
        printf("A '?' after an input means it is optional. `plume modules STAGE` explains one stage.\n");
    }
    for (size_t i = 0; i < plume_registry_shadow_count(reg); i++) {
        const char *winner, *hidden, *name = plume_registry_shadow(reg, i, &winner, &hidden);
        fprintf(stderr, "plume: warning: stage '%s' of %s hides the one of %s (PLUME_MODULE_PATH is searched "
                "first); a graph gets the hidden one with `use: %s:%s`\n", name, winner, hidden, hidden, name);
    }
    for (size_t i = 0; i < plume_registry_problem_count(reg); i++)
        fprintf(stderr, "plume: warning: module not loaded: %s\n", plume_registry_problem(reg, i));
    plume_registry_close(reg);
    return rc;
}
