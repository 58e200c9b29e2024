/* Adam (host/src/mt_optim.c): the step directions of a known gradient sequence against
 * the closed form in double, bias correction at the first step, in-place use, and the
 * hyper-parameters taken as given. */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cmocka.h>

#include "mt_optim.h"

/* m_t = (1-b1) sum_k b1^(t-k) g_k, v_t likewise with b2 and g_k^2; the direction is
 * m_t/(1-b1^t) / (sqrt(v_t/(1-b2^t)) + eps). */
static double closed_form(const double *g, int t, double b1, double b2, double eps) {
  double m = 0, v = 0;
  for (int k = 1; k <= t; k++) {
    m += (1 - b1) * pow(b1, t - k) * g[k - 1];
    v += (1 - b2) * pow(b2, t - k) * g[k - 1] * g[k - 1];
  }
  return m / (1 - pow(b1, t)) / (sqrt(v / (1 - pow(b2, t))) + eps);
}

static void check_sequence(float b1, float b2, float eps) {
  enum { T = 40, N = 3 };
  /* three values with different gradient histories: a sign change, a decay to tiny
   * gradients (eps matters), and a spike */
  double g[N][T];
  for (int t = 0; t < T; t++) {
    g[0][t] = t < 10 ? 0.5 : -0.2 + 0.01 * t;
    g[1][t] = 1e-3 * pow(0.5, t);
    g[2][t] = t == 20 ? 5.0 : 0.1;
  }
  size_t n[2] = {N, 0}; /* an empty slot beside the used one */
  mt_adam_t a;
  assert_int_equal(mt_adam_init(&a, n, 2, b1, b2, eps), 0);
  for (int t = 1; t <= T; t++) {
    float gf[N], d[N];
    for (int k = 0; k < N; k++) gf[k] = (float)g[k][t - 1];
    mt_adam_begin_step(&a);
    assert_int_equal(a.steps, (uint64_t)t);
    mt_adam_dir(&a, 0, gf, d);
    for (int k = 0; k < N; k++) {
      double gk[T];
      for (int s = 0; s < t; s++) gk[s] = (float)g[k][s]; /* the float inputs the unit saw */
      double want = closed_form(gk, t, b1, b2, eps);
      if (fabs(d[k] - want) > 1e-5 * fabs(want) + 1e-6)
        fail_msg("step %d value %d: %.9g, closed form %.9g", t, k, (double)d[k], want);
    }
  }
  mt_adam_free(&a);
}

static void directions_match_the_closed_form(void **state) {
  (void)state;
  check_sequence(MT_ADAM_BETA1, MT_ADAM_BETA2, MT_ADAM_EPS);
  check_sequence(0.5f, 0.9f, 1e-3f); /* the options' values are the ones used */
}

/* Step 1: m_hat = g and v_hat = g^2, so the direction is g / (|g| + eps), about +-1 whatever
 * the gradient's size; in place (d == g) as the trainer uses it. */
static void first_step_is_the_sign(void **state) {
  (void)state;
  size_t n[1] = {4};
  mt_adam_t a;
  assert_int_equal(mt_adam_init(&a, n, 1, 0.9f, 0.999f, 1e-8f), 0);
  float g[4] = {1e-4f, -3.0f, 0.0f, 250.0f};
  mt_adam_begin_step(&a);
  mt_adam_dir(&a, 0, g, g);
  assert_float_equal(g[0], 1e-4 / (1e-4 + 1e-8), 1e-6);
  assert_float_equal(g[1], -1.0, 1e-6);
  assert_true(g[2] == 0.0f);
  assert_float_equal(g[3], 1.0, 1e-6);
  assert_float_equal(a.m[0][1], -0.3, 1e-6); /* the moments themselves */
  assert_float_equal(a.v[0][1], 0.009, 1e-6);
  mt_adam_free(&a);
  mt_adam_free(&a); /* safe twice */
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(directions_match_the_closed_form),
      cmocka_unit_test(first_step_is_the_sign),
  };
  return cmocka_run_group_tests(tests, NULL, NULL);
}
