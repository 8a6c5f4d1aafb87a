/* The plain-C reference forward pass (see ref_forward.h). */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include "ref_forward.h"

int ref_alloc(ref_model *m, int tied) {
    if (!m->head_dim) m->head_dim = m->dim / m->n_heads;
    const size_t d = (size_t)m->dim, h = (size_t)m->hidden_dim, L = (size_t)m->n_layers, hs = (size_t)m->head_dim;
    const size_t kv = hs * (size_t)m->n_kv_heads, qd = hs * (size_t)m->n_heads, V = (size_t)m->vocab;
    size_t total = V * d + L * d * 2 + L * (qd * d * 2 + kv * d * 2) + L * h * d * 3 + d + (tied ? 0 : V * d) +
                   L * (qd + 2 * kv) + L * 2 * hs + hs / 2;
    m->owned = calloc(total, sizeof(float));
    if (!m->owned) return -1;
    float *p = m->owned;
    m->tok_embd = p; p += V * d;
    m->attn_norm = p; p += L * d;
    m->wq = p; p += L * qd * d;
    m->wk = p; p += L * kv * d;
    m->wv = p; p += L * kv * d;
    m->wo = p; p += L * d * qd;
    m->bq = p; p += L * qd;
    m->bk = p; p += L * kv;
    m->bv = p; p += L * kv;
    m->q_norm = p; p += L * hs;
    m->k_norm = p; p += L * hs;
    m->rope_factors = p; p += hs / 2;
    m->ffn_norm = p; p += L * d;
    m->w1 = p; p += L * h * d;
    m->w2 = p; p += L * d * h;
    m->w3 = p; p += L * h * d;
    m->out_norm = p; p += d;
    m->wcls = tied ? m->tok_embd : p;
    return 0;
}

void ref_free(ref_model *m) {
    free(m->owned);
    m->owned = NULL;
}

static int read_floats(FILE *f, float *dst, size_t n) {
    return fread(dst, sizeof(float), n, f) == n ? 0 : -1;
}

int ref_load_llama2c(ref_model *m, const char *path) {
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int32_t hdr[7];
    if (fread(hdr, sizeof hdr, 1, f) != 1) goto fail;
    memset(m, 0, sizeof *m);
    m->dim = hdr[0]; m->hidden_dim = hdr[1]; m->n_layers = hdr[2]; m->n_heads = hdr[3];
    m->n_kv_heads = hdr[4]; m->vocab = abs(hdr[5]); m->seq_len = hdr[6];
    m->rope_base = 10000.0f;
    m->norm_eps = 1e-5f;
    if (m->dim <= 0 || m->dim > 8192 || m->n_heads <= 0 || m->n_kv_heads <= 0 || m->n_layers <= 0 ||
        m->n_layers > 256 || m->vocab <= 0 || m->vocab > 1000000 || m->hidden_dim <= 0 ||
        m->seq_len <= 0 || m->dim % m->n_heads) goto fail;
    int tied = hdr[5] > 0;  /* llama2.c: a negative vocab size means a separate classifier */
    if (ref_alloc(m, tied)) goto fail;
    const size_t d = (size_t)m->dim, h = (size_t)m->hidden_dim, L = (size_t)m->n_layers;
    const size_t hs = d / (size_t)m->n_heads, kv = hs * (size_t)m->n_kv_heads;
    /* the file's order (llama2.c export.py, legacy): embeddings, then each kind for all layers */
    if (read_floats(f, m->tok_embd, (size_t)m->vocab * d) || read_floats(f, m->attn_norm, L * d) ||
        read_floats(f, m->wq, L * d * d) || read_floats(f, m->wk, L * kv * d) ||
        read_floats(f, m->wv, L * kv * d) || read_floats(f, m->wo, L * d * d) ||
        read_floats(f, m->ffn_norm, L * d) || read_floats(f, m->w1, L * h * d) ||
        read_floats(f, m->w2, L * d * h) || read_floats(f, m->w3, L * h * d) ||
        read_floats(f, m->out_norm, d))
        goto fail_free;
    /* skip the legacy RoPE tables (seq_len * head_size/2 floats, twice) */
    if (fseek(f, (long)((size_t)m->seq_len * hs / 2 * 2 * sizeof(float)), SEEK_CUR)) goto fail_free;
    if (!tied && read_floats(f, m->wcls, (size_t)m->vocab * d)) goto fail_free;
    fclose(f);
    return 0;
fail_free:
    ref_free(m);
fail:
    fclose(f);
    return -1;
}

