/* The checkpoint of a training run, in the container of mt_ckpt.h.
 *
 * One file holds everything a later epoch depends on, one section each:
 *   options   the fingerprint: every option, the preset and the data that
 *             must match on resume, as named values (a mismatch is named)
 *   position  task, epochs done in it, the shuffling generator, the task's
 *             example order
 *   network   per layer the float weights and biases
 *   optimizer --optimizer adam: its step count and per parameter tensor the
 *             moments m and v (mt_trainer.adam's slots in order); --batchnorm:
 *             per hidden layer gamma, beta, running mean and running variance;
 *             --batchnorm-state per-task: then the same for every task's snapshot.
 *             Only in such runs: a default run's file is as it was before.
 *   <algo>    the algorithm's own state (its save/load_pre/load hooks), named
 *             after it, if it has any
 *   levels    per layer the level mirror (device algorithms)
 *   device    the device's whole state (device algorithms)
 * It is written atomically and read back in two parts: the first
 * (mt_train_ckpt_open, before the device is touched) checks the file and
 * every option and restores the host state that needs no device; the second
 * (mt_train_ckpt_restore, once the trainer is set up) the rest, the device
 * image last. So an interrupted run continues exactly as if it had not
 * stopped. */
#include "mt_train_ckpt.h"

#include <assert.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>

#include "mt_file.h"
#include "mt_protocol.h"

#define CKPT_MAX_BYTES ((size_t)1 << 31)

void mt_fp_add(mt_fp *fp, const char *name, mt_fp_kind kind, uint32_t value) {
  assert(fp->n < MT_FP_MAX && strlen(name) <= MT_FP_NAME_MAX);
  fp->e[fp->n].name = name;
  fp->e[fp->n].kind = kind;
  fp->e[fp->n].value = value;
  fp->n++;
}

uint32_t mt_fp_f32(float f) {
  uint32_t u;
  memcpy(&u, &f, 4);
  return u;
}

static void fp_format(mt_fp_kind kind, uint32_t v, char *out, size_t n) {
  float f;
  memcpy(&f, &v, 4);
  switch (kind) {
  case MT_FP_FLOAT: /* the shortest text that reads back as the same float */
    for (int digits = 6; digits <= 9; digits++) {
      snprintf(out, n, "%.*g", digits, (double)f);
      if (strtof(out, NULL) == f) break;
    }
    break;
  case MT_FP_ALGO: snprintf(out, n, "%s", mt_algo_name((mt_algo)v)); break;
  case MT_FP_HEX: snprintf(out, n, "0x%08x", v); break;
  case MT_FP_OPTIM: snprintf(out, n, "%s", mt_optimizer_name((mt_optimizer)v)); break;
  default: snprintf(out, n, "%u", v); break;
  }
}

/* CRC-32 of what the preset configures (device words, levels, level table,
 * window), little-endian: a checkpoint is refused under another preset. */
static uint32_t preset_crc(const mt_preset_t *p) {
  if (!p) return 0;
  uint32_t words[MT_CFG_COUNT + 3 + MT_MAX_LEVELS * MT_LEVEL_ENTRY_WORDS];
  size_t n = 0;
  for (uint32_t k = 0; k < MT_CFG_COUNT; k++) words[n++] = p->cfg[k];
  words[n++] = p->levels, words[n++] = p->level_lo, words[n++] = p->level_hi;
  uint32_t lv = p->levels <= MT_MAX_LEVELS ? p->levels : MT_MAX_LEVELS;
  for (uint32_t k = 0; k < lv * MT_LEVEL_ENTRY_WORDS; k++) words[n++] = p->level_table[k];
  unsigned char bytes[sizeof words];
  for (size_t k = 0; k < n; k++)
    for (int i = 0; i < 4; i++) bytes[4 * k + i] = (unsigned char)(words[k] >> (8 * i));
  return (uint32_t)crc32(0L, bytes, (uInt)(4 * n));
}

