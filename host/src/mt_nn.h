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

/* Convolution layers (docs/algorithms.md "Convolutional networks"). A layer
 * whose spec has conv == 0 is fully connected; a conv layer takes an
 * in_h x in_w x in_c map (HWC order: element (y, x, c) at (y*in_w + x)*in_c + c),
 * convolves it with out_c kernels of k x k x in_c (stride 1, no padding),
 * adds a bias per channel, applies ReLU, then pools pool x pool windows
 * (stride pool; rows/columns that do not fill a window are dropped). Its
 * weight matrix is the im2col one: k*k*in_c rows ((ky*k + kx)*in_c + c) by
 * out_c columns, so a conv layer maps onto tiles exactly like an fc layer. */
typedef enum { MT_POOL_NONE = 0, MT_POOL_MAX, MT_POOL_AVG } mt_pool_kind;

typedef struct {
  uint32_t conv;               /* 0: fully connected (other fields unused), 1: convolution */
  uint32_t in_h, in_w, in_c;   /* input map */
  uint32_t k, out_c;           /* kernel side, output channels */
  uint32_t pool;               /* pool window side; 0 or 1: no pooling */
  mt_pool_kind pool_kind;
} mt_layer_spec;

typedef struct {
  uint32_t n_layers;                      /* weight layers */
  uint32_t sizes[MT_NN_MAX_LAYERS + 1];   /* activation widths: sizes[0] = inputs, sizes[l+1] = layer l's output (after pooling), sizes[n_layers] = classes */
  mt_layer_spec spec[MT_NN_MAX_LAYERS];   /* all zero for an MLP */
  float *w[MT_NN_MAX_LAYERS];             /* layer l: rows x cols (mt_mlp_rows/cols), row-major: w[l][i*cols + j] */
  float *b[MT_NN_MAX_LAYERS];             /* cols */
  /* BatchNorm of the hidden layers (mt_mlp_enable_bn; all NULL without it, and always for the
   * last layer): per output column the scale gamma, the shift beta, and the running mean and
   * (unbiased) variance that evaluation normalises with. */
  float *bn_gamma[MT_NN_MAX_LAYERS], *bn_beta[MT_NN_MAX_LAYERS];
  float *bn_mean[MT_NN_MAX_LAYERS], *bn_var[MT_NN_MAX_LAYERS];
} mt_mlp_t;

/* Weight matrix of layer l: fc sizes[l] x sizes[l+1]; conv k*k*in_c x out_c. */
uint32_t mt_layer_rows(const mt_layer_spec *s, const uint32_t *sizes, uint32_t l);
uint32_t mt_layer_cols(const mt_layer_spec *s, const uint32_t *sizes, uint32_t l);
/* Rows one example sends through layer l's matrix product: 1 for fc, the
 * number of output positions (in_h-k+1)*(in_w-k+1) for conv. */
uint32_t mt_layer_positions(const mt_layer_spec *s, uint32_t l);
static inline uint32_t mt_mlp_rows(const mt_mlp_t *m, uint32_t l) { return mt_layer_rows(m->spec, m->sizes, l); }
static inline uint32_t mt_mlp_cols(const mt_mlp_t *m, uint32_t l) { return mt_layer_cols(m->spec, m->sizes, l); }
static inline uint32_t mt_mlp_positions(const mt_mlp_t *m, uint32_t l) { return mt_layer_positions(m->spec, l); }

/* Parses an MLP spec ("784-256-10", as mt_mlp_parse; spec[] zeroed) or a CNN
 * spec "HxWxC-cKxN-p2-a2-...-FC-...-CLASSES" (grammar in docs/algorithms.md).
 * Fills sizes (activation widths), spec and n_layers; on error returns -1,
 * leaves the outputs untouched and writes a message naming the bad token. */
int mt_net_parse(const char *text, uint32_t *sizes, mt_layer_spec *spec, uint32_t *n_layers,
                 char *err, size_t errlen);
/* Checks a shape (sizes consistent with the conv specs); 1 if valid. */
int mt_net_shape_ok(const uint32_t *sizes, const mt_layer_spec *spec, uint32_t n_layers);
/* mt_mlp_init for any network: spec may be NULL (an MLP). Kaiming bound
 * sqrt(6/rows) per layer, rows as in mt_mlp_rows. */
int mt_net_init(mt_mlp_t *m, const uint32_t *sizes, const mt_layer_spec *spec, uint32_t n_layers,
                uint64_t seed);

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

/* BatchNorm (docs/algorithms.md "BatchNorm"), as PyTorch's BatchNorm1d (BatchNorm2d for a
 * conv layer: statistics per channel over examples and positions) between each hidden
 * layer's matrix product and its ReLU: y = gamma (x - mean) / sqrt(var + MT_BN_EPS) + beta.
 * In training (mt_mlp_work_t.bn_train) mean and var are the batch's (biased variance), and
 * the running statistics move towards them by MT_BN_MOMENTUM (the unbiased variance, as
 * PyTorch); in evaluation, and for a training batch of a single row, which has no variance,
 * the running statistics normalise and are left as they are. A BatchNorm layer has no bias
 * (beta takes its place): its b stays 0 and its gradient gb is 0. */
