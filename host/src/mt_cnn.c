/* Convolution kernels of the float network: im2col, its adjoint, pooling
 * (see mt_cnn.h), the layer shape helpers and the network-spec grammar. */
#include "mt_cnn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

uint32_t mt_conv_out_h(const mt_layer_spec *s) { return s->in_h - s->k + 1; }
uint32_t mt_conv_out_w(const mt_layer_spec *s) { return s->in_w - s->k + 1; }
static uint32_t pool_of(const mt_layer_spec *s) { return s->pool > 1 ? s->pool : 1; }
uint32_t mt_conv_pool_h(const mt_layer_spec *s) { return mt_conv_out_h(s) / pool_of(s); }
uint32_t mt_conv_pool_w(const mt_layer_spec *s) { return mt_conv_out_w(s) / pool_of(s); }

uint32_t mt_layer_rows(const mt_layer_spec *s, const uint32_t *sizes, uint32_t l) {
  return s && s[l].conv ? s[l].k * s[l].k * s[l].in_c : sizes[l];
}

uint32_t mt_layer_cols(const mt_layer_spec *s, const uint32_t *sizes, uint32_t l) {
  return s && s[l].conv ? s[l].out_c : sizes[l + 1];
}

uint32_t mt_layer_positions(const mt_layer_spec *s, uint32_t l) {
  return s && s[l].conv ? mt_conv_out_h(&s[l]) * mt_conv_out_w(&s[l]) : 1;
}

/* ---- im2col -------------------------------------------------------------- */

void mt_im2col(const mt_layer_spec *s, const float *in, uint32_t batch, float *cols) {
  const uint32_t oh = mt_conv_out_h(s), ow = mt_conv_out_w(s), C = s->in_c, K = s->k;
  const size_t in_n = (size_t)s->in_h * s->in_w * C, kc = (size_t)K * C;
  for (uint32_t b = 0; b < batch; b++) {
    const float *x = in + b * in_n;
    for (uint32_t oy = 0; oy < oh; oy++)
      for (uint32_t ox = 0; ox < ow; ox++) {
        float *row = cols + (((size_t)b * oh + oy) * ow + ox) * K * kc;
        /* A kernel row (kx, c) is contiguous in the HWC input. */
        for (uint32_t ky = 0; ky < K; ky++)
          memcpy(row + ky * kc, x + ((size_t)(oy + ky) * s->in_w + ox) * C, kc * sizeof *row);
      }
  }
}

void mt_col2im(const mt_layer_spec *s, const float *dcols, uint32_t batch, float *d_in) {
  const uint32_t oh = mt_conv_out_h(s), ow = mt_conv_out_w(s), C = s->in_c, K = s->k;
  const size_t in_n = (size_t)s->in_h * s->in_w * C, kc = (size_t)K * C;
  memset(d_in, 0, batch * in_n * sizeof *d_in);
  for (uint32_t b = 0; b < batch; b++) {
    float *d = d_in + b * in_n;
    for (uint32_t oy = 0; oy < oh; oy++)
      for (uint32_t ox = 0; ox < ow; ox++) {
        const float *row = dcols + (((size_t)b * oh + oy) * ow + ox) * K * kc;
        for (uint32_t ky = 0; ky < K; ky++) {
          float *t = d + ((size_t)(oy + ky) * s->in_w + ox) * C;
          const float *r = row + ky * kc;
          for (size_t q = 0; q < kc; q++) t[q] += r[q];
        }
      }
  }
}

/* ---- pooling ------------------------------------------------------------- */

void mt_pool_forward(const mt_layer_spec *s, const float *z, uint32_t batch, float *out) {
  const uint32_t oh = mt_conv_out_h(s), ow = mt_conv_out_w(s), C = s->out_c, S = pool_of(s);
  const uint32_t ph = oh / S, pw = ow / S;
  if (S == 1) {
    memcpy(out, z, (size_t)batch * oh * ow * C * sizeof *out);
    return;
  }
  const float inv = 1.0f / (float)(S * S);
  for (uint32_t b = 0; b < batch; b++) {
    const float *zb = z + (size_t)b * oh * ow * C;
    float *o = out + (size_t)b * ph * pw * C;
    for (uint32_t py = 0; py < ph; py++)
      for (uint32_t px = 0; px < pw; px++)
        for (uint32_t c = 0; c < C; c++) {
          float acc = s->pool_kind == MT_POOL_MAX ? zb[((size_t)(py * S) * ow + px * S) * C + c] : 0.0f;
          for (uint32_t dy = 0; dy < S; dy++)
            for (uint32_t dx = 0; dx < S; dx++) {
              float v = zb[((size_t)(py * S + dy) * ow + px * S + dx) * C + c];
              if (s->pool_kind == MT_POOL_MAX) acc = v > acc ? v : acc;
              else acc += v;
            }
          o[((size_t)py * pw + px) * C + c] = s->pool_kind == MT_POOL_MAX ? acc : acc * inv;
        }
  }
}

