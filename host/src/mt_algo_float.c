/* `float`: the software baseline on the host without a device (docs/algorithms.md): plain
 * SGD, or with --optimizer adam Adam's steps, so that the reference trained alone can use the
 * device runs' optimizer. */
#include "mt_algo.h"

static int float_step(mt_trainer *t) {
  mt_trainer_step_dirs(t);
  mt_mlp_sgd(&t->net, &t->wk, t->o->lr);
  return 0;
}

const mt_algo_ops mt_algo_float = {
  .name = "float",
  .flags = MT_ALGO_F_HOST_OPTIM,
  .step = float_step,
};
