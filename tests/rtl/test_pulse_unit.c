/* Bit-exact test of rtl/mt_pulse_unit.sv (Verilated, sim/mt_pulse_unit_tb.cpp) against
 * mt_cell_pulse in hls/mt_device.c: random device parameters, conductances, SET/RESET,
 * Gaussian draws and configurations, one pulse per cycle through the pipeline, plus
 * directed cases at the conductance bounds, for faulty devices and around the endurance
 * limit and the pulse-count saturation. The Gaussian is fed to both sides by forcing the
 * lane's next uniform, so any u (including the extreme tails) can be tested. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_device.h"
#include "mt_prog_tb.h"

#define MAX_LAT 10u

typedef struct {
  uint16_t g;
  mt_dev_t dev;
  int set;
  uint32_t u; /* the uniform whose Gaussian the pulse takes */
  uint16_t c2c_mul, c2c_add;
  uint32_t endurance;
  int resp_class;
  uint16_t resp_up[17], resp_dn[17];
} pcase_t;

static tb_pulse_t *g_tb;
static mt_xoshiro_t g_rng = {{0x9E3779B9u, 0x243F6A88u, 0xB7E15162u, 0x31415926u}};
static unsigned long g_checked;

static uint32_t rnd(void) { return mt_xoshiro_next(&g_rng); }

static int setup(void **state) {
  (void)state;
  g_tb = tb_pulse_open();
  return g_tb ? 0 : -1;
}

static int teardown(void **state) {
  (void)state;
  tb_pulse_close(g_tb);
  return 0;
}

static void pack_dev(const mt_dev_t *d, uint32_t w[5]) {
  w[0] = d->gmin | (uint32_t)d->gmax << 16;
  w[1] = d->step_set | (uint32_t)d->step_rst << 16;
  w[2] = d->a_set | (uint32_t)d->a_rst << 16;
  w[3] = d->fault | d->pulses << 8;
  w[4] = d->pulses >> 24;
}

/* A lane whose next output is u: with s0 = 0 the output is rotl(s3, 7). */
static mt_xoshiro_t lane_giving(uint32_t u) {
  mt_xoshiro_t r = {{0u, 1u, 0u, (u >> 7) | (u << 25)}};
  return r;
}

/* The C model's result for one case. */
static void reference(const pcase_t *c, uint16_t *g, uint32_t dev[5]) {
  static mt_regs_t regs;
  memset(&regs, 0, sizeof regs);
  regs.cfg[MT_CFG_C2C_MUL] = c->c2c_mul;
  regs.cfg[MT_CFG_C2C_ADD] = c->c2c_add;
  regs.cfg[MT_CFG_ENDURANCE] = c->endurance;
  regs.cfg[MT_CFG_RESP_CLASS] = (uint32_t)c->resp_class;
  for (unsigned k = 0; k < 17; k++) {
    regs.cfg[MT_CFG_RESP_UP_0 + k] = c->resp_up[k];
    regs.cfg[MT_CFG_RESP_DN_0 + k] = c->resp_dn[k];
  }
  mt_xoshiro_t r = lane_giving(c->u);
  mt_dev_t d = c->dev;
  *g = c->g;
  mt_cell_pulse(&regs, &r, &d, g, c->set);
  assert_int_equal(regs.counters[c->set ? MT_CNT_SET_PULSES : MT_CNT_RESET_PULSES], 1);
  pack_dev(&d, dev);
}

