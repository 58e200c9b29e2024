#!/usr/bin/env python3
"""Reference data for tests/host/test_devmodels.c: aihwkit's documented closed forms.

For each device class that memtile shares with aihwkit (ExpStepDevice, PowStepDevice,
PiecewiseStepDevice), this evaluates the update rule exactly as aihwkit's documentation
states it (aihwkit/simulator/configs/devices.py docstrings; no aihwkit import, so neither
this script nor the test needs aihwkit):

  ExpStep:   z = 2 a w / (b_max - b_min) + b,  y = 1 - A_d exp(d gamma_d z),
             w <- w + d dw_d max(y, 0) (1 + sigma xi)
  PowStep:   omega = (b_max - w) / (b_max - b_min),
             up: w <- w + dw_+ omega^gamma_+ (1 + sigma xi),
             down: w <- w - dw_- (1 - omega)^gamma_- (1 + sigma xi)
  Piecewise: w <- w + d dw_d interp(v_d, w) (1 + sigma xi), nodes evenly over [b_min, b_max]
  with dw_+ = dw_min (1 + up_down), dw_- = dw_min (1 - up_down), then clip to the bounds.

Weights are written as the fraction x = (w - b_min) / (b_max - b_min) of the range (the
memtile device's (g - g_min) / (g_max - g_min)); bounds are symmetric (b_min = -b_max, as
in aihwkit's defaults), so w / (b_max - b_min) = x - 1/2.

Output (JSON, committed as tests/host/data/aihwkit_reference.json): per case the memtile
preset "response" section, c2c sigma, and
  - "set_curve" / "rst_curve": noise-free x after k = 0..n pulses from x = 0 (SET) and from
    x = 1 (RESET);
  - "stats": at a few states x, the mean and standard deviation of one pulse's step
    (fractions of the range), i.e. dw_d y(x) and sigma dw_d y(x).

Run: python3 scripts/aihwkit_reference.py > tests/host/data/aihwkit_reference.json
"""
import json
import math
import sys

PULSES = 160
STATS_X = [0.1, 0.3, 0.5, 0.7, 0.9]
SIGMA = 0.3  # aihwkit's default dw_min_std (relative cycle-to-cycle noise)


def exp_step(p):
    def y(x, up):
        z = 2.0 * p["a"] * (x - 0.5) + p["b"]
        v = 1.0 - p["A_up"] * math.exp(p["gamma_up"] * z) if up else \
            1.0 - p["A_down"] * math.exp(-p["gamma_down"] * z)
        return max(v, 0.0)
    return y


def pow_step(p):
    gu = p["gamma"] * (1.0 + p.get("gamma_up_down", 0.0))
    gd = p["gamma"] * (1.0 - p.get("gamma_up_down", 0.0))

    def y(x, up):
        omega = 1.0 - x
        return omega ** gu if up else (1.0 - omega) ** gd
    return y


def piecewise(p):
    def interp(v, x):
        pos = x * (len(v) - 1)
        i = min(int(math.floor(pos)), len(v) - 2)
        q = pos - i
        return (1.0 - q) * v[i] + q * v[i + 1]

    def y(x, up):
        return interp(p["piecewise_up"] if up else p["piecewise_down"], x)
    return y


CASES = [
    # aihwkit ExpStepDevice's documented defaults for A, gamma, a, b.
    ("exp-step", exp_step, {"model": "exp-step", "dw_min": 0.01, "up_down": 0.0,
                            "A_up": 0.00081, "A_down": 0.36833, "gamma_up": 12.44625,
                            "gamma_down": 12.78785, "a": 0.244, "b": 0.2425}),
    ("pow-step", pow_step, {"model": "pow-step", "dw_min": 0.012, "up_down": 0.1,
                            "gamma": 2.0, "gamma_up_down": 0.2}),
    ("piecewise", piecewise, {"model": "piecewise", "dw_min": 0.01, "up_down": -0.05,
                              "piecewise_up": [1.5, 1.3, 1.15, 1.0, 0.9, 0.8, 0.65, 0.5, 0.3],
                              "piecewise_down": [0.2, 0.5, 0.7, 0.85, 1.0, 1.1, 1.2, 1.3, 1.4]}),
]


def curve(y, dw, up):
    x = 0.0 if up else 1.0
    out = [x]
    for _ in range(PULSES):
        x = x + dw * y(x, True) if up else x - dw * y(x, False)
        x = min(max(x, 0.0), 1.0)
        out.append(x)
    return out


def main():
    cases = []
    for name, make, resp in CASES:
        y = make(resp)
        dw_up = resp["dw_min"] * (1.0 + resp["up_down"])
        dw_dn = resp["dw_min"] * (1.0 - resp["up_down"])
        stats = []
        for x in STATS_X:
            mu, md = dw_up * y(x, True), dw_dn * y(x, False)
            stats.append({"x": x, "set_mean": mu, "set_std": SIGMA * mu,
                          "rst_mean": md, "rst_std": SIGMA * md})
        cases.append({"name": name, "response": resp, "c2c_relative": SIGMA,
                      "set_curve": curve(y, dw_up, True), "rst_curve": curve(y, dw_dn, False),
                      "stats": stats})
    json.dump({"source": "scripts/aihwkit_reference.py (aihwkit's documented closed forms)",
               "cases": cases}, sys.stdout, indent=1)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
