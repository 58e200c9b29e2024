/* Bit-exact test of rtl/mt_draw_lanes.sv (Verilated, sim/mt_draw_lanes_tb.cpp) against
 * mt_lanes_seed, mt_xoshiro_next and mt_gauss_from_u32 in hls/mt_rng.{c,h}. A C copy of every
 * lane (the state mt_xoshiro_t holds after the draws the test consumed) predicts, every
 * cycle: state_o of every lane, the next two uniforms and Gaussians of every available lane,
 * and avail_o itself (low from a seed or load until the documented cycle, then high for good
 * as long as no lane takes more than 2 per cycle). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "mt_rng.h"
#include "mt_rtl_tb.h"

/* docs/rtl.md, "mt_draw_lanes": seed_i in cycle 0 loads lane l at the edge ending cycle
 * MT_SEED_LOAD_AT(l) = 2*K*(l+1) + 4 (mt_lanes_seed, K = MT_SM_CYCLES; sim/mt_rtl_tb.h):
 * state_o from the next cycle, available 9 cycles after the load as for load_i; load_i in
 * cycle 0 shows the state from cycle 1 and makes every lane available from cycle 9. */
#define LOAD_AVAIL_AT 9u
#define SEED_STATE_AT(l) (MT_SEED_LOAD_AT(l) + 1u)
#define SEED_AVAIL_AT(l) (MT_SEED_LOAD_AT(l) + LOAD_AVAIL_AT)
#define ALL_LANES ((uint32_t)((1ull << MT_LANES) - 1u))
#define TAKE_ALL_2 0xAAAAAAAAu /* 2 draws from every lane */

/* The C side: per lane the committed state (cur), the one state_o shows before the switch
 * of a seeding (old), and the cycles from which state_o = cur and avail_o[l] = 1. */
typedef struct {
  mt_xoshiro_t cur[MT_LANES];
  mt_xoshiro_t old[MT_LANES];
  int old_known[MT_LANES]; /* 0 after reset: unseeded registers */
  uint64_t switch_at[MT_LANES];
  uint64_t avail_at[MT_LANES];
  uint64_t cyc; /* the cycle being driven */
  uint64_t draws; /* draws consumed and checked */
} ref_t;

static tb_draw_t *g_tb;
static ref_t g_ref;
static mt_xoshiro_t g_pat = {{0x31415926u, 0x27182818u, 0x16180339u, 0x14142135u}};

static uint32_t rnd(void) { return mt_xoshiro_next(&g_pat); }

static const mt_xoshiro_t *shown_state(const ref_t *r, unsigned l) {
  return r->cyc >= r->switch_at[l] ? &r->cur[l] : (r->old_known[l] ? &r->old[l] : NULL);
}

static void ref_seed(ref_t *r, uint64_t seed, int after_reset) {
  mt_xoshiro_t n[MT_LANES];
  unsigned l;
  mt_lanes_seed(n, seed);
  for (l = 0; l < MT_LANES; l++) {
    const mt_xoshiro_t *s = shown_state(r, l);
    r->old_known[l] = !after_reset && s != NULL;
    if (r->old_known[l]) r->old[l] = *s;
    r->cur[l] = n[l];
    r->switch_at[l] = r->cyc + SEED_STATE_AT(l);
    r->avail_at[l] = r->cyc + SEED_AVAIL_AT(l);
  }
}

static void ref_load(ref_t *r, const uint32_t *words) {
  unsigned l;
  for (l = 0; l < MT_LANES; l++) {
    memcpy(r->cur[l].s, &words[4 * l], sizeof r->cur[l].s);
    r->switch_at[l] = r->cyc + 1u;
    r->avail_at[l] = r->cyc + LOAD_AVAIL_AT;
  }
}

