/* Every training kernel against a plain-C reference: the backward kernels against
 * central finite differences (step 1e-5, in double) of a double-precision forward of
 * L = sum(r * op(inputs)) for a random upstream gradient r; the cross-entropy's loss and
 * gradient; AdamW and the squared-norm partials against the update written out in C.
 * Tolerance: |gpu - fd| <= 2e-4 + 2e-3 |fd| (the kernels compute in float). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "gpu_internal.h"
#include "gpu_test.h"
#include "train_ops.h"

static plume_gpu *gpu;
static plume_error err;

static double *rnd(int n, double scale) {
    double *a = malloc((size_t)n * sizeof *a);
    for (int i = 0; i < n; i++) a[i] = (double)(float)(rng_f() * scale);  /* representable in float */
    return a;
}
static pbuf *up(const double *a, int n) {
    float *f = malloc((size_t)n * 4);
    for (int i = 0; i < n; i++) f[i] = (float)a[i];
    pbuf *b = t_buffer(gpu, f, (uint64_t)n * 4);
    free(f);
    return b;
}
static float *down(pbuf *b, int n) {
    float *f = malloc((size_t)n * 4);
    t_download(b, f, (uint64_t)n * 4);
    return f;
}
static pbuf *zeros(int n) {
    pbuf *b = t_buffer(gpu, NULL, (uint64_t)n * 4);
    T_OK(plume_gpu_fill(b, 0, (uint64_t)n * 4, 0, &err));
    return b;
}
static pbuf *rows_buf(int n, int seq_len, const int *tokens) {
    plume_gpu_row *r = calloc((size_t)n, sizeof *r);
    for (int i = 0; i < n; i++) r[i] = (plume_gpu_row){tokens ? (uint32_t)tokens[i] : 0, (uint32_t)(i % seq_len),
                                                       (uint32_t)(i / seq_len), 0};
    pbuf *b = t_buffer(gpu, r, (uint64_t)n * 16);
    free(r);
    return b;
}

/* The loss L(params) for finite differences. */
typedef double (*loss_fn)(void);

static int n_bad;
/* Compares gpu[i] - base[i] with dL/dp[i] by central differences over p. */
static void fd_check(const char *what, loss_fn L, double *p, int n, const float *gpu_g, const double *base) {
    double worst = 0;
    for (int i = 0; i < n; i++) {
        double keep = p[i], h = 1e-5;
        p[i] = keep + h;
        double a = L();
        p[i] = keep - h;
        double b = L();
        p[i] = keep;
        double fd = (a - b) / (2 * h), g = gpu_g[i] - (base ? base[i] : 0.0);
        double e = fabs(g - fd) / (2e-4 + 2e-3 * fabs(fd));
        if (e > worst) worst = e;
        if (e > 1 && n_bad++ < 10) fprintf(stderr, "%s[%d]: gpu %.8g, finite differences %.8g\n", what, i, g, fd);
    }
    CHECK_MSG(worst <= 1, "%s: worst error %.3g of the tolerance", what, worst);
}

static plume_gpu_rec *begin(void) {
    plume_gpu_rec *r = plume_gpu_rec_begin(gpu, &err);
    if (!r) { fprintf(stderr, "rec: %s\n", err.msg); exit(1); }
    return r;
}
static void submit(plume_gpu_rec *r) {
    T_OK(plume_gpu_rec_end(r, &err));
    T_OK(plume_gpu_rec_submit(r, &err));
    plume_gpu_rec_free(r);
}

