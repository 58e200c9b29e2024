/* Float multilayer perceptron: the software baseline, and the float "shadow"
 * network of device-in-the-loop training. In the latter the matrix products
 * of the forward pass run on the device (through an mt_matmul_fn), and the
 * backward pass runs here in float from the activations the device produced
 * (straight-through), so the gradients see the device's non-idealities.
 *
 * Layer l maps sizes[l] inputs to sizes[l+1] outputs; hidden layers use ReLU,
 * the last layer gives logits for a softmax cross-entropy loss. Batches are
 * row-major: example b of a batch of n-wide rows starts at b*n. */
#ifndef MT_NN_H
#define MT_NN_H

#include <stddef.h>
#include <stdint.h>

#define MT_NN_MAX_LAYERS 8u    /* weight layers */
#define MT_NN_MAX_SIZE 65536u  /* largest layer width mt_mlp_parse accepts */

typedef struct {
  uint32_t n_layers;                      /* weight layers */
  uint32_t sizes[MT_NN_MAX_LAYERS + 1];   /* sizes[0] = inputs, sizes[n_layers] = classes */
  float *w[MT_NN_MAX_LAYERS];             /* layer l: sizes[l] x sizes[l+1], row-major: w[l][i*out + j] */
  float *b[MT_NN_MAX_LAYERS];             /* sizes[l+1] */
} mt_mlp_t;

/* "784-256-10" -> sizes {784,256,10}, n_layers 2. On error (empty spec or
 * part, non-numeric, zero, > MT_NN_MAX_SIZE, fewer than 2 or more than
 * MT_NN_MAX_LAYERS+1 sizes) returns -1, leaves sizes/n_layers untouched and
 * writes a message quoting the spec and the bad part into err (may be NULL). */
int mt_mlp_parse(const char *spec, uint32_t *sizes, uint32_t *n_layers, char *err, size_t errlen);

/* Kaiming-uniform weights U(-sqrt(6/in), sqrt(6/in)), zero biases, from a
 * splitmix64 stream seeded by seed (bit-identical on every IEEE-754 platform).
 * Returns 0, or -1 on bad shapes or allocation failure (m is then left empty,
 * safe to mt_mlp_free). */
int mt_mlp_init(mt_mlp_t *m, const uint32_t *sizes, uint32_t n_layers, uint64_t seed);
/* Frees and empties m; safe on a zeroed or already freed network. */
void mt_mlp_free(mt_mlp_t *m);
/* Deep copy into an uninitialised dst. 0, or -1 (dst left empty). */
int mt_mlp_copy(mt_mlp_t *dst, const mt_mlp_t *src);
/* Weights (not biases) of the whole network. */
size_t mt_mlp_n_weights(const mt_mlp_t *m);

typedef struct {  /* per-batch workspace, allocated once for max_batch */
  uint32_t max_batch;
  float *act[MT_NN_MAX_LAYERS + 1];  /* act[0] = input copy, act[l+1] = output of layer l (ReLU on hidden, logits on the last) */
  float *delta[MT_NN_MAX_LAYERS + 1]; /* delta[l] = dLoss/d(pre-activation of act[l]), l >= 1; delta[0] is NULL (no input gradient) */
  float *gw[MT_NN_MAX_LAYERS], *gb[MT_NN_MAX_LAYERS];  /* gradients of the mean loss over the batch */
  /* Shape the buffers were sized for; forward rejects a network of another shape. */
  uint32_t n_layers;
  uint32_t sizes[MT_NN_MAX_LAYERS + 1];
} mt_mlp_work_t;
/* 0, or -1 (max_batch 0, bad network, allocation; wk is then left empty). */
int mt_mlp_work_init(mt_mlp_work_t *wk, const mt_mlp_t *m, uint32_t max_batch);
/* Frees and empties wk; safe on a zeroed or already freed workspace. */
void mt_mlp_work_free(mt_mlp_work_t *wk);

/* The matrix product of one layer: out[batch x n_out] = in[batch x n_in] * W_l
 * (no bias). A device backend implements it; it returns 0 or an error code,
 * which mt_mlp_forward passes through. in is wk->act[layer] (the network
 * input for layer 0, non-negative ReLU outputs after), out is
 * wk->act[layer + 1]. */
typedef int (*mt_matmul_fn)(void *ctx, uint32_t layer, const float *in, uint32_t batch, float *out);
/* The float product of layer l with m->w[l] (what a NULL mm means). */
void mt_mlp_matmul_float(const mt_mlp_t *m, uint32_t layer, const float *in, uint32_t batch, float *out);

/* Forward pass of batch examples x (batch x sizes[0]): per layer mm (float if
 * NULL), + bias, ReLU on hidden layers; activations cached in wk. Returns 0,
 * -1 if batch > wk->max_batch or wk was sized for another network shape, or
 * mm's error. batch 0 does nothing. */
int mt_mlp_forward(const mt_mlp_t *m, mt_mlp_work_t *wk, const float *x, uint32_t batch,
                   mt_matmul_fn mm, void *ctx);
/* Mean softmax cross-entropy of the cached logits against labels (each <
 * classes; an out-of-range label gets no one-hot term and never counts as
 * correct); writes wk->delta[n_layers] = (softmax - onehot) / batch and, if
 * correct is not NULL, stores the number of examples whose argmax is the
 * label. Returns 0 for batch 0. */
float mt_mlp_loss(const mt_mlp_t *m, mt_mlp_work_t *wk, const uint8_t *labels, uint32_t batch,
                  uint32_t *correct);
/* Backward from wk->delta[n_layers] through the cached activations with the
 * float weights of m (ReLU derivative: cached act > 0): fills wk->gw, wk->gb
 * and the hidden deltas. */
void mt_mlp_backward(const mt_mlp_t *m, mt_mlp_work_t *wk, uint32_t batch);
/* Plain SGD step: w -= lr * gw, b -= lr * gb. */
void mt_mlp_sgd(mt_mlp_t *m, const mt_mlp_work_t *wk, float lr);
/* Argmax of the cached logits of each example (first maximum on ties;
 * classes beyond 256 do not fit a uint8_t and are truncated). */
void mt_mlp_predict(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t batch, uint8_t *pred);

#endif