uint32_t mt_train_dataset_crc(const mt_dataset_t *d) {
  uLong crc = crc32(0L, Z_NULL, 0);
  const size_t n = (size_t)d->count * d->rows * d->cols, chunk = (size_t)1 << 30;
  for (size_t off = 0; off < n; off += chunk)
    crc = crc32(crc, d->images + off, (uInt)(n - off < chunk ? n - off : chunk));
  return (uint32_t)crc32(crc, d->labels, d->count);
}

/* What must match between the saved run and the resumed one, in order. The
 * test sets too: evaluation draws the device's read noise, so they shape the
 * epochs after it. */
static void fingerprint(const mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                        const mt_dataset_t *tests, mt_fp *fp) {
  const mt_train_opts *o = t->o;
  fp->n = 0;
  mt_fp_add(fp, "algorithm", MT_FP_ALGO, o->algo);
  mt_fp_add(fp, "layers", MT_FP_INT, o->n_layers);
  for (uint32_t l = 0; l <= o->n_layers; l++) mt_fp_add(fp, "layer size", MT_FP_INT, o->sizes[l]);
  for (uint32_t l = 0; l < o->n_layers; l++)
    if (o->spec[l].conv) {
      mt_fp_add(fp, "conv layer", MT_FP_INT, l);
      mt_fp_add(fp, "conv kernel", MT_FP_INT, o->spec[l].k);
      mt_fp_add(fp, "conv input channels", MT_FP_INT, o->spec[l].in_c);
      mt_fp_add(fp, "conv pool", MT_FP_INT, o->spec[l].pool * 4u + o->spec[l].pool_kind);
    }
  mt_fp_add(fp, "batch", MT_FP_INT, o->batch);
  mt_fp_add(fp, "learning rate", MT_FP_FLOAT, mt_fp_f32(o->lr));
  mt_fp_add(fp, "seed (low word)", MT_FP_INT, (uint32_t)o->seed);
  mt_fp_add(fp, "seed (high word)", MT_FP_INT, (uint32_t)(o->seed >> 32));
  mt_fp_add(fp, "w-max", MT_FP_FLOAT, mt_fp_f32(o->w_max_factor));
  mt_fp_add(fp, "open-loop", MT_FP_INT, o->open_loop);
  mt_fp_add(fp, "levels", MT_FP_INT, t->preset ? t->preset->levels : 0);
  mt_fp_add(fp, "preset configuration (CRC-32)", MT_FP_HEX, preset_crc(t->preset));
  /* Before the examples: a resume with another split is named as such. */
  mt_fp_add(fp, "validation split (--val)", MT_FP_INT, o->val);
  mt_fp_add(fp, "tasks", MT_FP_INT, n_tasks);
  for (uint32_t k = 0; k < n_tasks; k++) {
    mt_fp_add(fp, "training examples", MT_FP_INT, trains[k].count);
    mt_fp_add(fp, "training data (CRC-32)", MT_FP_HEX, t->data_crc[k][0]);
    if (o->val) mt_fp_add(fp, "validation data (CRC-32)", MT_FP_HEX, t->data_crc[k][2]);
    mt_fp_add(fp, "test examples", MT_FP_INT, tests[k].count);
    mt_fp_add(fp, "test data (CRC-32)", MT_FP_HEX, t->data_crc[k][1]);
  }
  /* One task may grow --epochs on resume; with several, the task boundaries depend on it. */
  if (n_tasks > 1) mt_fp_add(fp, "epochs per task", MT_FP_INT, o->epochs);
  /* Only when not the default, so that a default run's checkpoint (and every older one)
   * has the fingerprint it always had. */
  if (o->optimizer != MT_OPTIM_SGD) {
    mt_fp_add(fp, "optimizer", MT_FP_OPTIM, o->optimizer);
    mt_fp_add(fp, "adam-beta1", MT_FP_FLOAT, mt_fp_f32(o->adam_beta1));
    mt_fp_add(fp, "adam-beta2", MT_FP_FLOAT, mt_fp_f32(o->adam_beta2));
    mt_fp_add(fp, "adam-eps", MT_FP_FLOAT, mt_fp_f32(o->adam_eps));
  }
  if (o->batchnorm) mt_fp_add(fp, "batchnorm", MT_FP_INT, o->batchnorm);
  /* only when set: a shared-state run's checkpoint is as it was before the option */
  if (o->bn_per_task) mt_fp_add(fp, "batchnorm state per task", MT_FP_INT, o->bn_per_task);
  if (t->ops->fingerprint) t->ops->fingerprint(t, fp);
}