/* ---- matmul ---------------------------------------------------------------------- */
static int MR = 7, MC = 9, MN = 5;   /* odd shapes (scalar loads), then multiples of 4 (vec4 loads) */
static double *mw, *mx, *mr;
static double mm_loss(void) {
    double s = 0;
    for (int i = 0; i < MN; i++)
        for (int r = 0; r < MR; r++) {
            double y = 0;
            for (int c = 0; c < MC; c++) y += mw[r * MC + c] * mx[i * MC + c];
            s += mr[i * MR + r] * y;
        }
    return s;
}
static void test_matmul(int rows, int cols, int n) {
    MR = rows; MC = cols; MN = n;
    mw = rnd(MR * MC, 1); mx = rnd(MN * MC, 1); mr = rnd(MN * MR, 1);
    double *pre_dx = rnd(MN * MC, 1), *pre_dw = rnd(MR * MC, 1), *pre_y = rnd(MN * MR, 1);
    pbuf *w = up(mw, MR * MC), *x = up(mx, MN * MC), *dy = up(mr, MN * MR);
    pbuf *y = up(pre_y, MN * MR), *y2 = up(pre_y, MN * MR), *dx = up(pre_dx, MN * MC), *dw = up(pre_dw, MR * MC);
    /* y takes the fast path where rows and cols are multiples of 4 (W transposed into the
     * scratch), y2 the plain one; dx and dW take the fast path there too */
    pbuf *scratch = up(pre_dw, MR * MC);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_matmul(rec, w, x, y, scratch, MR, MC, MN, 0, &err));
    T_OK(plume_train_matmul(rec, w, x, y2, NULL, MR, MC, MN, 1, &err));
    T_OK(plume_train_matmul_dx(rec, w, dy, dx, MR, MC, MN, 1, &err));
    T_OK(plume_train_matmul_dw(rec, dy, x, dw, MR, MC, MN, &err));
    submit(rec);
    float *gy = down(y, MN * MR), *gy2 = down(y2, MN * MR), *gdx = down(dx, MN * MC), *gdw = down(dw, MR * MC);
    double worst = 0;
    for (int i = 0; i < MN; i++)
        for (int r = 0; r < MR; r++) {
            double s = 0;
            for (int c = 0; c < MC; c++) s += mw[r * MC + c] * mx[i * MC + c];
            worst = fmax(worst, fabs(gy[i * MR + r] - s));
            worst = fmax(worst, fabs(gy2[i * MR + r] - (s + pre_y[i * MR + r])));
        }
    CHECK_MSG(worst < 1e-5, "matmul forward (and accumulate) off by %g", worst);
    fd_check("matmul dx (accumulated)", mm_loss, mx, MN * MC, gdx, pre_dx);
    fd_check("matmul dW (accumulated)", mm_loss, mw, MR * MC, gdw, pre_dw);
    /* overwrite mode of dx */
    rec = begin();
    T_OK(plume_train_matmul_dx(rec, w, dy, dx, MR, MC, MN, 0, &err));
    submit(rec);
    free(gdx);
    gdx = down(dx, MN * MC);
    fd_check("matmul dx", mm_loss, mx, MN * MC, gdx, NULL);
    /* an aliased output is refused */
    rec = begin();
    CHECK(plume_train_matmul(rec, w, x, x, NULL, MR, MC, MN, 0, &err) == -1 && strstr(err.msg, "alias"));
    CHECK(plume_train_matmul(rec, w, x, y, w, MR, MC, MN, 0, &err) == -1 && strstr(err.msg, "alias"));
    plume_gpu_rec_free(rec);
    plume_gpu_buffer_free(scratch);
    plume_gpu_buffer_free(w); plume_gpu_buffer_free(x); plume_gpu_buffer_free(dy); plume_gpu_buffer_free(y);
    plume_gpu_buffer_free(y2); plume_gpu_buffer_free(dx); plume_gpu_buffer_free(dw);
    free(gy); free(gy2); free(gdx); free(gdw); free(mw); free(mx); free(mr); free(pre_dx); free(pre_dw); free(pre_y);
}

