/* Metaplastic training on the device's metaplasticity unit (host/src/mt_algo_meta.c)
 * and continual learning over several tasks (mt_train_run_tasks). */
#define _POSIX_C_SOURCE 200809L
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "memtile.h"
#include "mt_algo_meta.h"
#include "mt_dataset.h"
#include "mt_map.h"
#include "mt_nn.h"
#include "mt_preset.h"
#include "mt_protocol.h"
#include "mt_train.h"

static mt_preset_t rram;
static mt_dataset_t mnist_train, mnist_test, fashion_train, fashion_test;

static int setup(void **state) {
  (void)state;
  char err[512];
  if (mt_preset_load(MT_SOURCE_DIR "/presets/rram.json", &rram, err, sizeof err) != 0 ||
      mt_dataset_open("mnist", MT_SOURCE_DIR, 320, 200, &mnist_train, &mnist_test, err, sizeof err) != 0 ||
      mt_dataset_open("fashion-mnist", MT_SOURCE_DIR, 320, 200, &fashion_train, &fashion_test, err,
                      sizeof err) != 0) {
    fprintf(stderr, "%s\n", err);
    return -1;
  }
  return 0;
}

static int teardown(void **state) {
  (void)state;
  mt_dataset_free(&mnist_train);
  mt_dataset_free(&mnist_test);
  mt_dataset_free(&fashion_train);
  mt_dataset_free(&fashion_test);
  return 0;
}

