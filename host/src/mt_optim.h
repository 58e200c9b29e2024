/* Adam (Kingma & Ba 2015), the host trainer's optional optimizer (--optimizer adam;
 * docs/algorithms.md "Optimizers"). It turns each step's gradients into step directions
 * m_hat / (sqrt(v_hat) + eps); the caller multiplies them by the learning rate and applies
 * them (float: to the weights; metaplastic: converted and sent to the device's unit in
 * place of SGD's -lr g). The moments live here, on the host, beside the parameters they
 * belong to: PyTorch's Adam, as the paper's code uses it, without weight decay or amsgrad.
 * Internal to the host library. */
#ifndef MT_OPTIM_H
#define MT_OPTIM_H

#include <stddef.h>
#include <stdint.h>

#define MT_ADAM_BETA1 0.9f  /* the defaults of --adam-beta1, --adam-beta2, --adam-eps */
#define MT_ADAM_BETA2 0.999f
#define MT_ADAM_EPS 1e-8f
#define MT_ADAM_MAX_SLOTS 32u /* parameter tensors: weights, biases, gamma, beta per layer */

typedef struct {
  float beta1, beta2, eps;
  uint64_t steps;            /* steps taken (t of the bias correction) */
  uint32_t n_slots;
  size_t n[MT_ADAM_MAX_SLOTS]; /* values of each tensor (0: an unused slot) */
  float *m[MT_ADAM_MAX_SLOTS], *v[MT_ADAM_MAX_SLOTS]; /* first and second moments */
  float c1, c2;              /* this step's bias corrections 1/(1 - beta^t), 1/sqrt(1 - beta2^t) */
} mt_adam_t;

/* Zeroed moments for n_slots tensors of n[k] values. 0, or -1 (allocation; a is then
 * empty, safe to mt_adam_free). */
int mt_adam_init(mt_adam_t *a, const size_t *n, uint32_t n_slots, float beta1, float beta2,
                 float eps);
void mt_adam_free(mt_adam_t *a);
/* Starts a step: steps + 1, and the bias corrections for it. */
void mt_adam_begin_step(mt_adam_t *a);
/* Slot k of the step: m = b1 m + (1-b1) g, v = b2 v + (1-b2) g^2, then
 * d = m_hat / (sqrt(v_hat) + eps). d may be g (in place). */
void mt_adam_dir(mt_adam_t *a, uint32_t k, const float *g, float *d);

#endif