int ref_state_alloc(ref_state *s, const ref_model *m) {
    const size_t d = (size_t)m->dim, hs = (size_t)(m->head_dim ? m->head_dim : m->dim / m->n_heads);
    const size_t kv = hs * (size_t)m->n_kv_heads, qd = hs * (size_t)m->n_heads, wide = qd > d ? qd : d;
    memset(s, 0, sizeof *s);
    s->x = calloc(d, sizeof(float));
    s->xb = calloc(wide, sizeof(float));
    s->xb2 = calloc(d, sizeof(float));
    s->hidden = calloc(d, sizeof(float));
    s->hb = calloc((size_t)m->hidden_dim, sizeof(float));
    s->hb2 = calloc((size_t)m->hidden_dim, sizeof(float));
    s->q = calloc(qd, sizeof(float));
    s->att = calloc((size_t)m->n_heads * (size_t)m->seq_len, sizeof(float));
    s->logits = calloc((size_t)m->vocab, sizeof(float));
    s->key_cache = calloc((size_t)m->n_layers * (size_t)m->seq_len * kv, sizeof(float));
    s->value_cache = calloc((size_t)m->n_layers * (size_t)m->seq_len * kv, sizeof(float));
    if (!s->x || !s->xb || !s->xb2 || !s->hidden || !s->hb || !s->hb2 || !s->q || !s->att ||
        !s->logits || !s->key_cache || !s->value_cache) {
        ref_state_free(s);
        return -1;
    }
    return 0;
}

void ref_state_free(ref_state *s) {
    free(s->x); free(s->xb); free(s->xb2); free(s->hidden); free(s->hb); free(s->hb2);
    free(s->q); free(s->att); free(s->logits); free(s->key_cache); free(s->value_cache);
    memset(s, 0, sizeof *s);
}

static void rmsnorm(float *o, const float *x, const float *w, int n, float eps) {
    double ss = 0;
    for (int i = 0; i < n; i++) ss += (double)x[i] * x[i];
    float scale = (float)(1.0 / sqrt(ss / n + eps));
    for (int i = 0; i < n; i++) o[i] = w[i] * (x[i] * scale);
}

/* o[out] = W[out][in] . x[in] */
static void matvec(float *o, const float *x, const float *w, int in, int out) {
    for (int i = 0; i < out; i++) {
        const float *row = w + (size_t)i * in;
        double acc = 0;
        for (int j = 0; j < in; j++) acc += (double)row[j] * x[j];
        o[i] = (float)acc;
    }
}

static void softmax(float *x, int n) {
    float mx = x[0];
    for (int i = 1; i < n; i++) if (x[i] > mx) mx = x[i];
    double sum = 0;
    for (int i = 0; i < n; i++) { x[i] = expf(x[i] - mx); sum += x[i]; }
    for (int i = 0; i < n; i++) x[i] = (float)(x[i] / sum);
}

/* Rotates one head's vector in place by the angles of position pos (pair i's frequency times
 * factors[i] where factors is not NULL). */
static void rope(float *v, int head_dim, int pos, float base, int neox, const float *factors) {
    const int half = head_dim / 2;
    for (int i = 0; i < half; i++) {
        double theta = pos * pow(base, -2.0 * i / head_dim) * (factors ? factors[i] : 1.0);
        float c = (float)cos(theta), s = (float)sin(theta);
        int a = neox ? i : 2 * i, b = neox ? i + half : 2 * i + 1;
        float x0 = v[a], x1 = v[b];
        v[a] = x0 * c - x1 * s;
        v[b] = x0 * s + x1 * c;
    }
}

