/* A program outside the memtile tree, built against an installed memtile with pkg-config
 * (tests/install/test_install.sh): a device, a preset found by name, a layer, the
 * protocol's counters, and an error message. Prints what the test checks. */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include <memtile.h>
#include <memtile_layer.h>
#include <memtile_train.h>

int main(void) {
  mt_dev *dev = NULL;
  if (mt_dev_open("model://?tiles=2", &dev) != MT_OK) {
    fprintf(stderr, "open: %s\n", mt_dev_errmsg(dev));
    return 1;
  }
  const mt_dev_info *i = mt_dev_get_info(dev);
  printf("device %u tiles of %ux%u\n", i->tiles, i->rows, i->cols);
  mt_preset *p = NULL;
  if (mt_preset_open("ideal", &p) != MT_OK) {
    fprintf(stderr, "preset: %s\n", mt_preset_errmsg(p));
    return 1;
  }
  printf("preset %s from %s\n", mt_preset_name(p), mt_preset_path(p));
  if (mt_dev_apply_preset(dev, p) != MT_OK || mt_dev_fabricate(dev, 7, 0) != MT_OK) {
    fprintf(stderr, "configure: %s\n", mt_dev_errmsg(dev));
    return 1;
  }
  /* y = x W for a 3 x 2 layer on the device, against the same product in float. */
  const float w[6] = {0.5f, -0.25f, 0.0f, 0.75f, -0.5f, 0.25f}, x[3] = {1.0f, 0.5f, -1.0f};
  mt_layer *l = NULL;
  mt_prog_result res;
  float y[2], wq[6];
  if (mt_layer_open(dev, p, 3, 2, 0, 1.0f, 1, &l) != MT_OK || mt_layer_program(l, w, &res) != MT_OK ||
      mt_layer_matmul(l, x, 1, y) != MT_OK || mt_layer_weights(l, wq) != MT_OK) {
    fprintf(stderr, "layer: %s\n", mt_layer_errmsg(l));
    return 1;
  }
  double worst = 0;
  for (int j = 0; j < 2; j++) {
    double want = 0;
    for (int k = 0; k < 3; k++) want += x[k] * wq[k * 2 + j];
    if (fabs(y[j] - want) > worst) worst = fabs(y[j] - want);
  }
  printf("programmed %u, mvm error %.4f\n", res.programmed, worst);
  uint64_t counters[4];
  if (mt_dev_stats(dev, counters, 4) != MT_OK) {
    fprintf(stderr, "stats: %s\n", mt_dev_errmsg(dev));
    return 1;
  }
  printf("set pulses %llu\n", (unsigned long long)counters[0]);
  mt_layer_close(l);
  mt_preset_close(p);
  mt_dev_close(dev);
  dev = NULL;
  int rc = mt_dev_open("bogus://x", &dev);
  printf("bogus: %s (%s)\n", mt_strerror(rc), mt_dev_errmsg(dev));
  mt_dev_close(dev);
  p = NULL;
  rc = mt_preset_open("no-such-preset", &p);
  printf("missing preset: %s\n", mt_preset_errmsg(p));
  mt_preset_close(p);
  /* The training API (memtile_train.h): an option error names the option. */
  mt_trainer *t = NULL;
  rc = mt_trainer_create(NULL, &t);
  if (rc == MT_OK && mt_trainer_set(t, "epochs", "zero") != MT_OK)
    printf("trainer: %s\n", mt_train_errmsg(t));
  mt_trainer_close(t);
  return worst < 0.05 ? 0 : 1;
}
