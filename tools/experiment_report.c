/* plume experiment's report: the Markdown tables, the CSV and the SVG chart.
 *
 * With the profile swap, the personalization table comes first: it is the question a
 * personalization pipeline has to answer before any other (does the output depend on whose
 * profile it was given, in the direction of that user's real document?). */
#include <math.h>
#include <string.h>
#include "experiment.h"

static void frame_line(FILE *f, const exp_report *rep) {
    fprintf(f, "%zu requests of %s; model: %s.", rep->requests, rep->data,
            rep->model ? rep->model : "each graph's own");
}

/* A p-value as a table prints it: small ones in scientific notation. */
static void print_p(FILE *f, double p) {
    if (p < 0.001) fprintf(f, "%.1e", p);
    else fprintf(f, "%.3f", p);
}

void exp_write_markdown(FILE *f, const exp_report *rep, const exp_row *rows, size_t n) {
    frame_line(f, rep);
    fprintf(f, " Scores in percent. *cont.*: the continuation, i.e. prediction and target each without the "
               "request's immediate context.\n\n");
    if (rep->swapped) {
        fprintf(f, "Personalization: each graph ran again with every request's profile replaced by another "
                   "user's (a derangement of the %zu users, seed %llu; %zu requests could not be swapped and are "
                   "left out of the comparison). Gain = own profile minus swapped, in continuation points; "
                   "p from the paired t-test and the sign test (two-sided).\n\n",
                rep->users, (unsigned long long)rep->seed, rep->not_swappable);
        fprintf(f, "| graph | cont. ROUGE-L own | swapped | gain | p (t) | p (sign) | cont. ROUGE-1 gain | p (t) "
                   "| p (sign) | identical outputs |\n");
        fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
        for (size_t i = 0; i < n; i++) {
            const exp_row *r = &rows[i];
            fprintf(f, "| %s | %.2f | %.2f | %+.2f | ", r->name, r->gain_rl.mean_a, r->gain_rl.mean_b,
                    r->gain_rl.mean_diff);
            print_p(f, r->gain_rl.t_p);
            fprintf(f, " | ");
            print_p(f, r->gain_rl.sign_p);
            fprintf(f, " | %+.2f | ", r->gain_r1.mean_diff);
            print_p(f, r->gain_r1.t_p);
            fprintf(f, " | ");
            print_p(f, r->gain_r1.sign_p);
            fprintf(f, " | %zu of %zu |\n", r->identical, r->gain_rl.n);
        }
        fprintf(f, "\n");
    }
    fprintf(f, "| graph | cont. BLEU | cont. ROUGE-1 | cont. ROUGE-2 | cont. ROUGE-L | BLEU | ROUGE-1 | ROUGE-2 "
               "| ROUGE-L | records | failed |\n");
    fprintf(f, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n");
    for (size_t i = 0; i < n; i++) {
        const exp_row *r = &rows[i];
        fprintf(f, "| %s | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %.2f | %zu | %zu |\n", r->name,
                r->own.cbleu, r->own.c1, r->own.c2, r->own.cl, r->own.bleu, r->own.r1, r->own.r2, r->own.rl,
                r->records, r->failed);
    }
}

static void csv_name(FILE *f, const char *name) {
    /* names come from file names: quote them so a comma or quote cannot shift the columns */
    fputc('"', f);
    for (const char *c = name; *c; c++) {
        if (*c == '"') fputc('"', f);
        fputc(*c, f);
    }
    fputc('"', f);
}

void exp_write_csv(FILE *f, const exp_report *rep, const exp_row *rows, size_t n) {
    fprintf(f, "graph,BLEU,ROUGE-1,ROUGE-2,ROUGE-L,records,failed,cont_BLEU,cont_ROUGE-1,cont_ROUGE-2,cont_ROUGE-L");
    if (rep->swapped)
        fprintf(f, ",swapped_records,not_swappable,swap_failed,swap_cont_ROUGE-1,swap_cont_ROUGE-L,"
                   "gain_cont_ROUGE-1,gain_cont_ROUGE-1_p_t,gain_cont_ROUGE-1_p_sign,"
                   "gain_cont_ROUGE-L,gain_cont_ROUGE-L_p_t,gain_cont_ROUGE-L_p_sign,identical_outputs");
    fprintf(f, "\n");
    for (size_t i = 0; i < n; i++) {
        const exp_row *r = &rows[i];
        csv_name(f, r->name);
        fprintf(f, ",%.6f,%.6f,%.6f,%.6f,%zu,%zu,%.6f,%.6f,%.6f,%.6f", r->own.bleu, r->own.r1, r->own.r2, r->own.rl,
                r->records, r->failed, r->own.cbleu, r->own.c1, r->own.c2, r->own.cl);
        if (rep->swapped)
            fprintf(f, ",%zu,%zu,%zu,%.6f,%.6f,%.6f,%.6g,%.6g,%.6f,%.6g,%.6g,%zu", r->gain_rl.n, rep->not_swappable,
                    r->swap_failed, r->gain_r1.mean_b, r->gain_rl.mean_b, r->gain_r1.mean_diff, r->gain_r1.t_p,
                    r->gain_r1.sign_p, r->gain_rl.mean_diff, r->gain_rl.t_p, r->gain_rl.sign_p, r->identical);
        fprintf(f, "\n");
    }
}

static void xml_text(FILE *f, const char *s) {
    for (; *s; s++) {
        switch (*s) {
        case '<': fputs("&lt;", f); break;
        case '>': fputs("&gt;", f); break;
        case '&': fputs("&amp;", f); break;
        case '"': fputs("&quot;", f); break;
        default: fputc(*s, f);
        }
    }
}

/* A nice step for an axis spanning `range`: 1, 2 or 5 times a power of ten, about 4 ticks. */
static double tick_step(double range) {
    double raw = range / 4, mag = pow(10, floor(log10(raw > 0 ? raw : 1)));
    double r = raw / mag;
    return (r <= 1 ? 1 : r <= 2 ? 2 : r <= 5 ? 5 : 10) * mag;
}

/* Panel p's values of a row: its own-profile score, and its swapped score (NAN without the swap:
 * the two whole-document panels have none). */
static double panel_value(const exp_row *r, int p, double *other) {
    *other = NAN;
    switch (p) {
    case 0: if (r->swapped) *other = r->gain_rl.mean_b; return r->own.cl;
    case 1: if (r->swapped) *other = r->gain_r1.mean_b; return r->own.c1;
    case 2: return r->own.rl;
    default: return r->own.bleu;
    }
}

/* A dot plot: one panel per metric, one line per graph; a filled dot is the graph's score with
 * the users' own profiles, a hollow one (with --swap-profiles) the score with swapped profiles.
 * Each panel's axis spans its own values, so a 2-point difference is visible; dots (not bars)
 * because the axis does not start at 0. Every value is printed beside its dot. */
void exp_write_svg(FILE *f, const exp_report *rep, const exp_row *rows, size_t n) {
    enum { PANELS = 4 };
    static const char *metric[PANELS] = { "cont. ROUGE-L", "cont. ROUGE-1", "ROUGE-L (whole)", "BLEU (whole)" };
    const double label_w = 170, panel_w = 260, panel_gap = 24, row_h = 26, top = 78, bottom = 40;
    const double width = label_w + PANELS * (panel_w + panel_gap), height = top + (double)n * row_h + bottom;
    fprintf(f, "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
               "font-family=\"sans-serif\" font-size=\"12\">\n", width, height);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f, "<text x=\"10\" y=\"20\" font-size=\"15\" font-weight=\"bold\">plume experiment: ");
    xml_text(f, rep->data);
    fprintf(f, "</text>\n<text x=\"10\" y=\"38\">%zu requests; model: ", rep->requests);
    xml_text(f, rep->model ? rep->model : "each graph's own");
    fprintf(f, "; scores in percent%s</text>\n",
            rep->swapped ? "; filled: own profile, hollow: another user's profile" : "");
    for (int p = 0; p < PANELS; p++) {
        double lo = INFINITY, hi = -INFINITY;
        for (size_t i = 0; i < n; i++) {
            double v[2];
            v[0] = panel_value(&rows[i], p, &v[1]);
            for (int j = 0; j < 2; j++) {
                if (isnan(v[j])) continue;
                if (v[j] < lo) lo = v[j];
                if (v[j] > hi) hi = v[j];
            }
        }
        if (!(hi >= lo)) lo = 0, hi = 1;
        double step = tick_step(hi - lo > 1 ? hi - lo : 1);
        double a0 = floor(lo / step) * step, a1 = ceil(hi / step) * step;
        if (a1 - a0 < step) a1 = a0 + step;
        double x0 = label_w + p * (panel_w + panel_gap), inner = panel_w - 100;   /* room for the printed values */
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" font-weight=\"bold\">%s</text>\n", x0, top - 18, metric[p]);
        for (double t = a0; t <= a1 + step / 2; t += step) {
            double x = x0 + inner * (t - a0) / (a1 - a0);
            fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#ddd\"/>\n", x, top - 8, x,
                    top + (double)n * row_h);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" fill=\"#555\">%g</text>\n", x,
                    top + (double)n * row_h + 16, t);
        }
        for (size_t i = 0; i < n; i++) {
            double y = top + (double)i * row_h + row_h / 2, other, own = panel_value(&rows[i], p, &other);
            double xo = x0 + inner * (own - a0) / (a1 - a0);
            if (!isnan(other)) {
                double xs = x0 + inner * (other - a0) / (a1 - a0);
                fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#999\"/>\n", xs, y, xo, y);
                fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"white\" stroke=\"#e15759\" "
                           "stroke-width=\"1.5\"/>\n", xs, y);
            }
            fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4.5\" fill=\"#4e79a7\"/>\n", xo, y);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">%.2f", x0 + inner + 6, y + 4, own);
            if (!isnan(other)) fprintf(f, " (%+.2f)", own - other);
            fprintf(f, "</text>\n");
        }
    }
    for (size_t i = 0; i < n; i++) {   /* the graphs' names, and a rule between lines */
        double y = top + (double)i * row_h + row_h / 2;
        fprintf(f, "<text x=\"10\" y=\"%.1f\">", y + 4);
        xml_text(f, rows[i].name);
        fprintf(f, "</text>\n");
        if (i) fprintf(f, "<line x1=\"10\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#f0f0f0\"/>\n", y - row_h / 2,
                       width - 10, y - row_h / 2);
    }
    fprintf(f, "</svg>\n");
}