/* ---- embedding --------------------------------------------------------------------- */
enum { EV = 6, ED = 5, EN = 9 };
static double *ee, *er;
static const int etok[EN] = {3, 0, 3, 5, 1, 3, 0, 2, 5};
static double embed_loss(void) {
    double s = 0;
    for (int i = 0; i < EN; i++)
        for (int c = 0; c < ED; c++) s += er[i * ED + c] * ee[etok[i] * ED + c];
    return s;
}
static void test_embed(void) {
    ee = rnd(EV * ED, 1); er = rnd(EN * ED, 1);
    double *pre = rnd(EV * ED, 1);
    pbuf *e = up(ee, EV * ED), *de = up(pre, EV * ED), *d = up(er, EN * ED), *out = zeros(EN * ED);
    pbuf *rows = rows_buf(EN, EN, etok);
    /* the token index, checked by hand: token 0 at rows 1, 6; 1 at 4; 2 at 7; 3 at 0, 2, 5; 5 at 3, 8 */
    plume_gpu_row hr[EN];
    uint32_t ix[EV + 1 + EN];
    for (int i = 0; i < EN; i++) hr[i] = (plume_gpu_row){(uint32_t)etok[i], 0, 0, 0};
    plume_train_token_index(hr, EN, EV, ix);
    const uint32_t want_ix[EV + 1 + EN] = {0, 2, 3, 4, 7, 7, 9, 1, 6, 4, 7, 0, 2, 5, 3, 8};
    CHECK(memcmp(ix, want_ix, sizeof ix) == 0);
    pbuf *bix = t_buffer(gpu, ix, sizeof ix);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_embed(rec, e, rows, out, EN, ED, EV, &err));
    T_OK(plume_train_embed_backward(rec, de, rows, bix, d, EN, ED, EV, &err));
    submit(rec);
    float *go = down(out, EN * ED), *gde = down(de, EV * ED);
    int same = 1;
    for (int i = 0; i < EN; i++)
        for (int c = 0; c < ED; c++) same &= go[i * ED + c] == (float)ee[etok[i] * ED + c];
    CHECK_MSG(same, "embedding forward copies the token's row");
    fd_check("embedding dE (accumulated)", embed_loss, ee, EV * ED, gde, pre);
    plume_gpu_buffer_free(e); plume_gpu_buffer_free(de); plume_gpu_buffer_free(d); plume_gpu_buffer_free(out);
    plume_gpu_buffer_free(rows); plume_gpu_buffer_free(bix);
    free(go); free(gde); free(ee); free(er); free(pre);
}

/* ---- rmsnorm ------------------------------------------------------------------------ */
enum { RN = 4, RD = 13 };
static double *rx, *rw, *rr;
static const double reps = 1e-5;
static double rms_loss(void) {
    double s = 0;
    for (int i = 0; i < RN; i++) {
        double ss = 0;
        for (int c = 0; c < RD; c++) ss += rx[i * RD + c] * rx[i * RD + c];
        double sc = 1.0 / sqrt(ss / RD + (double)(float)reps);
        for (int c = 0; c < RD; c++) s += rr[i * RD + c] * rx[i * RD + c] * sc * rw[c];
    }
    return s;
}
static void test_rmsnorm(void) {
    rx = rnd(RN * RD, 2); rw = rnd(RD, 1); rr = rnd(RN * RD, 1);
    double *pre_dx = rnd(RN * RD, 1), *pre_dw = rnd(RD, 1);
    pbuf *x = up(rx, RN * RD), *w = up(rw, RD), *dy = up(rr, RN * RD), *dx = up(pre_dx, RN * RD);
    pbuf *dw = up(pre_dw, RD), *rs = zeros(RN), *dx0 = zeros(RN * RD), *dw0 = zeros(RD);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_rmsnorm_backward(rec, x, w, dy, dx, rs, dw, RN, RD, (float)reps, 1, &err));
    T_OK(plume_train_rmsnorm_backward(rec, x, w, dy, dx0, rs, dw0, RN, RD, (float)reps, 0, &err));
    submit(rec);
    float *gdx = down(dx, RN * RD), *gdw = down(dw, RD), *gdx0 = down(dx0, RN * RD), *gdw0 = down(dw0, RD);
    fd_check("rmsnorm dx (accumulated)", rms_loss, rx, RN * RD, gdx, pre_dx);
    fd_check("rmsnorm dw (accumulated)", rms_loss, rw, RD, gdw, pre_dw);
    fd_check("rmsnorm dx", rms_loss, rx, RN * RD, gdx0, NULL);
    fd_check("rmsnorm dw", rms_loss, rw, RD, gdw0, NULL);
    pbuf *all[] = {x, w, dy, dx, dw, rs, dx0, dw0};
    for (int i = 0; i < 8; i++) plume_gpu_buffer_free(all[i]);
    free(gdx); free(gdw); free(gdx0); free(gdw0); free(rx); free(rw); free(rr); free(pre_dx); free(pre_dw);
}