/* A device with `tiles` fabricated tiles configured for metaplastic training with m. */
static mt_dev *meta_device(uint32_t tiles, double m, mt_meta_t *s) {
  char err[256], uri[64];
  snprintf(uri, sizeof uri, "model://?tiles=%u", tiles);
  mt_dev *dev = NULL;
  if (mt_dev_open(uri, &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  if (mt_meta_init(s, &rram, m, 0, err, sizeof err) != 0) fail_msg("%s", err);
  if (mt_preset_apply(&s->preset, dev) != MT_OK || mt_dev_seed(dev, 7) != MT_OK)
    fail_msg("%s", mt_dev_errmsg(dev));
  for (uint32_t t = 0; t < tiles; t++)
    if (mt_dev_fabricate(dev, 7, t) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
  return dev;
}

/* The device's level of a hidden weight (docs/device-model.md). */
static uint32_t level_of_hidden(int32_t h, uint32_t levels) {
  int64_t q = ((int64_t)h + (int64_t)levels * 32768) >> 16;
  return q < 0 ? 0 : (q > (int64_t)levels - 1 ? levels - 1 : (uint32_t)q);
}

static void scaling_choices(void **state) {
  (void)state;
  /* m in weight units normalised to [-1, 1]: L = 2 is the BNN rule (h = +-0.5 level is W_b = +-1). */
  assert_true(fabs(mt_meta_m_level(3.0, 2) - 6.0) < 1e-12);
  assert_true(fabs(mt_meta_m_level(3.0, 33) - 3.0 * 2.0 / 32.0) < 1e-12);
  /* The table spans |h| < L levels: 256 << shift >= L * 65536, and no smaller shift does. */
  for (uint32_t L = 2; L <= 256; L++) {
    uint32_t s = mt_meta_idx_shift(L, 8, 0);
    assert_true((256ull << s) >= (uint64_t)L * 65536);
    assert_true(s == 0 || (256ull << (s - 1)) < (uint64_t)L * 65536);
  }
  /* Smaller tables need coarser entries; the interval rule covers distances < 2 levels. */
  assert_int_equal(mt_meta_idx_shift(33, 8, 0), 14);
  assert_int_equal(mt_meta_idx_shift(33, 4, 0), 18);
  assert_int_equal(mt_meta_idx_shift(33, 8, 1), 9);
  assert_int_equal(mt_meta_idx_shift(4, 0, 1), 17);
  uint16_t table[MT_META_TABLE_SIZE];
  mt_meta_table(0.0, 12, 5, table); /* all ones in the top 5 bits: exactly 1 */
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) assert_int_equal(table[i], 0xF800);
  mt_meta_table(0.25, 12, 6, table);
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) assert_int_equal(table[i] & 0x3FF, 0);
  mt_meta_table(0.0, 12, 16, table); /* m = 0: exactly 1 everywhere, which the unit treats as "off" */
  for (uint32_t i = 0; i < MT_META_TABLE_SIZE; i++) assert_int_equal(table[i], 0xFFFF);
  mt_meta_table(0.25, 12, 16, table); /* decreasing from 1 at |h| = 0 */
  assert_int_equal(table[0], 0xFFFF);
  for (uint32_t i = 1; i < MT_META_TABLE_SIZE; i++) assert_true(table[i] <= table[i - 1]);
  double h = 100 * 4096 / 65536.0, t = tanh(0.25 * h);
  assert_true(fabs(table[100] - (1 - t * t) * 65536) <= 0.5);
}

/* On the device, via META_READ before and after META_UPDATE: an update that
 * would shrink |h| comes out scaled by f_meta(|h|) from the table, truncated
 * toward zero: never larger than sent and never of the other sign; an update
 * that grows |h| is applied as sent. With m = 0 every update is applied as sent. */
static void unit_attenuates_only_toward_zero(void **state) {
  (void)state;
  const double ms[] = {3.0, 0.0};
  for (size_t mi = 0; mi < 2; mi++) {
    mt_meta_t s;
    mt_dev *dev = meta_device(1, ms[mi], &s);
    const uint32_t L = s.preset.levels, shift = s.preset.cfg[MT_CFG_META_IDX_SHIFT];
    uint16_t table[MT_META_TABLE_SIZE];
    mt_meta_table(mt_meta_m_level(ms[mi], L), shift, 16, table);
    enum { R = 16, C = 32, N = R * C };
    static int32_t h0[N], h1[N];
    static int16_t d[N];
    for (uint32_t k = 0; k < N; k++) {
      h0[k] = (int32_t)((int64_t)k * 4099 % (2 * 17 * 65536)) - 17 * 65536; /* |h| up to 17 levels */
      d[k] = (int16_t)((int32_t)(k * 7919u % 60001u) - 30000);
    }
    mt_region r = {0, R, 0, C};
    mt_prog_result res = {0, 0, 0};
    assert_int_equal(mt_dev_meta_write(dev, 0, r, h0, &res), MT_OK);
    int32_t back[N];
    assert_int_equal(mt_dev_meta_read(dev, 0, r, back), MT_OK);
    assert_memory_equal(back, h0, sizeof back);
    assert_int_equal(mt_dev_meta_update(dev, 0, r, d, &res), MT_OK);
    assert_int_equal(mt_dev_meta_read(dev, 0, r, h1), MT_OK);
    uint32_t attenuated = 0, shrinking = 0;
    for (uint32_t k = 0; k < N; k++) {
      int64_t dh = (int64_t)h1[k] - h0[k];
      int shrinks = (h0[k] > 0 && d[k] < 0) || (h0[k] < 0 && d[k] > 0);
      if (!shrinks || ms[mi] == 0.0) {
        assert_true(dh == d[k]);
        continue;
      }
      shrinking++;
      assert_true(llabs(dh) <= abs(d[k]));                 /* never larger */
      assert_true(dh == 0 || (dh < 0) == (d[k] < 0));      /* never the other sign */
      uint32_t idx = (uint32_t)llabs(h0[k]) >> shift;
      uint32_t f = table[idx > 255 ? 255 : idx];
      int64_t want = f == 0xFFFF ? d[k] : (int64_t)d[k] * f / 65536;
      assert_true(dh == want);
      attenuated += llabs(dh) < abs(d[k]);
    }
    if (ms[mi] > 0) {
      print_message("m=%g: %u of %u shrinking updates attenuated\n", ms[mi], attenuated, shrinking);
      assert_true(attenuated > shrinking / 2);
    }
    mt_meta_free(&s);
    mt_dev_close(dev);
  }
}

/* What the host sends and what it reads back: on a layer of two row blocks,
 * META_WRITE puts h = w/delta in Q.16 level units, META_UPDATE adds exactly the
 * int16 values of mt_meta_update_value (m = 0), and the host's mirror and
 * quantized weights are the levels the unit programmed. */
static void host_sends_scaled_updates(void **state) {
  (void)state;
  mt_meta_t s;
  mt_dev *dev = meta_device(2, 0.0, &s);
  const uint32_t *cfg = s.preset.cfg;
  const uint32_t n_in = 130, n_out = 5, n = n_in * n_out;
  mt_layer_map_t m;
  char err[256];
  if (mt_map_init(&m, n_in, n_out, 0, s.preset.levels,
                  0.4f, mt_map_level_step(s.preset.level_table, s.preset.levels), cfg[MT_CFG_ADC_MUL],
                  cfg[MT_CFG_ADC_SHIFT], cfg[MT_CFG_DAC_BITS], 4, err, sizeof err) != 0)
    fail_msg("%s", err);
  float *w = malloc(n * sizeof *w), *w0 = malloc(n * sizeof *w0), *g = malloc(n * sizeof *g);
  int32_t *h = malloc(n * sizeof *h), *hb = malloc(n * sizeof *hb);
  uint16_t *lv = malloc(n * sizeof *lv);
  assert_non_null(w && w0 && g && h && hb && lv);
  uint64_t x = 1;
  for (uint32_t k = 0; k < n; k++) {
    x = x * 6364136223846793005ull + 1442695040888963407ull;
    w0[k] = w[k] = ((float)(x >> 40) / (float)(1u << 24) - 0.5f) * 0.6f;
    g[k] = ((float)((x >> 16) & 0xFFFFFF) / (float)(1u << 24) - 0.5f) * 2.0f;
  }
  g[3] = 1e6f;   /* clipped to a step of +32767 units (half a level) */
  g[4] = -1e6f;
  mt_prog_result res = {0, 0, 0};
  assert_int_equal(mt_meta_write_init(&s, &m, dev, w, &res), MT_OK);
  /* Reads one layer's hidden weights and levels from its two tiles. */
#define READ_LAYER()                                                                       \
  for (uint32_t rb = 0; rb < 2; rb++) {                                                    \
    mt_region r = {0, rb ? n_in - 128 : 128, 0, n_out};                                    \
    assert_int_equal(mt_dev_meta_read(dev, rb, r, h + rb * 128 * n_out), MT_OK);           \
    assert_int_equal(mt_dev_read_levels(dev, rb, r, lv + rb * 128 * n_out), MT_OK);        \
  }
  READ_LAYER();
  for (uint32_t k = 0; k < n; k++) {
    assert_true(h[k] == (int32_t)nearbyint((double)w0[k] * m.inv_delta * 65536.0));
    assert_int_equal(lv[k], level_of_hidden(h[k], m.levels));
    assert_int_equal(m.level[k], lv[k]);
    assert_true(w[k] == mt_map_weight_of(&m, lv[k])); /* the host keeps the quantized weight only */
  }
  memcpy(hb, h, n * sizeof *h);
  const float lr = 0.01f;
  assert_int_equal(mt_meta_step(&s, &m, dev, g, lr, w, &res), MT_OK);
  READ_LAYER();
  uint32_t changed = 0;
  for (uint32_t k = 0; k < n; k++) {
    int16_t v = mt_meta_update_value(&m, s.in_shift, lr, g[k]);
    float want = nearbyintf(-lr * m.inv_delta * 65536.0f * g[k]);
    if (fabsf(want) <= 32767) assert_true(abs(v - (int)want) <= 1); /* the stated scaling */
    assert_int_equal(h[k] - hb[k], v);
    assert_int_equal(lv[k], level_of_hidden(h[k], m.levels));
    assert_int_equal(m.level[k], lv[k]);
    assert_true(w[k] == mt_map_weight_of(&m, lv[k]));
    changed += level_of_hidden(hb[k], m.levels) != lv[k];
  }
  assert_int_equal(mt_meta_update_value(&m, s.in_shift, lr, g[3]), -MT_META_UPDATE_MAX);
  assert_int_equal(mt_meta_update_value(&m, s.in_shift, lr, g[4]), MT_META_UPDATE_MAX);
  assert_int_equal(mt_meta_update_value(&m, s.in_shift, lr, NAN), 0);
  assert_true(s.clipped >= 2);
  print_message("%u of %u levels changed by the step\n", changed, n);
  assert_true(changed > 0);
#undef READ_LAYER
  free(w), free(w0), free(g), free(h), free(hb), free(lv);
  mt_map_free(&m);
  mt_meta_free(&s);
  mt_dev_close(dev);
}

/* ---- training ------------------------------------------------------------ */

typedef struct {
  mt_dev *dev;
  int mode; /* 0: nothing; 1: rewrite the hidden weights as read; 2: move them to their level centres */
  uint32_t calls;
  mt_epoch_stats last;
  uint32_t n_epochs;
  mt_epoch_stats all[4];
} probe_t;

/* Layer tiles of 784-32-10: tiles 0..6 hold layer 0 (row blocks), tile 7 layer 1. */
static mt_region tile_region(uint32_t tile) {
  mt_region r = {0, tile < 6 ? 128 : (tile == 6 ? 784 - 768 : 32), 0, tile < 7 ? 32 : 10};
  return r;
}

static void perturb_hidden(probe_t *p) {
  static int32_t h[128 * 32];
  for (uint32_t tile = 0; tile < 8; tile++) {
    mt_region r = tile_region(tile);
    if (mt_dev_meta_read(p->dev, tile, r, h) != MT_OK) fail_msg("%s", mt_dev_errmsg(p->dev));
    if (p->mode == 2)
      for (uint32_t k = 0; k < r.nrows * r.ncols; k++) {
        int32_t q = (int32_t)level_of_hidden(h[k], rram.levels);
        h[k] = (2 * q - (int32_t)(rram.levels - 1)) * 32768; /* same level, sub-level part gone */
      }
    mt_prog_result res;
    if (mt_dev_meta_write(p->dev, tile, r, h, &res) != MT_OK) fail_msg("%s", mt_dev_errmsg(p->dev));
    assert_int_equal(res.programmed, 0); /* levels unchanged: no cell is touched */
  }
}

static void on_progress(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss) {
  (void)epoch, (void)done, (void)total, (void)loss;
  probe_t *p = ctx;
  if (++p->calls == 4 && p->mode) perturb_hidden(p);
}

static int on_epoch(void *ctx, const mt_epoch_stats *s) {
  probe_t *p = ctx;
  p->last = *s;
  if (p->n_epochs < 4) p->all[p->n_epochs] = *s;
  p->n_epochs++;
  return 0;
}

static mt_epoch_stats meta_run(int mode, uint32_t epochs) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_METAPLASTIC;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = epochs;
  probe_t p;
  memset(&p, 0, sizeof p);
  p.mode = mode;
  if (mt_dev_open("model://?tiles=8", &p.dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(p.dev));
  mt_train_hooks hooks = {on_progress, on_epoch, &p, NULL};
  char err[512];
  if (mt_train_run(&o, &mnist_train, &mnist_test, p.dev, &rram, &hooks, err, sizeof err) != 0)
    fail_msg("%s", err);
  /* After training, every stored level is the level of its hidden weight, and
   * the hidden weights carry sub-level precision that only the unit holds. */
  static int32_t h[128 * 32];
  static uint16_t lv[128 * 32];
  uint32_t off_centre = 0, total = 0;
  for (uint32_t tile = 0; tile < 8; tile++) {
    mt_region r = tile_region(tile);
    assert_int_equal(mt_dev_meta_read(p.dev, tile, r, h), MT_OK);
    assert_int_equal(mt_dev_read_levels(p.dev, tile, r, lv), MT_OK);
    for (uint32_t k = 0; k < r.nrows * r.ncols; k++) {
      assert_int_equal(lv[k], level_of_hidden(h[k], rram.levels));
      off_centre += (h[k] + (int32_t)(rram.levels - 1) * 32768) % 65536 != 0;
      total++;
    }
  }
  assert_true(off_centre > total / 2);
  mt_dev_close(p.dev);
  return p.last;
}

/* --optimizer adam: the unit receives Adam's step in place of SGD's. With beta1 = beta2 = 0
 * Adam's direction is g / (|g| + eps), +-1 for every weight with a gradient (eps tiny), so with m = 0 (no
 * attenuation) one step moves every such hidden weight by the same amount, round(lr / delta
 * 2^(16 - in_shift)) 2^in_shift; SGD's steps, -lr g, have many sizes. */
typedef struct {
  mt_dev *dev;
  uint32_t calls;
  int32_t h[2][128 * 32]; /* tile 3's hidden weights (image rows 13-18) after steps 1 and 2 */
} step_probe_t;

static void read_after_step(void *ctx, uint32_t epoch, uint32_t done, uint32_t total, double loss) {
  (void)epoch, (void)done, (void)total, (void)loss;
  step_probe_t *p = ctx;
  if (p->calls < 2 && mt_dev_meta_read(p->dev, 3, tile_region(3), p->h[p->calls]) != MT_OK)
    fail_msg("%s", mt_dev_errmsg(p->dev));
  p->calls++;
}

/* The distinct non-zero |changes| of tile 3's hidden weights between steps 1 and 2 (up to
 * 8 of them in sizes), and how many weights moved. */
static uint32_t step_sizes(mt_optimizer opt, int32_t *sizes, uint32_t *moved) {
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_METAPLASTIC;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = 1;
  o.meta_m = 0;
  o.optimizer = opt;
  o.adam_beta1 = o.adam_beta2 = 0;
  o.adam_eps = 1e-30f; /* below any gradient's size: the direction is the sign */
  o.lr = 0.002f;
  mt_dataset_t few = mnist_train;
  few.count = 64; /* two steps */
  static step_probe_t p;
  memset(&p, 0, sizeof p);
  if (mt_dev_open("model://?tiles=8", &p.dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(p.dev));
  mt_train_hooks hooks = {read_after_step, NULL, &p, NULL};
  char err[512];
  if (mt_train_run(&o, &few, &mnist_test, p.dev, &rram, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  mt_dev_close(p.dev);
  assert_int_equal(p.calls, 2);
  uint32_t n = 0;
  *moved = 0;
  for (uint32_t k = 0; k < 128 * 32; k++) {
    int32_t d = abs(p.h[1][k] - p.h[0][k]);
    if (d == 0) continue;
    (*moved)++;
    uint32_t j = 0;
    while (j < n && sizes[j] != d) j++;
    if (j == n && n < 8) sizes[n++] = d;
  }
  return n;
}

static void adam_step_is_sent_to_the_unit(void **state) {
  (void)state;
  int32_t sizes[8];
  uint32_t moved = 0;
  uint32_t n = step_sizes(MT_OPTIM_ADAM, sizes, &moved);
  print_message("adam: %u weights of tile 3 moved, by %d\n", moved, sizes[0]);
  assert_true(moved > 128 * 32 / 4); /* not a vacuous check: the image's centre rows are lit */
  for (uint32_t k = 1; k < n; k++) print_error("and by %d\n", sizes[k]);
  assert_int_equal(n, 1);
  n = step_sizes(MT_OPTIM_SGD, sizes, &moved);
  assert_true(n > 1);
}

/* The trainer's future depends on the hidden weights in the device: moving
 * them inside their levels mid-epoch (no cell changes) changes the rest of
 * the run, while writing back the same values changes nothing. A host copy
 * of the hidden weights would make both runs equal to the undisturbed one. */
static void hidden_weights_live_on_the_device(void **state) {
  (void)state;
  mt_epoch_stats a = meta_run(0, 1), same = meta_run(1, 1), moved = meta_run(2, 1);
  print_message("train loss: undisturbed %.6f, rewritten %.6f, moved %.6f\n", a.train_loss,
                same.train_loss, moved.train_loss);
  assert_true(a.train_loss == same.train_loss);
  assert_true(a.test_accuracy == same.test_accuracy);
  assert_true(a.train_loss != moved.train_loss);
  assert_true(a.cells_programmed != moved.cells_programmed);
  assert_true(a.cells_programmed > 0);
}

/* --tasks: every epoch reports every task's test accuracy. With the float
 * algorithm everything is deterministic, so the accuracies after task 1 must
 * be those of a single-task run tested on each test set. */
static void tasks_test_every_task(void **state) {
  (void)state;
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_FLOAT;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  o.epochs = 2;
  mt_dataset_t trains[2] = {mnist_train, fashion_train}, tests[2] = {mnist_test, fashion_test};
  probe_t p, q1, q2;
  memset(&p, 0, sizeof p);
  memset(&q1, 0, sizeof q1);
  memset(&q2, 0, sizeof q2);
  mt_train_hooks hooks = {NULL, on_epoch, &p, NULL};
  char err[512];
  if (mt_train_run_tasks(&o, 2, trains, tests, NULL, NULL, &hooks, err, sizeof err) != 0) fail_msg("%s", err);
  assert_int_equal(p.n_epochs, 4);
  for (uint32_t e = 0; e < 4; e++) {
    assert_int_equal(p.all[e].epoch, e + 1);
    assert_int_equal(p.all[e].task, e / 2 + 1);
    assert_int_equal(p.all[e].n_tasks, 2);
    assert_true(p.all[e].task_accuracy[e / 2] == p.all[e].test_accuracy);
  }
  mt_train_hooks h1 = {NULL, on_epoch, &q1, NULL}, h2 = {NULL, on_epoch, &q2, NULL};
  if (mt_train_run(&o, &mnist_train, &mnist_test, NULL, NULL, &h1, err, sizeof err) != 0 ||
      mt_train_run(&o, &mnist_train, &fashion_test, NULL, NULL, &h2, err, sizeof err) != 0)
    fail_msg("%s", err);
  print_message("after task 1: mnist %.3f, fashion %.3f; after task 2: mnist %.3f, fashion %.3f\n",
                p.all[1].task_accuracy[0], p.all[1].task_accuracy[1], p.all[3].task_accuracy[0],
                p.all[3].task_accuracy[1]);
  assert_true(p.all[1].task_accuracy[0] == q1.all[1].test_accuracy);
  assert_true(p.all[1].task_accuracy[1] == q2.all[1].test_accuracy);
  assert_true(p.all[1].task_accuracy[0] > 0.35); /* learned task 1 (chance 0.1) ... */
  assert_true(p.all[3].task_accuracy[1] > 0.35); /* ... then task 2 */
  /* A checkpoint that cannot be written stops the run with its path and MT_ERR_IO (tests/host/
   * test_ckpt_algos.c resumes several tasks); a bad task count is refused. */
  o.checkpoint = "/nonexistent/ckpt";
  assert_int_equal(mt_train_run_tasks(&o, 2, trains, tests, NULL, NULL, &hooks, err, sizeof err), MT_ERR_IO);
  assert_non_null(strstr(err, "/nonexistent/ckpt"));
  o.checkpoint = NULL;
  assert_int_equal(mt_train_run_tasks(&o, 0, trains, tests, NULL, NULL, &hooks, err, sizeof err), MT_ERR_INVAL);
  assert_int_equal(mt_train_run_tasks(&o, MT_TRAIN_MAX_TASKS + 1, trains, tests, NULL, NULL, &hooks,
                                       err, sizeof err), MT_ERR_INVAL);
}

/* A metaplastic run resumed from its checkpoint continues exactly: the
 * hidden weights travel in the device image, the levels in the host mirror. */
static void metaplastic_resume_is_exact(void **state) {
  (void)state;
  char path[] = "/tmp/mt_test_meta_XXXXXX";
  int fd = mkstemp(path);
  assert_true(fd >= 0);
  close(fd);
  mt_train_opts o;
  mt_train_defaults(&o);
  o.algo = MT_ALGO_METAPLASTIC;
  o.sizes[0] = 784, o.sizes[1] = 32, o.sizes[2] = 10, o.n_layers = 2;
  probe_t whole, first, rest;
  memset(&whole, 0, sizeof whole);
  memset(&first, 0, sizeof first);
  memset(&rest, 0, sizeof rest);
  char err[512];
  probe_t *runs[3] = {&whole, &first, &rest};
  for (int k = 0; k < 3; k++) {
    o.epochs = k == 1 ? 1 : 2;
    o.checkpoint = k == 1 ? path : NULL;
    o.resume = k == 2 ? path : NULL;
    mt_dev *dev = NULL;
    if (mt_dev_open("model://?tiles=8", &dev) != MT_OK) fail_msg("%s", mt_dev_errmsg(dev));
    mt_train_hooks hooks = {NULL, on_epoch, runs[k], NULL};
    if (mt_train_run(&o, &mnist_train, &mnist_test, dev, &rram, &hooks, err, sizeof err) != 0)
      fail_msg("%s", err);
    mt_dev_close(dev);
  }
  unlink(path);
  assert_int_equal(rest.n_epochs, 1);
  const mt_epoch_stats *a = &whole.all[1], *b = &rest.all[0];
  assert_int_equal(b->epoch, 2);
  assert_true(a->train_loss == b->train_loss && a->test_accuracy == b->test_accuracy);
  assert_int_equal(a->cells_programmed, b->cells_programmed);
  assert_int_equal(a->set_pulses, b->set_pulses);
  assert_int_equal(a->updates_skipped, b->updates_skipped);
}

int main(void) {
  const struct CMUnitTest tests[] = {
    cmocka_unit_test(scaling_choices),
    cmocka_unit_test(unit_attenuates_only_toward_zero),
    cmocka_unit_test(host_sends_scaled_updates),
    cmocka_unit_test(hidden_weights_live_on_the_device),
    cmocka_unit_test(adam_step_is_sent_to_the_unit),
    cmocka_unit_test(tasks_test_every_task),
    cmocka_unit_test(metaplastic_resume_is_exact),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