void mt_pool_backward(const mt_layer_spec *s, const float *z, const float *d_out, uint32_t batch,
                      float *dz) {
  const uint32_t oh = mt_conv_out_h(s), ow = mt_conv_out_w(s), C = s->out_c, S = pool_of(s);
  const uint32_t ph = oh / S, pw = ow / S;
  const size_t n = (size_t)batch * oh * ow * C;
  if (S == 1) {
    for (size_t q = 0; q < n; q++) dz[q] = z[q] > 0.0f ? d_out[q] : 0.0f;
    return;
  }
  memset(dz, 0, n * sizeof *dz);
  const float inv = 1.0f / (float)(S * S);
  for (uint32_t b = 0; b < batch; b++) {
    const float *zb = z + (size_t)b * oh * ow * C;
    float *db = dz + (size_t)b * oh * ow * C;
    const float *d = d_out + (size_t)b * ph * pw * C;
    for (uint32_t py = 0; py < ph; py++)
      for (uint32_t px = 0; px < pw; px++)
        for (uint32_t c = 0; c < C; c++) {
          float g = d[((size_t)py * pw + px) * C + c];
          if (s->pool_kind == MT_POOL_MAX) {
            size_t best = ((size_t)(py * S) * ow + px * S) * C + c;
            for (uint32_t dy = 0; dy < S; dy++)
              for (uint32_t dx = 0; dx < S; dx++) {
                size_t q = ((size_t)(py * S + dy) * ow + px * S + dx) * C + c;
                if (zb[q] > zb[best]) best = q;
              }
            if (zb[best] > 0.0f) db[best] = g;
          } else {
            for (uint32_t dy = 0; dy < S; dy++)
              for (uint32_t dx = 0; dx < S; dx++) {
                size_t q = ((size_t)(py * S + dy) * ow + px * S + dx) * C + c;
                if (zb[q] > 0.0f) db[q] = g * inv;
              }
          }
        }
  }
}

/* ---- shapes -------------------------------------------------------------- */

int mt_net_shape_ok(const uint32_t *sizes, const mt_layer_spec *spec, uint32_t n_layers) {
  if (!sizes || n_layers < 1 || n_layers > MT_NN_MAX_LAYERS) return 0;
  for (uint32_t l = 0; l <= n_layers; l++)
    if (sizes[l] == 0) return 0;
  if (!spec) return 1;
  if (spec[n_layers - 1].conv) return 0; /* the logits come from an fc layer */
  for (uint32_t l = 0; l < n_layers; l++) {
    const mt_layer_spec *s = &spec[l];
    if (!s->conv) continue;
    if (s->k == 0 || s->out_c == 0 || s->in_c == 0 || s->k > s->in_h || s->k > s->in_w) return 0;
    uint32_t S = pool_of(s);
    if (S > 1 && s->pool_kind != MT_POOL_MAX && s->pool_kind != MT_POOL_AVG) return 0;
    if (mt_conv_out_h(s) < S || mt_conv_out_w(s) < S) return 0;
    if (sizes[l] != s->in_h * s->in_w * s->in_c) return 0;
    if (sizes[l + 1] != mt_conv_pool_h(s) * mt_conv_pool_w(s) * s->out_c) return 0;
    if (l > 0 && !spec[l - 1].conv) return 0; /* no conv after an fc layer */
    if (l > 0 && (s->in_h != mt_conv_pool_h(&spec[l - 1]) || s->in_w != mt_conv_pool_w(&spec[l - 1]) ||
                  s->in_c != spec[l - 1].out_c))
      return 0;
  }
  return 1;
}

/* ---- grammar ------------------------------------------------------------- */

static int bad(char *err, size_t errlen, const char *text, const char *what, const char *tok,
               size_t len) {
  if (err && errlen) snprintf(err, errlen, "invalid network spec \"%s\": %s \"%.*s\"", text, what, (int)len, tok);
  return -1;
}

/* Reads a decimal number of 1..max at *p (advanced); 0 if none or out of range. */
static uint32_t number(const char **p, const char *end, uint32_t max) {
  uint64_t v = 0;
  const char *q = *p;
  while (q < end && *q >= '0' && *q <= '9') {
    if (v <= max) v = v * 10 + (uint64_t)(*q - '0');
    q++;
  }
  if (q == *p || v == 0 || v > max) return 0;
  *p = q;
  return (uint32_t)v;
}