/* ---- rope --------------------------------------------------------------------------- */
enum { PN = 5, PH = 3, PHD = 8 };
static double *px, *pr;
static int pneox;
static double rope_loss(void) {
    double s = 0;
    for (int i = 0; i < PN; i++)
        for (int h = 0; h < PH; h++)
            for (int j = 0; j < PHD / 2; j++) {
                /* the kernel's angle: float(pos) * float(theta^(-2j/hd)) */
                double a = (double)(float)(i % 3) * (double)powf(100.0f, -2.0f * (float)j / (float)PHD);
                int base = (i * PH + h) * PHD;
                int i0 = pneox ? base + j : base + 2 * j, i1 = pneox ? base + j + PHD / 2 : base + 2 * j + 1;
                double y0 = px[i0] * cos(a) - px[i1] * sin(a), y1 = px[i0] * sin(a) + px[i1] * cos(a);
                s += pr[i0] * y0 + pr[i1] * y1;
            }
    return s;
}
static void test_rope(void) {
    for (pneox = 0; pneox < 2; pneox++) {
        px = rnd(PN * PH * PHD, 1); pr = rnd(PN * PH * PHD, 1);
        pbuf *d = up(pr, PN * PH * PHD), *rows = rows_buf(PN, 3, NULL);
        plume_gpu_rec *rec = begin();
        T_OK(plume_train_rope_backward(rec, d, rows, PN, PH, PHD, 100.0f, pneox, &err));
        submit(rec);
        float *g = down(d, PN * PH * PHD);
        fd_check(pneox ? "rope (neox) dx" : "rope dx", rope_loss, px, PN * PH * PHD, g, NULL);
        plume_gpu_buffer_free(d); plume_gpu_buffer_free(rows);
        free(g); free(px); free(pr);
    }
}

/* ---- silu_mul ------------------------------------------------------------------------ */
enum { SN = 37 };
static double *sg, *su, *sr;
static double silu_loss(void) {
    double s = 0;
    for (int i = 0; i < SN; i++) s += sr[i] * sg[i] / (1 + exp(-sg[i])) * su[i];
    return s;
}
static void test_silu(void) {
    sg = rnd(SN, 4); su = rnd(SN, 2); sr = rnd(SN, 1);
    pbuf *g = up(sg, SN), *u = up(su, SN), *d = up(sr, SN), *dg = zeros(SN), *du = zeros(SN);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_silu_mul_backward(rec, g, u, d, dg, du, SN, &err));
    submit(rec);
    float *gdg = down(dg, SN), *gdu = down(du, SN);
    fd_check("silu_mul dgate", silu_loss, sg, SN, gdg, NULL);
    fd_check("silu_mul dup", silu_loss, su, SN, gdu, NULL);
    pbuf *all[] = {g, u, d, dg, du};
    for (int i = 0; i < 5; i++) plume_gpu_buffer_free(all[i]);
    free(gdg); free(gdu); free(sg); free(su); free(sr);
}

