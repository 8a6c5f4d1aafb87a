/* A stage's description as `plume modules` shows it (see stage_doc.h). */
#include <string.h>
#include "stage_doc.h"

void stage_doc_default(FILE *f, plume_type type, const char *s) {
    if (type != PLUME_STRING && type != PLUME_MODEL) {
        fputs(s, f);
        return;
    }
    fputc('"', f);
    for (; *s; s++) {
        if (*s == '\n') fputs("\\n", f);
        else if (*s == '\t') fputs("\\t", f);
        else if (*s == '"' || *s == '\\') fprintf(f, "\\%c", *s);
        else fputc(*s, f);
    }
    fputc('"', f);
}

void stage_doc_example(FILE *f, const plume_stage *s) {
    const char *dot = strchr(s->name, '.');
    fprintf(f, "my_%s: { use: %s", dot ? dot + 1 : s->name, s->name);
    const char *sep = ", in: { ";
    for (const plume_port *p = s->inputs; p && p->name; p++)
        if (!(p->flags & PLUME_PORT_OPTIONAL)) fprintf(f, "%s%s: SLOT", sep, p->name), sep = ", ";
    if (strcmp(sep, ", in: { ")) fputs(" }", f);
    sep = ", out: { ";
    for (const plume_port *p = s->outputs; p && p->name; p++) fprintf(f, "%s%s: NEW_SLOT", sep, p->name), sep = ", ";
    if (strcmp(sep, ", out: { ")) fputs(" }", f);
    sep = ", with: { ";
    for (const plume_param *p = s->params; p && p->name; p++)
        if (!p->fallback) fprintf(f, "%s%s: VALUE", sep, p->name), sep = ", ";
    if (strcmp(sep, ", with: { ")) fputs(" }", f);
    fputs(" }", f);
}

const char *stage_doc_file_name(const char *path) {
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}
