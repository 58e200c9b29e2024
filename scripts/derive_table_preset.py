#!/usr/bin/env python3
"""Derives presets/reram-es-table.json: a pulse-response table with per-state spread.

Where the numbers come from, honestly: no raw measured pulse data is in this repository.
The table samples aihwkit's ReRamESPresetDevice, which aihwkit documents as a fit of its
ExpStepDevice to the measured ReRAM of Gong et al., Nat. Commun. 9, 2102 (2018); the
parameters below are that preset's (aihwkit simulator/presets/devices.py). So the table is
a *published fit to measurements*, re-expressed in the form a measured look-up table takes
(RRAMulator-style: mean step and its spread per conductance state), not measurements.

Per state x (fraction of the range, 17 states):
  mean step  = dw_d * y_d(x)   (ExpStep closed form, docs as in scripts/aihwkit_reference.py)
  spread     = dw_min_std * mean step   (aihwkit's relative cycle-to-cycle noise)
The device represents the spread as c2c.relative * mean step (device-model.md); aihwkit's
dw_min_std of 5.0 (500%) is above memtile's largest relative c2c (0.9999, Q0.16), so the
preset takes 1.0 and says so. aihwkit's write noise (75 x dw_min, applied to a hidden
weight) has no memtile counterpart and is left out.

Run: python3 scripts/derive_table_preset.py > presets/reram-es-table.json
"""
import json
import math
import sys

# aihwkit ReRamESPresetDevice (weights in [-1, 1]: a range of 2).
ES = {"dw_min": 0.00135, "up_down": 0.259359, "a": -0.5, "b": -0.5, "gamma_up": 5.0,
      "gamma_down": 5.0, "A_up": -1.18445, "A_down": -0.081404, "dw_min_std": 5.0,
      "w_range": 2.0}
STATES = 17
C2C_MAX = 0.9999  # largest c2c.relative a preset accepts (c2c_mul is Q0.16, below 1)


def y(x, up):
    z = 2.0 * ES["a"] * (x - 0.5) + ES["b"]
    v = 1.0 - ES["A_up"] * math.exp(ES["gamma_up"] * z) if up else \
        1.0 - ES["A_down"] * math.exp(-ES["gamma_down"] * z)
    return max(v, 0.0)


def main():
    dw = ES["dw_min"] / ES["w_range"]  # fraction of the range
    dw_up, dw_dn = dw * (1.0 + ES["up_down"]), dw * (1.0 - ES["up_down"])
    g = [k / (STATES - 1) for k in range(STATES)]
    dg_set = [round(dw_up * y(x, True), 7) for x in g]
    dg_rst = [round(dw_dn * y(x, False), 7) for x in g]
    spread = [round(ES["dw_min_std"] * d, 7) for d in dg_set]
    preset = {
        "name": "reram-es-table",
        "description": "Pulse-response table (17 states: mean SET/RESET step, spread relative "
                       "to the step) sampled from aihwkit's ReRamESPresetDevice, a fit to "
                       "measured ReRAM (Gong et al. 2018); RESET steps grow 12x up the range.",
        "device": {
            "g_min": 0.0, "g_max": 1.0, "endurance": 0,
            "d2d": {"g_min": 0.0, "g_max": 0.0, "step": 0.2, "a": 0.0},
            "c2c": {"relative": C2C_MAX, "absolute": 0.0},
            "stuck": {"low": 0.0, "high": 0.0},
        },
        "response": {"model": "table", "g": g, "dg_set": dg_set, "dg_rst": dg_rst},
        "levels": {"count": 16, "window": [0.05, 0.95], "sigma": 0.0},
        "read": {"sigma": 0.005, "mode": "per-column"},
        "sources": {
            "response": "scripts/derive_table_preset.py: aihwkit ReRamESPresetDevice (ExpStep "
                        "fit to Gong et al., Nat. Commun. 2018) sampled at 17 states; dw_min "
                        "0.00135 of a range of 2, up_down 0.259359, a = b = -0.5, gamma 5/5, "
                        "A_up -1.18445, A_down -0.081404. A fit to measurements, not raw data.",
            "device.c2c": "aihwkit ReRamESPresetDevice dw_min_std = 5.0 (spread 5x the mean "
                          "step: " + ", ".join(f"{s:g}" for s in spread[::4]) + " at g = 0, "
                          "0.25, .., 1 for SET); memtile's largest relative c2c is just below 1.0 (Q0.16), taken here",
            "device.d2d": "aihwkit ReRamESPresetDevice dw_min_dtod = 0.2 (relative step "
                          "spread); its w_min/w_max_dtod 0.3 are left out (ours: bounds fixed)",
            "device.g_min": "ours: the fit's weight range [-1, 1] mapped onto the whole g range",
            "levels": "ours: 16 levels inside the range, reachable open loop",
            "read.sigma": "ours: 0.5% of full scale",
        },
    }
    json.dump(preset, sys.stdout, indent=2)
    sys.stdout.write("\n")


if __name__ == "__main__":
    main()
