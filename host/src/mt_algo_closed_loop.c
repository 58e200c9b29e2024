/* `closed-loop`: after every SGD step each weight is programmed again by
 * write-verify from its reset state, whether its level changed or not
 * (docs/algorithms.md): the costly upper bound of in-situ training. With
 * --changed-only, only the weights whose level changed are written and
 * verified ("write-verify on change"): the fair closed-loop baseline of a
 * sparse method such as siamese. */
#include "mt_algo.h"

static int closed_loop_step(mt_trainer *t) {
  const mt_train_opts *o = t->o;
  mt_trainer_sgd_clipped(t, (const float *const *)t->wk.gw, (const float *const *)t->wk.gb);
  uint32_t flags = o->open_loop ? MT_PROG_OPEN_LOOP : 0;
  int all = !o->changed_only;
  for (uint32_t l = 0; l < o->n_layers; l++) {
    mt_prog_result res = {0, 0, 0};
    int rc = mt_map_program(&t->maps[l], t->dev, t->net.w[l], NULL, all, flags, &res);
    t->host_skipped += res.skipped;
    if (rc != MT_OK) return mt_trainer_dev_fail(t);
  }
  return 0;
}

static void closed_loop_fingerprint(const mt_trainer *t, mt_fp *fp) {
  mt_fp_add(fp, "changed-only", MT_FP_INT, t->o->changed_only);
}

const mt_algo_ops mt_algo_closed_loop = {
  .name = "closed-loop",
  .flags = MT_ALGO_F_DEVICE | MT_ALGO_F_DEV_FWD,
  .program_init = mt_trainer_program_all,
  .step = closed_loop_step,
  .fingerprint = closed_loop_fingerprint,
};