static int uses_device(const mt_trainer *t) { return (t->ops->flags & MT_ALGO_F_DEVICE) != 0; }

static int has_optim_section(const mt_trainer *t) {
  return t->o->optimizer != MT_OPTIM_SGD || t->o->batchnorm;
}

/* The "optimizer" section's tensors in order: Adam's moments slot by slot (an unused slot
 * is empty), then per BatchNorm layer gamma, beta, running mean and variance. The k-th
 * tensor's values and length into *p, *n; 0 past the last. */
static int optim_tensor(mt_trainer *t, uint32_t k, float **p, size_t *n) {
  const mt_adam_t *a = &t->adam;
  uint32_t adam_tensors = 2 * a->n_slots; /* 0 without Adam */
  if (k < adam_tensors) {
    *n = a->n[k / 2];
    *p = k % 2 ? a->v[k / 2] : a->m[k / 2];
    return 1;
  }
  k -= adam_tensors;
  for (uint32_t l = 0; l < t->o->n_layers; l++) {
    if (!mt_mlp_has_bn(&t->net, l)) continue;
    if (k < 4) {
      *n = mt_trainer_outputs(t, l);
      float *const bn[4] = {t->net.bn_gamma[l], t->net.bn_beta[l], t->net.bn_mean[l], t->net.bn_var[l]};
      *p = bn[k];
      return 1;
    }
    k -= 4;
  }
  /* --batchnorm-state per-task: then every task's snapshot, laid out as the live state */
  for (uint32_t task = 0; t->bn_task && task < t->n_tasks; task++)
    for (uint32_t l = 0; l < t->o->n_layers; l++) {
      if (!mt_mlp_has_bn(&t->net, l)) continue;
      if (k < 4) {
        *n = mt_trainer_outputs(t, l);
        *p = mt_trainer_bn_saved(t, task, l, k);
        return 1;
      }
      k -= 4;
    }
  return 0;
}