int mt_net_parse(const char *text, uint32_t *sizes, mt_layer_spec *spec, uint32_t *n_layers,
                 char *err, size_t errlen) {
  if (!text || !*text) return mt_mlp_parse(text, sizes, n_layers, err, errlen);
  const char *first_dash = strchr(text, '-');
  size_t first_len = first_dash ? (size_t)(first_dash - text) : strlen(text);
  if (!memchr(text, 'x', first_len)) {
    /* A plain MLP: the first token is a number of inputs. */
    uint32_t n = 0;
    uint32_t tmp[MT_NN_MAX_LAYERS + 1];
    if (mt_mlp_parse(text, tmp, &n, err, errlen) != 0) return -1;
    memcpy(sizes, tmp, (n + 1) * sizeof *tmp);
    memset(spec, 0, MT_NN_MAX_LAYERS * sizeof *spec);
    *n_layers = n;
    return 0;
  }
  uint32_t sz[MT_NN_MAX_LAYERS + 1];
  mt_layer_spec sp[MT_NN_MAX_LAYERS];
  memset(sp, 0, sizeof sp);
  uint32_t L = 0;
  /* Current map (h x w x c) while only conv/pool tokens have been seen. */
  uint32_t h = 0, w = 0, c = 0;
  int fc_seen = 0;
  const char *p = text;
  for (int tok_i = 0;; tok_i++) {
    const char *dash = strchr(p, '-');
    const char *end = dash ? dash : p + strlen(p);
    size_t len = (size_t)(end - p);
    const char *q = p;
    if (len == 0) return bad(err, errlen, text, "empty token between dashes", p, 0);
    if (tok_i == 0) {
      /* HxW or HxWxC */
      h = number(&q, end, 4096);
      if (h && q < end && *q == 'x') q++, w = number(&q, end, 4096);
      else w = 0;
      c = 1;
      if (w && q < end && *q == 'x') q++, c = number(&q, end, 4096);
      if (!h || !w || !c || q != end || (uint64_t)h * w * c > MT_NN_MAX_SIZE)
        return bad(err, errlen, text, "input must be HxW or HxWxC (each >= 1, at most 65536 values):", p, len);
      sz[0] = h * w * c;
    } else if (*p == 'c') {
      q++;
      uint32_t k = number(&q, end, 64), n = 0;
      if (k && q < end && *q == 'x') q++, n = number(&q, end, 4096);
      if (!k || !n || q != end)
        return bad(err, errlen, text, "conv layer must be cKxN (kernel K, N output channels):", p, len);
      if (fc_seen) return bad(err, errlen, text, "conv layer after a fully connected layer:", p, len);
      if (k > h || k > w) return bad(err, errlen, text, "conv kernel larger than its input map:", p, len);
      if (L == MT_NN_MAX_LAYERS) return bad(err, errlen, text, "too many weight layers (at most 8) at", p, len);
      mt_layer_spec *s = &sp[L];
      s->conv = 1, s->in_h = h, s->in_w = w, s->in_c = c, s->k = k, s->out_c = n, s->pool = 1;
      h = mt_conv_out_h(s), w = mt_conv_out_w(s), c = n;
      if ((uint64_t)h * w * c > MT_NN_MAX_SIZE)
        return bad(err, errlen, text, "conv output map larger than 65536 values:", p, len);
      sz[++L] = h * w * c;
    } else if (*p == 'p' || *p == 'a') {
      q++;
      uint32_t S = number(&q, end, 64);
      if (!S || S < 2 || q != end)
        return bad(err, errlen, text, "pool must be pS (max) or aS (average) with S >= 2:", p, len);
      if (L == 0 || !sp[L - 1].conv || fc_seen)
        return bad(err, errlen, text, "pooling must follow a conv layer:", p, len);
      mt_layer_spec *s = &sp[L - 1];
      if (s->pool > 1) return bad(err, errlen, text, "second pooling after the same conv layer:", p, len);
      if (h < S || w < S) return bad(err, errlen, text, "pool window larger than its input map:", p, len);
      s->pool = S, s->pool_kind = *p == 'p' ? MT_POOL_MAX : MT_POOL_AVG;
      h /= S, w /= S;
      sz[L] = h * w * c;
    } else {
      uint32_t n = number(&q, end, MT_NN_MAX_SIZE);
      if (!n || q != end)
        return bad(err, errlen, text, "token is not a conv (cKxN), pool (pS, aS) or fc size (1..65536):", p, len);
      if (L == MT_NN_MAX_LAYERS) return bad(err, errlen, text, "too many weight layers (at most 8) at", p, len);
      fc_seen = 1;
      sz[++L] = n;
    }
    if (!dash) break;
    p = dash + 1;
  }
  if (!fc_seen) return bad(err, errlen, text, "must end with a fully connected size (the classes), got", text, strlen(text));
  if (!mt_net_shape_ok(sz, sp, L)) return bad(err, errlen, text, "inconsistent shape", text, strlen(text));
  memcpy(sizes, sz, (L + 1) * sizeof *sz);
  memcpy(spec, sp, MT_NN_MAX_LAYERS * sizeof *sp);
  *n_layers = L;
  return 0;
}
