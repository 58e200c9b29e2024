/* `closed-loop`: after every SGD step each weight is programmed again by
 * write-verify from its reset state, whether its level changed or not
 * (docs/algorithms.md): the costly upper bound of in-situ training. */
#include "mt_algo.h"

static int closed_loop_step(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  mt_trainer_sgd_clipped(t, (const float *const *)t->wk.gw, (const float *const *)t->wk.gb);
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  for (uint32_t l = 0; l < o->n_layers; l++)
    if (mt_map_program(&t->maps[l], t->dev, t->net.w[l], NULL, 1, flags, NULL) != MT_OK)
      return mt_trainer_dev_fail(t);
  return 0;
}

const mt_algo_ops mt_algo_closed_loop = {
  .name = "closed-loop",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD,
  .program_init = mt_trainer_program_all,
  .step = closed_loop_step,
};