int mt_train_ckpt_save(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                       const mt_dataset_t *tests, uint32_t task, uint32_t epoch) {
  const mt_train_opts *o = t->o;
  mt_wbuf b = {NULL, 0, 0, 0};
  mt_fp fp;
  fingerprint(t, n_tasks, trains, tests, &fp);
  mt_ckpt_begin(&b);
  size_t sec = mt_ckpt_section_begin(&b, "options");
  mt_wbuf_u32(&b, fp.n);
  for (uint32_t k = 0; k < fp.n; k++) {
    size_t len = strlen(fp.e[k].name);
    mt_wbuf_u32(&b, (uint32_t)len);
    mt_wbuf_bytes(&b, (const unsigned char *)fp.e[k].name, len);
    mt_wbuf_u32(&b, fp.e[k].kind);
    mt_wbuf_u32(&b, fp.e[k].value);
  }
  mt_ckpt_section_end(&b, sec);
  sec = mt_ckpt_section_begin(&b, "position");
  mt_wbuf_u32(&b, task);
  mt_wbuf_u32(&b, epoch);
  mt_wbuf_u64(&b, t->shuffle_rng);
  for (uint32_t k = 0; k < trains[task].count; k++) mt_wbuf_u32(&b, t->order[k]);
  mt_ckpt_section_end(&b, sec);
  sec = mt_ckpt_section_begin(&b, "network");
  for (uint32_t l = 0; l < o->n_layers; l++) {
    mt_wbuf_f32(&b, t->net.w[l], mt_trainer_weights(t, l));
    mt_wbuf_f32(&b, t->net.b[l], mt_trainer_outputs(t, l));
  }
  mt_ckpt_section_end(&b, sec);
  if (has_optim_section(t)) {
    sec = mt_ckpt_section_begin(&b, "optimizer");
    mt_wbuf_u64(&b, t->adam.steps);
    size_t n;
    float *p;
    for (uint32_t k = 0; optim_tensor(t, k, &p, &n); k++) mt_wbuf_f32(&b, p, n);
    mt_ckpt_section_end(&b, sec);
  }
  if (t->ops->save) {
    sec = mt_ckpt_section_begin(&b, t->ops->name);
    t->ops->save(t, &b);
    mt_ckpt_section_end(&b, sec);
  }
  if (uses_device(t)) {
    sec = mt_ckpt_section_begin(&b, "levels");
    for (uint32_t l = 0; l < o->n_layers; l++) mt_wbuf_u16(&b, t->maps[l].level, mt_trainer_weights(t, l));
    mt_ckpt_section_end(&b, sec);
    unsigned char *img = NULL;
    size_t img_len = 0;
    if (mt_dev_snapshot_bytes(t->dev, &img, &img_len) != MT_OK) {
      free(b.buf);
      return mt_trainer_dev_fail(t);
    }
    sec = mt_ckpt_section_begin(&b, "device");
    mt_wbuf_bytes(&b, img, img_len);
    mt_ckpt_section_end(&b, sec);
    free(img);
  }
  mt_ckpt_end(&b);
  int rc = b.oom ? mt_trainer_fail(t, MT_ERR_NOMEM, "%s: out of memory for the checkpoint", o->checkpoint)
                 : mt_write_atomic(o->checkpoint, b.buf, b.len, t->err, t->errlen) ? MT_ERR_IO : MT_OK;
  free(b.buf);
  return rc;
}

/* Opens section `name` of the resumed file. */
static int section(mt_trainer *t, const char *name, mt_rbuf *b) {
  return mt_ckpt_section(&t->ck, name, t->o->resume, b, t->err, t->errlen) ? MT_ERR_FILE : MT_OK;
}

/* A section read to its end, neither short nor with bytes left over. */
static int section_done(mt_trainer *t, const char *name, const mt_rbuf *b) {
  if (!b->short_read && b->pos == b->len) return 0;
  return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (section %s %s)", t->o->resume, name,
                         b->short_read ? "cut short" : "longer than this run's");
}

/* Reads and checks the fingerprint against this run's; 0, or MT_ERR_FILE with a
 * message naming the first option that differs and both values. */