float *ref_forward(const ref_model *m, ref_state *s, int token, int pos) {
    const int d = m->dim, hs = m->head_dim ? m->head_dim : d / m->n_heads, kv = hs * m->n_kv_heads, h = m->hidden_dim;
    const int group = m->n_heads / m->n_kv_heads, qd = hs * m->n_heads;
    const float *factors = m->has_factors ? m->rope_factors : NULL;
    memcpy(s->x, m->tok_embd + (size_t)token * d, (size_t)d * sizeof(float));
    for (int l = 0; l < m->n_layers; l++) {
        rmsnorm(s->xb, s->x, m->attn_norm + (size_t)l * d, d, m->norm_eps);
        float *kc = s->key_cache + ((size_t)l * m->seq_len + pos) * kv;
        float *vc = s->value_cache + ((size_t)l * m->seq_len + pos) * kv;
        matvec(s->q, s->xb, m->wq + (size_t)l * qd * d, d, qd);
        matvec(kc, s->xb, m->wk + (size_t)l * kv * d, d, kv);
        matvec(vc, s->xb, m->wv + (size_t)l * kv * d, d, kv);
        if (m->has_bias) {
            for (int i = 0; i < qd; i++) s->q[i] += m->bq[(size_t)l * qd + i];
            for (int i = 0; i < kv; i++) kc[i] += m->bk[(size_t)l * kv + i];
            for (int i = 0; i < kv; i++) vc[i] += m->bv[(size_t)l * kv + i];
        }
        if (m->has_qk_norm) {
            for (int hd = 0; hd < m->n_heads; hd++)
                rmsnorm(s->q + hd * hs, s->q + hd * hs, m->q_norm + (size_t)l * hs, hs, m->norm_eps);
            for (int hd = 0; hd < m->n_kv_heads; hd++)
                rmsnorm(kc + hd * hs, kc + hd * hs, m->k_norm + (size_t)l * hs, hs, m->norm_eps);
        }
        for (int hd = 0; hd < m->n_heads; hd++) rope(s->q + hd * hs, hs, pos, m->rope_base, m->rope_neox, factors);
        for (int hd = 0; hd < m->n_kv_heads; hd++) rope(kc + hd * hs, hs, pos, m->rope_base, m->rope_neox, factors);
        for (int hd = 0; hd < m->n_heads; hd++) {
            const float *q = s->q + hd * hs;
            float *att = s->att + (size_t)hd * m->seq_len;
            const int kvh = hd / group;
            for (int t = 0; t <= pos; t++) {
                const float *k = s->key_cache + ((size_t)l * m->seq_len + t) * kv + kvh * hs;
                double dot = 0;
                for (int i = 0; i < hs; i++) dot += (double)q[i] * k[i];
                att[t] = (float)(dot / sqrt((double)hs));
            }
            softmax(att, pos + 1);
            float *out = s->xb + hd * hs;
            for (int i = 0; i < hs; i++) {
                double acc = 0;
                for (int t = 0; t <= pos; t++)
                    acc += (double)att[t] * s->value_cache[((size_t)l * m->seq_len + t) * kv + kvh * hs + i];
                out[i] = (float)acc;
            }
        }
        matvec(s->xb2, s->xb, m->wo + (size_t)l * d * qd, qd, d);
        for (int i = 0; i < d; i++) s->x[i] += s->xb2[i];
        rmsnorm(s->xb, s->x, m->ffn_norm + (size_t)l * d, d, m->norm_eps);
        matvec(s->hb, s->xb, m->w1 + (size_t)l * h * d, d, h);
        matvec(s->hb2, s->xb, m->w3 + (size_t)l * h * d, d, h);
        for (int i = 0; i < h; i++) {
            float g = s->hb[i];
            s->hb[i] = g / (1.0f + expf(-g)) * s->hb2[i];
        }
        matvec(s->xb2, s->hb, m->w2 + (size_t)l * d * h, h, d);
        for (int i = 0; i < d; i++) s->x[i] += s->xb2[i];
    }
    rmsnorm(s->hidden, s->x, m->out_norm, d, m->norm_eps);
    matvec(s->logits, s->hidden, m->wcls, d, m->vocab);
    return s->logits;
}

