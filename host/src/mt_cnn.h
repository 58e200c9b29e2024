/* Convolution kernels of the float network (internal to mt_nn.c; the layer
 * spec and the grammar are in mt_nn.h and docs/algorithms.md). Batches are
 * HWC maps, one example after the other. */
#ifndef MT_CNN_H
#define MT_CNN_H

#include <stdint.h>

#include "mt_nn.h"

/* Output map of a conv layer before / after pooling. */
uint32_t mt_conv_out_h(const mt_layer_spec *s);
uint32_t mt_conv_out_w(const mt_layer_spec *s);
uint32_t mt_conv_pool_h(const mt_layer_spec *s);
uint32_t mt_conv_pool_w(const mt_layer_spec *s);

/* cols[(b*P + p) x k*k*in_c] = the k x k x in_c patch of example b at output
 * position p (p = oy*out_w + ox), from in (batch x in_h*in_w*in_c). */
void mt_im2col(const mt_layer_spec *s, const float *in, uint32_t batch, float *cols);
/* Adjoint of mt_im2col: d_in (batch x in_h*in_w*in_c) = sum of the patch
 * gradients dcols over the positions each input element appears in. */
void mt_col2im(const mt_layer_spec *s, const float *dcols, uint32_t batch, float *d_in);

/* out (batch x pooled map) = pool of z (batch*P x out_c, the layer's ReLU
 * output). Max pooling keeps the first maximum of a window in row-major
 * window order; no pooling copies. */
void mt_pool_forward(const mt_layer_spec *s, const float *z, uint32_t batch, float *out);
/* dz (batch*P x out_c) = gradient of z from d_out (gradient of the pooled
 * output), masked by the ReLU derivative (z > 0). */
void mt_pool_backward(const mt_layer_spec *s, const float *z, const float *d_out, uint32_t batch,
                      float *dz);

#endif