/* Runs n cases through the pipeline, one per cycle, and compares every result. */
static void run_cases(const pcase_t *cs, unsigned n) {
  const unsigned lat = tb_pulse_latency();
  assert_true(lat <= MAX_LAT);
  for (unsigned i = 0; i < n + lat; i++) {
    tb_pulse_in_t in;
    memset(&in, 0, sizeof in);
    if (i < n) {
      const pcase_t *c = &cs[i];
      in.valid = 1;
      in.set = c->set;
      in.g = c->g;
      pack_dev(&c->dev, in.dev);
      in.z = mt_gauss_from_u32(c->u);
      in.c2c_mul = c->c2c_mul;
      in.c2c_add = c->c2c_add;
      in.endurance = c->endurance;
      in.resp_class = c->resp_class;
      memcpy(in.resp_up, c->resp_up, sizeof in.resp_up);
      memcpy(in.resp_dn, c->resp_dn, sizeof in.resp_dn);
    }
    uint16_t g;
    uint32_t dev[5];
    int valid = tb_pulse_cycle(g_tb, &in, &g, dev);
    assert_int_equal(valid, i >= lat);
    if (i >= lat) {
      const pcase_t *c = &cs[i - lat];
      uint16_t eg;
      uint32_t edev[5];
      reference(c, &eg, edev);
      dev[4] &= 0xFFu;
      if (g != eg || memcmp(dev, edev, sizeof dev) != 0) {
        print_message("case %u: g %u gmin %u gmax %u step %u/%u a %u/%u fault %u pulses %u "
                      "set %d u %08x mul %u add %u end %u: rtl g %u fault %u, C g %u fault %u\n",
                      i - lat, c->g, c->dev.gmin, c->dev.gmax, c->dev.step_set, c->dev.step_rst,
                      c->dev.a_set, c->dev.a_rst, c->dev.fault, c->dev.pulses, c->set, c->u,
                      c->c2c_mul, c->c2c_add, c->endurance, g, dev[3] & 0xFFu, eg,
                      edev[3] & 0xFFu);
      }
      assert_int_equal(g, eg);
      assert_memory_equal(dev, edev, sizeof dev);
      g_checked++;
    }
  }
}

static const uint32_t special_u[] = {0u,          1u,          0x7FFFFFFFu, 0x80000000u,
                                     0x80000001u, 0xFFFFFFFFu, 0x40000000u, 0xC0000000u};

/* A random case; mode picks the emphasis. */
static pcase_t random_case(unsigned mode) {
  pcase_t c;
  memset(&c, 0, sizeof c);
  uint16_t a = (uint16_t)rnd(), b = (uint16_t)rnd();
  c.dev.gmin = a < b ? a : b;
  c.dev.gmax = a < b ? b : a;
  if (rnd() % 8u == 0u) c.dev.gmax = c.dev.gmin;
  uint32_t span = (uint32_t)c.dev.gmax - c.dev.gmin + 1u;
  c.g = (uint16_t)(c.dev.gmin + rnd() % span);
  switch (rnd() % 6u) {
    case 0: c.g = c.dev.gmin; break;
    case 1: c.g = c.dev.gmax; break;
    default: break;
  }
  c.dev.step_set = (uint16_t)(rnd() >> (rnd() % 17u));
  c.dev.step_rst = (uint16_t)(rnd() >> (rnd() % 17u));
  c.dev.a_set = (uint16_t)(rnd() >> (rnd() % 17u));
  c.dev.a_rst = (uint16_t)(rnd() >> (rnd() % 17u));
  c.set = (int)(rnd() & 1u);
  c.u = rnd() % 16u == 0u ? special_u[rnd() % 8u] : rnd();
  c.c2c_mul = (uint16_t)(rnd() >> (rnd() % 17u));
  c.c2c_add = (uint16_t)(rnd() >> (rnd() % 17u));
  c.dev.fault = MT_FAULT_NONE;
  c.dev.pulses = rnd() >> (rnd() % 32u);
  c.endurance = rnd() % 4u == 0u ? 0u : rnd() >> (rnd() % 32u);
  /* Half the cases use the piecewise response: random knots, some at the extremes (largest
   * rises and falls between neighbours). */
  c.resp_class = (int)(rnd() & 1u);
  for (unsigned k = 0; k < 17; k++) {
    uint32_t r = rnd();
    c.resp_up[k] = r % 8u == 0u ? (r & 8u ? 0xFFFFu : 0u) : (uint16_t)(rnd() >> (rnd() % 17u));
    r = rnd();
    c.resp_dn[k] = r % 8u == 0u ? (r & 8u ? 0xFFFFu : 0u) : (uint16_t)(rnd() >> (rnd() % 17u));
  }
  if (mode == 1) {
    /* Faults and wear: every fault value, pulse counts at the endurance limit and at the
     * saturation point. */
    c.dev.fault = (uint8_t)(rnd() % 4u);
    uint32_t e = rnd() >> (rnd() % 32u);
    switch (rnd() % 6u) {
      case 0: c.endurance = e; c.dev.pulses = e - 1u; break;
      case 1: c.endurance = e; c.dev.pulses = e; break;
      case 2: c.endurance = e; c.dev.pulses = e - 2u; break;
      case 3: c.dev.pulses = 0xFFFFFFFFu; c.endurance = rnd() % 2u ? 0xFFFFFFFFu : e; break;
      case 4: c.dev.pulses = 0xFFFFFFFEu; c.endurance = 0xFFFFFFFFu; break;
      default: c.endurance = rnd() % 3u; c.dev.pulses = rnd() % 3u; break;
    }
  } else if (mode == 2) {
    /* Bounds: full-scale steps and noise, so clamping at gmin/gmax happens often. */
    c.dev.step_set = (uint16_t)(0xFFFFu - rnd() % 64u);
    c.dev.step_rst = (uint16_t)(0xFFFFu - rnd() % 64u);
    c.dev.a_set = rnd() % 2u ? 0xFFFFu : 0u;
    c.dev.a_rst = rnd() % 2u ? 0xFFFFu : 0u;
    c.c2c_mul = rnd() % 2u ? 0xFFFFu : (uint16_t)rnd();
    c.c2c_add = rnd() % 2u ? 0xFFFFu : 0u;
    c.u = special_u[rnd() % 8u];
  } else if (mode == 3) {
    /* Outside a valid state: g beyond the device's bounds (the C arithmetic is defined for
     * it, and so is the unit's). */
    c.g = (uint16_t)rnd();
    c.dev.gmin = (uint16_t)rnd();
    c.dev.gmax = (uint16_t)rnd();
  }
  return c;
}