/* ---- attention ------------------------------------------------------------------------ */
enum { AT = 5, AS = 2, AN = AT * AS, AH = 4, AKH = 2, AHD_MAX = 6 };
static int AHD;   /* 4: the texel path; 3 and 6: scalar loads (see attention_backward.comp) */
static double *aq, *ak, *av, *ar;
static void attn_forward(double *o) {
    const int qd = AH * AHD, kd = AKH * AHD, g = AH / AKH;
    for (int i = 0; i < AN; i++)
        for (int h = 0; h < AH; h++) {
            int row0 = i - i % AT;
            double sc[AT], m = -1e300, l = 0;
            for (int j = row0; j <= i; j++) {
                double s = 0;
                for (int d = 0; d < AHD; d++) s += aq[i * qd + h * AHD + d] * ak[j * kd + (h / g) * AHD + d];
                sc[j - row0] = s / sqrt((double)AHD);
                m = fmax(m, sc[j - row0]);
            }
            for (int j = row0; j <= i; j++) l += exp(sc[j - row0] - m);
            for (int d = 0; d < AHD; d++) {
                double acc = 0;
                for (int j = row0; j <= i; j++) acc += exp(sc[j - row0] - m) / l * av[j * kd + (h / g) * AHD + d];
                o[i * qd + h * AHD + d] = acc;
            }
        }
}
static double attn_loss(void) {
    double o[AN * AH * AHD_MAX], s = 0;
    attn_forward(o);
    for (int i = 0; i < AN * AH * AHD; i++) s += ar[i] * o[i];
    return s;
}
static void test_attention(int head_dim) {
    AHD = head_dim;
    const int qn = AN * AH * AHD, kn = AN * AKH * AHD;
    aq = rnd(qn, 1.5); ak = rnd(kn, 1.5); av = rnd(kn, 1); ar = rnd(qn, 1);
    pbuf *q = up(aq, qn), *k = up(ak, kn), *v = up(av, kn), *d = up(ar, qn), *o = zeros(qn);
    pbuf *ld = zeros(AN * AH * 2), *dq = zeros(qn), *dk = zeros(kn), *dv = zeros(kn), *rows = rows_buf(AN, AT, NULL);
    plume_gpu_rec *rec = begin();
    /* the forward is the inference kernel, over the batch's own K and V (ctx = AT) */
    T_OK(plume_gpu_attention(rec, q, k, v, rows, o, AN, AH, AKH, AHD, AT, &err));
    T_OK(plume_train_attention_backward(rec, q, k, v, o, d, ld, dq, dk, dv, AN, AH, AKH, AHD, AT, &err));
    submit(rec);
    float *go = down(o, qn), *gdq = down(dq, qn), *gdk = down(dk, kn), *gdv = down(dv, kn);
    double ref[AN * AH * AHD_MAX], worst = 0;
    attn_forward(ref);
    for (int i = 0; i < qn; i++) worst = fmax(worst, fabs(go[i] - ref[i]));
    CHECK_MSG(worst < 1e-5, "attention forward over a training batch off by %g", worst);
    fd_check("attention dq", attn_loss, aq, qn, gdq, NULL);
    fd_check("attention dk", attn_loss, ak, kn, gdk, NULL);
    fd_check("attention dv", attn_loss, av, kn, gdv, NULL);
    pbuf *all[] = {q, k, v, d, o, ld, dq, dk, dv, rows};
    for (int i = 0; i < 10; i++) plume_gpu_buffer_free(all[i]);
    free(go); free(gdq); free(gdk); free(gdv); free(aq); free(ak); free(av); free(ar);
}

/* ---- cross-entropy ------------------------------------------------------------------- */
enum { CN = 6, CV = 11 };
static double *cz;
static plume_train_target ct[CN];
static double ce_loss(void) {
    double s = 0;
    for (int i = 0; i < CN; i++) {
        double m = -1e300, l = 0;
        for (int c = 0; c < CV; c++) m = fmax(m, cz[i * CV + c]);
        for (int c = 0; c < CV; c++) l += exp(cz[i * CV + c] - m);
        s += ct[i].weight * (m + log(l) - cz[i * CV + ct[i].token]);
    }
    return s;
}
static void test_cross_entropy(void) {
    cz = rnd(CN * CV, 5);
    for (int i = 0; i < CN; i++) ct[i] = (plume_train_target){(uint32_t)(i * 7 % CV), i % 3 == 1 ? 0.0f : 0.25f};
    pbuf *z = up(cz, CN * CV), *t = t_buffer(gpu, ct, sizeof ct), *loss = zeros(CN);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_cross_entropy(rec, z, t, loss, CN, CV, &err));
    submit(rec);
    float *g = down(z, CN * CV), *gl = down(loss, CN);
    double total = 0;
    for (int i = 0; i < CN; i++) total += gl[i];
    CHECK_NEAR(total, ce_loss(), 1e-5);
    CHECK(gl[1] == 0.0f && gl[4] == 0.0f);  /* masked rows give no loss ... */
    int zero = 1;
    for (int c = 0; c < CV; c++) zero &= g[1 * CV + c] == 0.0f && g[4 * CV + c] == 0.0f;
    CHECK_MSG(zero, "masked rows give no gradient");
    fd_check("cross entropy dlogits", ce_loss, cz, CN * CV, g, NULL);
    plume_gpu_buffer_free(z); plume_gpu_buffer_free(t); plume_gpu_buffer_free(loss);
    free(g); free(gl); free(cz);
}

