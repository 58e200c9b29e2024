/* `float`: the software baseline, plain SGD on the host without a device
 * (docs/algorithms.md). */
#include "mt_algo.h"

static int float_step(mt_trainer *t) {
  mt_mlp_sgd(&t->net, &t->wk, t->o->lr);
  return 0;
}

const mt_algo_ops mt_algo_float = {
  .name = "float",
  .step = float_step,
};