/* Checks the outputs of the current cycle against the C lanes; returns avail_o. */
static uint32_t check_cycle(void) {
  uint32_t u[2 * MT_LANES], st[4 * MT_LANES];
  int16_t z[2 * MT_LANES];
  uint32_t avail = tb_draw_peek(g_tb, u, z, st);
  uint32_t want = 0;
  unsigned l;
  for (l = 0; l < MT_LANES; l++) {
    const mt_xoshiro_t *s = shown_state(&g_ref, l);
    if (g_ref.cyc >= g_ref.avail_at[l]) want |= 1u << l;
    if (s && memcmp(&st[4 * l], s->s, sizeof s->s) != 0) {
      print_message("cycle %llu lane %u: state rtl {%08x %08x %08x %08x} C {%08x %08x %08x %08x}\n",
                    (unsigned long long)g_ref.cyc, l, st[4 * l], st[4 * l + 1], st[4 * l + 2],
                    st[4 * l + 3], s->s[0], s->s[1], s->s[2], s->s[3]);
      fail();
    }
    if (avail >> l & 1u) {
      mt_xoshiro_t c = g_ref.cur[l];
      uint32_t u0 = mt_xoshiro_next(&c), u1 = mt_xoshiro_next(&c);
      if (u[2 * l] != u0 || u[2 * l + 1] != u1 || z[2 * l] != mt_gauss_from_u32(u0) ||
          z[2 * l + 1] != mt_gauss_from_u32(u1)) {
        print_message("cycle %llu lane %u: rtl u %08x %08x z %d %d, C u %08x %08x z %d %d\n",
                      (unsigned long long)g_ref.cyc, l, u[2 * l], u[2 * l + 1], z[2 * l],
                      z[2 * l + 1], u0, u1, mt_gauss_from_u32(u0), mt_gauss_from_u32(u1));
        fail();
      }
    }
  }
  if (avail != want) {
    print_message("cycle %llu: avail rtl %04x expected %04x\n", (unsigned long long)g_ref.cyc,
                  avail, want);
    fail();
  }
  return avail;
}

/* One checked cycle: take (2 bits per lane; lanes not available are passed anyway and must
 * be ignored), then a seed or a load (load_state != NULL) at the same edge. */
static void step(uint32_t take, int seed, uint64_t seed_val, const uint32_t *load_state) {
  uint32_t avail = check_cycle();
  unsigned l;
  for (l = 0; l < MT_LANES; l++) {
    unsigned n = take >> (2 * l) & 3u;
    if (n == 3u) n = 2u;
    if (!(avail >> l & 1u)) continue;
    g_ref.draws += n;
    for (; n > 0; n--) (void)mt_xoshiro_next(&g_ref.cur[l]);
  }
  if (seed) {
    ref_seed(&g_ref, seed_val, 0);
  } else if (load_state) {
    ref_load(&g_ref, load_state);
  }
  assert_int_equal(tb_draw_cycle(g_tb, seed, seed_val, load_state, take), avail);
  g_ref.cyc++;
}

static void run(unsigned cycles, uint32_t take) {
  while (cycles-- > 0) step(take, 0, 0, NULL);
}

static void reset_both(void) {
  tb_draw_reset(g_tb); /* the reset cycle is cycle 0 of seed 0 */
  ref_seed(&g_ref, 0, 1);
  g_ref.cyc++;
}

static int setup(void **state) {
  (void)state;
  g_tb = tb_draw_open();
  if (!g_tb) return -1;
  memset(&g_ref, 0, sizeof g_ref);
  ref_seed(&g_ref, 0, 1);
  g_ref.cyc = 1;
  return 0;
}

static int teardown(void **state) {
  (void)state;
  tb_draw_close(g_tb);
  return 0;
}

static void random_states(uint32_t *w) {
  unsigned i;
  for (i = 0; i < 4u * MT_LANES; i++) w[i] = rnd();
}

static uint32_t random_take(void) {
  /* per lane 0, 1, 2 with probabilities 1/4, 1/4, 1/2 (3 never) */
  uint32_t r = rnd(), t = 0;
  unsigned l;
  for (l = 0; l < MT_LANES; l++) {
    unsigned b = r >> (2 * l) & 3u;
    t |= (b == 0u ? 0u : b == 1u ? 1u : 2u) << (2 * l);
  }
  return t;
}

static void lane_count(void **state) {
  (void)state;
  assert_int_equal(tb_draw_count(g_tb), MT_LANES);
}

static void power_on_seed_is_zero(void **state) {
  /* From the reset of setup(): every lane's state, avail timeline and first draws. */
  (void)state;
  run(SEED_AVAIL_AT(MT_LANES - 1u) + 4u, 0);
  assert_int_equal(check_cycle(), ALL_LANES);
  reset_both();
  run(SEED_AVAIL_AT(MT_LANES - 1u) + 4u, TAKE_ALL_2);
}