/* ---- AdamW and the gradient norm ---------------------------------------------------- */
static void test_adamw(void) {
    enum { N = 600 };
    double *w = rnd(N, 1), *g = rnd(N, 1);
    double m[N] = {0}, v[N] = {0};
    pbuf *bw = up(w, N), *bg = up(g, N), *bm = zeros(N), *bv = zeros(N), *part = zeros(3);
    const double lr = 1e-2, b1 = 0.9, b2 = 0.95, eps = 1e-8, wd = 0.1, gs = 0.5;
    for (int step = 1; step <= 3; step++) {
        plume_adamw_step s = {(float)lr, (float)b1, (float)b2, (float)eps, (float)wd, (float)gs,
                              (float)(1 - pow(b1, step)), (float)(1 - pow(b2, step))};
        plume_gpu_rec *rec = begin();
        T_OK(plume_train_adamw(rec, bw, bg, bm, bv, N, &s, &err));
        submit(rec);
        for (int i = 0; i < N; i++) {
            double gg = g[i] * gs;
            m[i] = b1 * m[i] + (1 - b1) * gg;
            v[i] = b2 * v[i] + (1 - b2) * gg * gg;
            w[i] -= lr * ((m[i] / (1 - pow(b1, step))) / (sqrt(v[i] / (1 - pow(b2, step))) + eps) + wd * w[i]);
        }
    }
    float *gw = down(bw, N);
    double worst = 0;
    for (int i = 0; i < N; i++) worst = fmax(worst, fabs(gw[i] - w[i]));
    CHECK_MSG(worst < 1e-5, "adamw: three steps off by %g", worst);
    plume_gpu_rec *rec = begin();
    T_OK(plume_train_sumsq(rec, bg, part, N, &err));
    submit(rec);
    float *p = down(part, 3);
    double want[3] = {0, 0, 0};
    for (int i = 0; i < N; i++) want[i / 256] += g[i] * g[i];
    for (int k = 0; k < 3; k++) CHECK_NEAR(p[k], want[k], 1e-4 * want[k]);
    pbuf *all[] = {bw, bg, bm, bv, part};
    for (int i = 0; i < 5; i++) plume_gpu_buffer_free(all[i]);
    free(gw); free(p); free(w); free(g);
}

int main(void) {
    gpu = t_open();
    test_matmul(7, 9, 5);
    test_matmul(8, 12, 6);
    test_matmul(12, 8, 3);
    test_matmul(36, 44, 13);   /* the fast path: partial workgroups in rows, columns and k */
    test_matmul(40, 8, 17);
    /* A device without subgroup ballot: the module that does not declare the capability
     * (GroupNonUniformBallot, 64), the plain path, the same results. */
    CHECK(plume_gpu_shader_declares("matmul_backward", 64) == 1);
    CHECK(plume_gpu_shader_declares("matmul_backward_plain", 64) == 0);
    plume_gpu_mask_features(gpu, 1, 0);
    test_matmul(36, 44, 13);
    plume_gpu_close(gpu);
    gpu = t_open();
    test_embed();
    test_rmsnorm();
    test_rope();
    test_silu();
    test_attention(4);
    test_attention(3);
    test_attention(6);
    test_cross_entropy();
    test_adamw();
    plume_gpu_close(gpu);
    CHECK_MSG(plume_gpu_validation_count() == 0, "%ld validation messages", plume_gpu_validation_count());
    return check_finish("test_train_ops");
}