static int check_fingerprint(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                             const mt_dataset_t *tests) {
  const char *path = t->o->resume;
  mt_rbuf b;
  int rc;
  if ((rc = section(t, "options", &b)) != 0) return rc;
  mt_fp fp;
  fingerprint(t, n_tasks, trains, tests, &fp);
  uint32_t nfile = mt_rbuf_u32(&b);
  if (b.short_read || nfile > MT_FP_MAX)
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (%u option entries)", path, nfile);
  char want[64], got[64];
  /* One entry past this run's: an option the file's run set and this one does not. */
  for (uint32_t k = 0; k < nfile && k <= fp.n; k++) {
    uint32_t len = mt_rbuf_u32(&b);
    const unsigned char *name = len >= 1 && len <= MT_FP_NAME_MAX ? mt_rbuf_bytes(&b, len) : NULL;
    uint32_t kind = mt_rbuf_u32(&b), v = mt_rbuf_u32(&b);
    int printable = name != NULL;
    for (uint32_t i = 0; printable && i < len; i++) printable = name[i] >= 0x20 && name[i] < 0x7f;
    if (b.short_read || !printable || kind > MT_FP_OPTIM)
      return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (option entry %u)", path, k + 1);
    char nm[MT_FP_NAME_MAX + 1];
    memcpy(nm, name, len);
    nm[len] = 0;
    fp_format((mt_fp_kind)kind, v, got, sizeof got);
    if (k == fp.n)
      return mt_trainer_fail(t, MT_ERR_FILE, "%s: was written with %s %s, this run has no %s", path, nm,
                             got, nm);
    if (strcmp(nm, fp.e[k].name) != 0) {
      fp_format(fp.e[k].kind, fp.e[k].value, want, sizeof want);
      return mt_trainer_fail(t, MT_ERR_FILE, "%s: was written with other options (%s %s where this run has %s %s)",
                             path, nm, got, fp.e[k].name, want);
    }
    if (v != fp.e[k].value) {
      fp_format(fp.e[k].kind, fp.e[k].value, want, sizeof want);
      return mt_trainer_fail(t, MT_ERR_FILE, "%s: was written with %s %s, this run has %s", path, nm, got, want);
    }
  }
  if (nfile < fp.n) { /* an option this run sets and the file's run did not (e.g. --batchnorm) */
    fp_format(fp.e[nfile].kind, fp.e[nfile].value, want, sizeof want);
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: was written without %s, this run has %s %s", path,
                           fp.e[nfile].name, fp.e[nfile].name, want);
  }
  assert(nfile == fp.n); /* fewer and more entries are named above */
  return section_done(t, "options", &b);
}

/* 1 if order[0..n) is a permutation of 0..n-1. */
static int is_permutation(const uint32_t *order, uint32_t n) {
  unsigned char *seen = calloc((size_t)n / 8 + 1, 1);
  int ok = seen != NULL;
  for (uint32_t k = 0; ok && k < n; k++) {
    uint32_t v = order[k];
    ok = v < n && !(seen[v / 8] & (1u << (v % 8)));
    if (ok) seen[v / 8] |= (unsigned char)(1u << (v % 8));
  }
  free(seen);
  return ok;
}