static void run_random(unsigned mode, unsigned n) {
  enum { BATCH = 4096 };
  static pcase_t cs[BATCH];
  for (unsigned done = 0; done < n; done += BATCH) {
    unsigned k = n - done < BATCH ? n - done : BATCH;
    for (unsigned i = 0; i < k; i++) cs[i] = random_case(mode);
    run_cases(cs, k);
  }
}

static void random_pulses(void **state) {
  (void)state;
  run_random(0, 100000u);
}

static void faults_and_endurance(void **state) {
  (void)state;
  run_random(1, 30000u);
}

static void bounds_and_tails(void **state) {
  (void)state;
  run_random(2, 20000u);
}

static void outside_valid_state(void **state) {
  (void)state;
  run_random(3, 10000u);
}

/* Directed: a pulse that wears the device out still moves g; the next does not. Bubbles
 * between pulses keep the datapath values (valid_o low, nothing asserted then). */
static void wear_out_sequence(void **state) {
  (void)state;
  pcase_t c;
  memset(&c, 0, sizeof c);
  c.dev.gmin = 1000;
  c.dev.gmax = 60000;
  c.dev.step_set = 500;
  c.dev.step_rst = 400;
  c.dev.a_set = 0x8000;
  c.dev.a_rst = 0x4000;
  c.dev.pulses = 8;
  c.g = 20000;
  c.set = 1;
  c.u = 0x12345678u;
  c.c2c_mul = 3000;
  c.c2c_add = 20;
  c.endurance = 10;
  for (unsigned p = 0; p < 4; p++) {
    run_cases(&c, 1);
    uint16_t g;
    uint32_t dev[5];
    reference(&c, &g, dev);
    if (p == 0) assert_int_not_equal(g, c.g);
    if (p == 1) {
      assert_int_not_equal(g, c.g); /* the pulse that reaches the endurance still acts */
      assert_int_equal(dev[3] & 0xFFu, MT_FAULT_WORN);
    }
    if (p >= 2) assert_int_equal(g, c.g);
    c.g = g;
    c.dev.fault = (uint8_t)(dev[3] & 0xFFu);
    c.dev.pulses = (dev[3] >> 8) | dev[4] << 24;
    c.u = c.u * 2654435761u + 1u;
  }
}

static void enough_cases(void **state) {
  (void)state;
  assert_true(g_checked >= 160000u);
  print_message("%lu pulses compared\n", g_checked);
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(random_pulses),
      cmocka_unit_test(faults_and_endurance),
      cmocka_unit_test(bounds_and_tails),
      cmocka_unit_test(outside_valid_state),
      cmocka_unit_test(wear_out_sequence),
      cmocka_unit_test(enough_cases),
  };
  return cmocka_run_group_tests(tests, setup, teardown);
}
