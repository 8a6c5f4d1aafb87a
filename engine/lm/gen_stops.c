/* Stop strings written as one text ("a|b\|c"), as a graph parameter or a command-line option
 * carries them. */
#include <stdlib.h>
#include <string.h>
#include "plume/lm.h"

void plume_gen_stops_free(char **stops, int n) {
    for (int i = 0; i < n; i++) free(stops[i]);
    free(stops);
}

int plume_gen_stops_parse(const char *spec, char ***stops, int *n) {
    *stops = NULL;
    *n = 0;
    size_t len = strlen(spec);
    if (len == 0) return 0;
    /* at most one string per bar, plus one */
    size_t cap = 1;
    for (size_t i = 0; i < len; i++) cap += spec[i] == '|';
    char **list = calloc(cap, sizeof *list);
    char *cur = malloc(len + 1);
    int count = 0;
    if (!list || !cur) goto oom;
    size_t k = 0;
    for (size_t i = 0; i <= len; i++) {
        if (i < len && spec[i] == '\\' && i + 1 < len && spec[i + 1] == '|') {
            cur[k++] = '|';
            i++;
        } else if (i == len || spec[i] == '|') {
            if (k > 0) {   /* an empty stop string would stop at once: skip it */
                cur[k] = '\0';
                if (!(list[count] = malloc(k + 1))) goto oom;
                memcpy(list[count++], cur, k + 1);
            }
            k = 0;
        } else {
            cur[k++] = spec[i];
        }
    }
    free(cur);
    if (count == 0) {   /* only empty strings: as none */
        free(list);
        return 0;
    }
    *stops = list;
    *n = count;
    return 0;
oom:
    if (list) plume_gen_stops_free(list, count);
    free(cur);
    return -1;
}