int mt_train_ckpt_open(mt_trainer *t, uint32_t n_tasks, const mt_dataset_t *trains,
                       const mt_dataset_t *tests) {
  const mt_train_opts *o = t->o;
  const char *path = o->resume;
  size_t n = 0;
  int rc = mt_read_file(path, CKPT_MAX_BYTES, &t->ck_bytes, &n, t->err, t->errlen);
  if (rc != MT_OK) return rc;
  if (mt_ckpt_parse(t->ck_bytes, n, path, &t->ck, t->err, t->errlen) != 0) return MT_ERR_FILE;
  if ((rc = check_fingerprint(t, n_tasks, trains, tests)) != 0) return rc;
  mt_rbuf b;
  if ((rc = section(t, "position", &b)) != 0) return rc;
  t->task = mt_rbuf_u32(&b);
  t->done = mt_rbuf_u32(&b);
  t->shuffle_rng = mt_rbuf_u64(&b);
  if (b.short_read || t->task >= n_tasks || t->done < 1 || (n_tasks > 1 && t->done > o->epochs))
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (task %u of %u, epoch %u)", path,
                           t->task + 1, n_tasks, t->done);
  /* More epochs than this run has (a later epoch would wrap, or never run) */
  if (t->done > o->epochs)
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: holds epoch %u, beyond this run's --epochs %u", path, t->done,
                           o->epochs);
  uint32_t count = trains[t->task].count;
  if ((size_t)count * 4 != b.len - b.pos)
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (the example order is not of %u examples)",
                           path, count);
  for (uint32_t k = 0; k < count; k++) t->order[k] = mt_rbuf_u32(&b);
  if (!is_permutation(t->order, count))
    return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (the example order is not a permutation "
                           "of %u examples)", path, count);
  if ((rc = section(t, "network", &b)) != 0) return rc;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    mt_rbuf_f32(&b, t->net.w[l], mt_trainer_weights(t, l));
    mt_rbuf_f32(&b, t->net.b[l], mt_trainer_outputs(t, l));
  }
  if ((rc = section_done(t, "network", &b)) != 0) return rc;
  /* A run never saves a weight that is not a number: it would poison every later step. */
  for (uint32_t l = 0; l < o->n_layers; l++) {
    for (size_t k = 0; k < mt_trainer_weights(t, l); k++)
      if (!isfinite(t->net.w[l][k]))
        return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (layer %u weight %zu is %g)", path, l, k,
                               (double)t->net.w[l][k]);
    for (uint32_t k = 0; k < mt_trainer_outputs(t, l); k++)
      if (!isfinite(t->net.b[l][k]))
        return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (layer %u bias %u is %g)", path, l, k,
                               (double)t->net.b[l][k]);
  }
  if (has_optim_section(t)) {
    if ((rc = section(t, "optimizer", &b)) != 0) return rc;
    t->adam.steps = mt_rbuf_u64(&b);
    size_t n;
    float *p;
    for (uint32_t k = 0; optim_tensor(t, k, &p, &n); k++) {
      mt_rbuf_f32(&b, p, n);
      for (size_t i = 0; i < n && !b.short_read; i++)
        if (!isfinite(p[i]))
          return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (optimizer section, "
                                 "tensor %u value %zu is %g)", path, k, i, (double)p[i]);
    }
    if ((rc = section_done(t, "optimizer", &b)) != 0) return rc;
  }
  if (!t->ops->save) return 0;
  if ((rc = section(t, t->ops->name, &t->ck_algo)) != 0) return rc;
  rc = t->ops->load_pre ? t->ops->load_pre(t, &t->ck_algo) : 0;
  if (rc != 0) {
    char msg[256];
    snprintf(msg, sizeof msg, "%s", t->err);
    return mt_trainer_fail(t, rc == MT_ERR_NOMEM ? rc : MT_ERR_FILE, "%s: %s", path, msg);
  }
  return 0;
}

int mt_train_ckpt_restore(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  const char *path = o->resume;
  mt_rbuf b;
  int rc;
  if (uses_device(t)) {
    if ((rc = section(t, "levels", &b)) != 0) return rc;
    for (uint32_t l = 0; l < o->n_layers; l++) {
      size_t nw = mt_trainer_weights(t, l);
      uint16_t *lv = t->maps[l].level;
      assert(lv);
      mt_rbuf_u16(&b, lv, nw);
      for (size_t k = 0; k < nw && !b.short_read; k++)
        if (lv[k] >= t->maps[l].levels && lv[k] != MT_LEVEL_NONE)
          return mt_trainer_fail(t, MT_ERR_FILE, "%s: inconsistent content (level %u in layer %u's mirror)", path,
                                 lv[k], l);
    }
    if ((rc = section_done(t, "levels", &b)) != 0) return rc;
  }
  if (t->ops->save) {
    rc = t->ops->load ? t->ops->load(t, &t->ck_algo) : 0;
    if (rc != 0) {
      char msg[256];
      snprintf(msg, sizeof msg, "%s", t->err);
      return mt_trainer_fail(t, rc == MT_ERR_NOMEM ? rc : MT_ERR_FILE, "%s: %s", path, msg);
    }
    if ((rc = section_done(t, t->ops->name, &t->ck_algo)) != 0) return rc;
  }
  if (uses_device(t)) {
    if ((rc = section(t, "device", &b)) != 0) return rc;
    if (mt_dev_restore_bytes(t->dev, b.buf, b.len, path) != MT_OK) return mt_trainer_dev_fail(t);
  }
  free(t->ck_bytes);
  t->ck_bytes = NULL;
  return 0;
}