static void seed_timeline(void **state) {
  /* Exact cycles of state_o and avail_o after seed_i, with no takes, then with 2 taken from
   * every lane every cycle (ignored until a lane is available, then sustained from the first
   * pair). */
  static const uint64_t seeds[] = {0u, 1u, 1234567u, UINT64_MAX, 0x5EED5EED00000001ull};
  size_t k;
  (void)state;
  for (k = 0; k < sizeof seeds / sizeof seeds[0]; k++) {
    step(0, 1, seeds[k], NULL);
    run(SEED_AVAIL_AT(MT_LANES - 1u) + 3u, k % 2u ? TAKE_ALL_2 : 0u);
  }
  {
    /* docs/protocol.md, "Seeding: splitmix64": lane 0 of seed 0 */
    static const uint32_t s0_l0[4] = {0x7B1DCDAFu, 0xE220A839u, 0xA1B965F4u, 0x6E789E6Au};
    uint32_t st[4 * MT_LANES];
    step(0, 1, 0, NULL);
    run(SEED_AVAIL_AT(MT_LANES - 1u), 0);
    (void)tb_draw_peek(g_tb, NULL, NULL, st);
    assert_memory_equal(st, s0_l0, sizeof s0_l0);
  }
}

static void load_timeline(void **state) {
  uint32_t w[4 * MT_LANES];
  unsigned k;
  (void)state;
  for (k = 0; k < 4u; k++) {
    random_states(w);
    step(k % 2u ? TAKE_ALL_2 : 0u, 0, 0, w);
    run(LOAD_AVAIL_AT + 3u, k >= 2u ? TAKE_ALL_2 : random_take());
  }
}

static void load_stops_seeding(void **state) {
  /* A load k cycles into a seeding wins for every lane, whatever k, up to the cycle where
   * the stopped seeding would have loaded its last lane; a seed in the same cycle as a load
   * wins over it. */
  const unsigned end = SEED_STATE_AT(MT_LANES - 1u);
  uint32_t w[4 * MT_LANES];
  unsigned k;
  (void)state;
  for (k = 0; k <= SEED_AVAIL_AT(MT_LANES - 1u) + 1u; k++) {
    step(0, 1, 0xAAAAu + k, NULL);
    run(k, random_take());
    random_states(w);
    step(random_take(), 0, 0, w);
    run((k < end ? end - k : 0u) + LOAD_AVAIL_AT, random_take());
  }
  random_states(w);
  step(0, 1, 77u, w);
  run(SEED_AVAIL_AT(MT_LANES - 1u) + 2u, random_take());
}

static void random_takes_seeds_loads(void **state) {
  /* 100 000 cycles of random takes (0/1/2 per lane), with a seed or a load every ~2000
   * cycles on average; every output checked every cycle. */
  uint32_t w[4 * MT_LANES];
  unsigned i, seeds = 0, loads = 0;
  uint64_t d0 = g_ref.draws;
  (void)state;
  step(0, 1, 0x0123456789ABCDEFull, NULL);
  for (i = 0; i < 100000u; i++) {
    uint32_t r = rnd();
    uint32_t take = random_take();
    if (r % 1024u == 0u) {
      /* a burst of idle or full-rate cycles */
      take = (r >> 10) & 1u ? TAKE_ALL_2 : 0u;
    }
    if (r % 4096u == 1u) {
      step(take, 1, ((uint64_t)rnd() << 32) | rnd(), NULL);
      seeds++;
    } else if (r % 4096u == 2u) {
      random_states(w);
      step(take, 0, 0, w);
      loads++;
    } else {
      step(take, 0, 0, NULL);
    }
  }
  print_message("# %u seeds, %u loads, %llu draws compared\n", seeds, loads,
                (unsigned long long)(g_ref.draws - d0));
  assert_true(seeds > 5u && loads > 5u);
}

static void sustained_two_per_cycle(void **state) {
  /* 2 draws from every lane every cycle for 10^5 cycles: avail_o never drops. */
  unsigned i;
  (void)state;
  step(0, 1, 0xFEEDFACEu, NULL);
  run(SEED_AVAIL_AT(MT_LANES - 1u), 0);
  for (i = 0; i < 100000u; i++) {
    assert_int_equal(check_cycle(), ALL_LANES);
    step(TAKE_ALL_2, 0, 0, NULL);
  }
}

int main(void) {
  const struct CMUnitTest tests[] = {
      cmocka_unit_test(lane_count),
      cmocka_unit_test(power_on_seed_is_zero),
      cmocka_unit_test(seed_timeline),
      cmocka_unit_test(load_timeline),
      cmocka_unit_test(load_stops_seeding),
      cmocka_unit_test(random_takes_seeds_loads),
      cmocka_unit_test(sustained_two_per_cycle),
  };
  cmocka_set_message_output(CM_OUTPUT_TAP);
  return cmocka_run_group_tests_name("rtl_draw_lanes", tests, setup, teardown);
}