#define MT_BN_EPS 1e-5f
#define MT_BN_MOMENTUM 0.1f
/* Gives every hidden layer of m BatchNorm: gamma 1, beta 0, running mean 0 and variance 1.
 * Call before mt_mlp_work_init. 0, or -1 (allocation; m keeps no BatchNorm then). */
int mt_mlp_enable_bn(mt_mlp_t *m);
/* 1 if layer l of m has BatchNorm. */
static inline int mt_mlp_has_bn(const mt_mlp_t *m, uint32_t l) { return m->bn_gamma[l] != NULL; }

typedef struct {  /* per-batch workspace, allocated once for max_batch */
  uint32_t max_batch;
  float *act[MT_NN_MAX_LAYERS + 1];  /* act[0] = input copy, act[l+1] = output of layer l (ReLU on hidden, logits on the last) */
  float *delta[MT_NN_MAX_LAYERS + 1]; /* delta[l] = dLoss/d(pre-activation of act[l]), l >= 1; delta[0] is NULL (no input gradient) */
  float *gw[MT_NN_MAX_LAYERS], *gb[MT_NN_MAX_LAYERS];  /* gradients of the mean loss over the batch */
  /* Conv layers only (NULL for fc): the im2col patches of the batch
   * (batch*positions x rows; reused for their gradient in backward), and the
   * ReLU outputs before pooling and their gradient (batch*positions x cols). */
  float *cols[MT_NN_MAX_LAYERS], *z[MT_NN_MAX_LAYERS], *dz[MT_NN_MAX_LAYERS];
  /* BatchNorm layers only (NULL otherwise): the normalised products xhat of the last forward
   * pass (rows x cols, rows as the layer's matrix product), 1/sqrt(var + eps) it used, whether
   * those were the batch's statistics, and the gradients of gamma and beta. */
  int bn_train; /* set by the caller: 1 = training forward passes (batch statistics) */
  /* Set by the caller: 1 = backward writes no gradient row of a fully connected layer's input
   * that mt_mlp_grad_row_unfed(..., max_batch, i) reports (the row would be +0; it keeps what it
   * held), for a caller that reads no such row (sgd-pulse): clearing them was most of the
   * backward pass's weight gradient at batch 1 (blank pixels). */
  int gw_fed_only;
  float *bn_xhat[MT_NN_MAX_LAYERS], *bn_istd[MT_NN_MAX_LAYERS];
  int bn_batch_stats[MT_NN_MAX_LAYERS];
  float *g_gamma[MT_NN_MAX_LAYERS], *g_beta[MT_NN_MAX_LAYERS];
  /* Shape the buffers were sized for; forward rejects a network of another shape. */
  uint32_t n_layers;
  uint32_t sizes[MT_NN_MAX_LAYERS + 1];
  mt_layer_spec spec[MT_NN_MAX_LAYERS];
} mt_mlp_work_t;
/* 0, or -1 (max_batch 0, bad network, allocation; wk is then left empty). */
int mt_mlp_work_init(mt_mlp_work_t *wk, const mt_mlp_t *m, uint32_t max_batch);
/* Frees and empties wk; safe on a zeroed or already freed workspace. */
void mt_mlp_work_free(mt_mlp_work_t *wk);

/* The matrix product of one layer: out[batch x cols] = in[batch x rows] * W_l
 * (no bias). A device backend implements it; it returns 0 or an error code,
 * which mt_mlp_forward passes through. For an fc layer in is wk->act[layer]
 * (the network input for layer 0, non-negative ReLU outputs after), out is
 * wk->act[layer + 1]; for a conv layer in is the im2col patches wk->cols[layer]
 * and batch is the number of patches (examples x mt_mlp_positions). */
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
/* After mt_mlp_backward of `batch` examples (or of fewer: the rows of wk->act past them hold
 * earlier inputs, which only make the answer 0 more often): 1 if input i of fully connected
 * layer l was 0 in every one of them, so that row i of wk->gw[l] is exactly +0 in every column
 * (a zero input's terms are skipped, not multiplied, whatever the deltas); else 0, and 0 for a
 * conv layer (backward has overwritten its patches). Lets a caller skip reading the row; a
 * row can be zero for other reasons too. */
int mt_mlp_grad_row_unfed(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t l, uint32_t batch,
                          uint32_t i);
/* Plain SGD step: w -= lr * gw, b -= lr * gb (and gamma, beta with BatchNorm). */
void mt_mlp_sgd(mt_mlp_t *m, const mt_mlp_work_t *wk, float lr);
/* The BatchNorm part of it only: gamma -= lr * g_gamma, beta -= lr * g_beta (nothing without). */
void mt_mlp_sgd_bn(mt_mlp_t *m, const mt_mlp_work_t *wk, float lr);
/* Argmax of the cached logits of each example (first maximum on ties;
 * classes beyond 256 do not fit a uint8_t and are truncated). */
void mt_mlp_predict(const mt_mlp_t *m, const mt_mlp_work_t *wk, uint32_t batch, uint8_t *pred);

#endif