int ref_vocab_load(ref_vocab *v, const char *path, int n) {
    memset(v, 0, sizeof *v);
    FILE *f = fopen(path, "rb");
    if (!f) return -1;
    int32_t max_len;
    if (fread(&max_len, 4, 1, f) != 1 || max_len <= 0 || max_len > 1024) goto fail;
    v->pieces = calloc((size_t)n, sizeof *v->pieces);
    v->scores = calloc((size_t)n, sizeof *v->scores);
    if (!v->pieces || !v->scores) goto fail;
    v->n = n;
    for (int i = 0; i < n; i++) {
        float score;
        int32_t len;
        if (fread(&score, 4, 1, f) != 1 || fread(&len, 4, 1, f) != 1 || len < 0 || len > max_len) goto fail;
        v->scores[i] = score;
        v->pieces[i] = calloc((size_t)len + 1, 1);
        if (!v->pieces[i] || (len && fread(v->pieces[i], (size_t)len, 1, f) != 1)) goto fail;
    }
    fclose(f);
    return 0;
fail:
    fclose(f);
    ref_vocab_free(v);
    return -1;
}

void ref_vocab_free(ref_vocab *v) {
    for (int i = 0; v->pieces && i < v->n; i++) free(v->pieces[i]);
    free(v->pieces);
    free(v->scores);
    memset(v, 0, sizeof *v);
}

void ref_vocab_append(const ref_vocab *v, int prev, int token, char *buf, size_t cap) {
    const char *piece = v->pieces[token];
    char byte[2] = { 0, 0 };
    if (prev == 1 && piece[0] == ' ') piece++;  /* SentencePiece's dummy prefix after BOS */
    unsigned int b;
    if (sscanf(piece, "<0x%02X>", &b) == 1) {
        byte[0] = (char)b;
        piece = byte;
    }
    size_t used = strlen(buf);
    snprintf(buf + used, cap - used, "%s", piece);
}

static int lookup(const ref_vocab *v, const char *s) {
    for (int i = 0; i < v->n; i++)
        if (!strcmp(v->pieces[i], s)) return i;
    return -1;
}

int ref_vocab_encode(const ref_vocab *v, const char *text, int32_t *out, int max) {
    int n = 0;
    char buf[64];
    if (n < max) out[n++] = 1;
    if (text[0] && n < max) out[n++] = lookup(v, " ");
    for (const char *c = text; *c && n < max;) {
        size_t len = 1;
        while (len < 4 && (c[len] & 0xC0) == 0x80) len++;
        memcpy(buf, c, len);
        buf[len] = 0;
        int id = lookup(v, buf);
        if (id >= 0) out[n++] = id;
        else
            for (size_t i = 0; i < len && n < max; i++) out[n++] = (unsigned char)c[i] + 3;
        c += len;
    }
    for (;;) {
        float best = -1e10f;
        int at = -1, best_id = -1;
        for (int i = 1; i + 1 < n; i++) {  /* position 0 is BOS */
            char merged[256];
            snprintf(merged, sizeof merged, "%s%s", v->pieces[out[i]], v->pieces[out[i + 1]]);
            int id = lookup(v, merged);
            if (id >= 0 && v->scores[id] > best) {
                best = v->scores[id];
                at = i;
                best_id = id;
            }
        }
        if (at < 0) break;
        out[at] = best_id;
        memmove(out + at + 1, out + at + 2, (size_t)(n - at - 2) * sizeof *out);
        n--;
    }
    return n;
}
