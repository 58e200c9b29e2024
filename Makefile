# memtile build. Outputs go to build/ (release objects in build/rel, the
# sanitizer build used by `make test` in build/san).
.DEFAULT_GOAL := all
.SUFFIXES:
.SECONDARY:

BUILD ?= build
CC ?= gcc
PYTHON ?= python3

WARN := -std=c11 -Wall -Wextra -Werror -Wno-unknown-pragmas
INC := -Ihls -Ihost/include -Ihost/src -Isim
DEFS := -DMT_SOURCE_DIR=\"$(CURDIR)\" -DMT_BUILD_DIR=\"$(abspath $(BUILD))\"
# The model is built from source where it runs, so it may use the host's
# vector units (integer results are the same on any target); ARCH= for a portable build.
ARCH ?= -march=native
REL_CFLAGS := -O2 -fvect-cost-model=dynamic $(ARCH) -g
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LIBS := -lcjson -lz -lm

HLS_SRC := $(wildcard hls/*.c)
# The verilator:// backend links the Verilated device (C++), so it is not part of the
# library; the tools link it explicitly (see "Whole device" below).
VL_BACKEND_SRC := host/src/mt_backend_verilator.c
HOST_SRC := $(filter-out $(VL_BACKEND_SRC),$(wildcard host/src/*.c))
LIB_SRC := $(HLS_SRC) $(HOST_SRC)
TEST_SRC := $(wildcard tests/hls/test_*.c tests/host/test_*.c)
TOOL_SRC := $(wildcard host/tools/*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)

REL_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
SAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/san/%)
TOOL_BIN := $(TOOL_SRC:host/tools/%.c=$(BUILD)/bin/%)
SAN_TOOL_BIN := $(TOOL_SRC:host/tools/%.c=$(BUILD)/san/bin/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/rel/%)

.PHONY: all deps deps-ok test test-run test-long run lint bench clean check-generated generate synth \
  bitstream

# RTL (docs/rtl.md): Verilator models of rtl/ (and sim/ test tops) in build/rtl/vl/<top>,
# each linked with its thin C++ harness (sim/<top>_tb.cpp), a C test (tests/rtl/test_*.c,
# test_X against top mt_X) and the C model hls/*.c as the reference. Not sanitized.
VERILATOR ?= verilator
YOSYS ?= yosys
RTL_BUILD := $(BUILD)/rtl
RTL_SV := $(wildcard rtl/*.sv)
RTL_DEPS := $(RTL_SV) $(wildcard rtl/*.vh sim/*.sv)
RTL_TEST_SRC := $(wildcard tests/rtl/test_*.c)
RTL_TEST_BIN := $(RTL_TEST_SRC:tests/rtl/%.c=$(RTL_BUILD)/tests/%)
RTL_HLS_OBJ := $(patsubst hls/%.c,$(RTL_BUILD)/obj/hls/%.o,$(wildcard hls/*.c))
VL_FLAGS := --cc --build -j 2 -O3 --x-assign fast --x-initial fast --no-timing --noassert \
  -Irtl -MAKEFLAGS OPT_FAST=-O2
VL_INC = $(shell $(VERILATOR) --getenv VERILATOR_ROOT)/include
VL_RT := $(addprefix $(RTL_BUILD)/vl/mt_xoshiro128pp/,verilated.o verilated_threads.o)
SYNTH_TOPS := mt_gauss_icdf mt_noise_lanes mt_draw_lane mt_ft601_bridge mt_async_fifo \
  mt_frame_engine
# Reference configuration (docs/rtl.md, "Synthesis"): the AC701 board's XC7A200T.
SYNTH_REF_TOPS := mt_eng_state mt_device
SYNTH_REF_FAMILY := xc7
SYNTH_REF_PARAMS := -set TILES 2 -set ROWS 128 -set COLS 128 -set LANES 16 -set CMD_WORDS 8192
# Whole-device simulation libraries, one per geometry "TILES ROWS COLS" (see below).
SIM_GEOM_ref := 16 128 128
SIM_GEOM_small := 4 32 32
SIM_LIB_REF := $(RTL_BUILD)/libmtsim_ref.a
SIM_LIB_SMALL := $(RTL_BUILD)/libmtsim_small.a
SIM_LIBS := -lstdc++ -lz -lm -pthread
EQ_TEST_BIN := $(RTL_BUILD)/tests/test_equiv
EQ_TRAIN_BIN := $(RTL_BUILD)/tests/test_train_equiv
# The tools link verilator:// (libmemtile itself does not: other programs report it "not part
# of this build").
TOOL_VL_REL := $(BUILD)/rel/$(VL_BACKEND_SRC:.c=.o) $(SIM_LIB_REF)
TOOL_VL_SAN := $(BUILD)/san/$(VL_BACKEND_SRC:.c=.o) $(SIM_LIB_REF)
TOOL_VL_LIBS := $(SIM_LIBS)
EQ_TESTS := $(EQ_TEST_BIN) $(EQ_TRAIN_BIN)
# Tests of scripts/ (TAP, like the C tests): the claims table and reproduce.sh --quick, the
# latter with the sanitizer build of memtile.
SCRIPT_TESTS := tests/scripts/test_claims_table.py tests/scripts/test_reproduce_quick.sh \
  tests/scripts/test_check_xdc_ports.py tests/scripts/test_bitstream_novivado.sh

all: $(BUILD)/libmtmodel.a $(TOOL_BIN)

# Installs the Debian packages the project needs (idempotent; sudo when not root).
deps:
	scripts/deps.sh

deps-ok:
	@scripts/deps.sh --check 2>/dev/null || scripts/deps.sh

$(BUILD)/rel/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_CFLAGS) $(INC) $(DEFS) -MMD -MP -c $< -o $@

$(BUILD)/san/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(SAN_CFLAGS) $(INC) $(DEFS) -MMD -MP -c $< -o $@

$(BUILD)/libmtmodel.a: $(REL_OBJ)
	@mkdir -p $(@D)
	rm -f $@ && ar rcs $@ $^

$(BUILD)/san/tests/%: $(BUILD)/san/tests/%.o $(SAN_OBJ)
	$(CC) $(SAN_CFLAGS) $^ -o $@ -lcmocka $(LIBS)

# Sanitized tools: the CLI tests run these. Tools also get the verilator:// backend and the
# Verilated device at the reference geometry (not sanitized: Verilator's C++ runtime).
$(BUILD)/san/bin/%: $(BUILD)/san/host/tools/%.o $(TOOL_VL_SAN) $(SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

$(BUILD)/bin/%: $(BUILD)/rel/host/tools/%.o $(TOOL_VL_REL) $(BUILD)/libmtmodel.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

$(BUILD)/rel/tests/bench/%: $(BUILD)/rel/tests/bench/%.o $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS)

# The RTL benchmark runs the device in Verilator through verilator://.
$(BUILD)/rel/tests/bench/bench_rtl: $(BUILD)/rel/tests/bench/bench_rtl.o $(TOOL_VL_REL) \
    $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

# Regenerates the files derived from docs/protocol.json and the Gaussian table.
generate:
	$(PYTHON) scripts/gen_protocol.py
	$(PYTHON) scripts/gen_gauss_table.py

check-generated:
	$(PYTHON) scripts/gen_protocol.py --check
	$(PYTHON) scripts/gen_gauss_table.py --check

# Verilator model of top module $* (rtl/$*.sv or sim/$*.sv); the stamp stands for the
# directory's V$*__ALL.a.
$(RTL_BUILD)/vl/%.stamp: $(RTL_DEPS)
	@mkdir -p $(RTL_BUILD)/vl
	$(VERILATOR) $(VL_FLAGS) --top-module $* --Mdir $(RTL_BUILD)/vl/$* \
	  $(firstword $(wildcard rtl/$*.sv sim/$*.sv)) >$(RTL_BUILD)/vl/$*.log 2>&1 \
	  || { cat $(RTL_BUILD)/vl/$*.log; exit 1; }
	@touch $@

# Verilator's runtime (VL_RT), built once by one model's makefile (all models share the
# options).
$(RTL_BUILD)/vl/runtime.stamp: $(RTL_BUILD)/vl/mt_xoshiro128pp.stamp
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_xoshiro128pp -f Vmt_xoshiro128pp.mk OPT_FAST=-O2 \
	  verilated.o verilated_threads.o
	@touch $@

$(RTL_BUILD)/sim/%_tb.o: sim/%_tb.cpp sim/mt_rtl_tb.h sim/mt_tb_clock.h $(RTL_BUILD)/vl/%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/$* -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -c $< -o $@

$(RTL_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g $(INC) $(DEFS) -MMD -MP -c $< -o $@

$(RTL_BUILD)/tests/test_%: $(RTL_BUILD)/obj/tests/rtl/test_%.o $(RTL_BUILD)/sim/mt_%_tb.o \
    $(RTL_HLS_OBJ) $(RTL_BUILD)/vl/runtime.stamp
	@mkdir -p $(@D)
	$(CXX) $(filter %.o,$^) $(RTL_BUILD)/vl/mt_$*/Vmt_$*__ALL.a $(VL_RT) -o $@ \
	  -lcmocka -lm -pthread

# The state engine's bench has its own C ABI header.
$(RTL_BUILD)/sim/mt_eng_state_tb.o: sim/mt_eng_tb.h
# Whole device (docs/rtl.md, "Simulation and the verilator:// backend"): rtl/mt_device
# Verilated with FST trace support (enabled at run time) for each geometry below, and packed
# with its runtime and the harness sim/mt_device_tb.cpp (C ABI sim/mt_sim.h) into
# build/rtl/libmtsim_<geometry>.a. "ref" is the geometry the host needs (128x128); "small"
# keeps the equivalence tests fast, against the C model built with the same ROWS/COLS.
sim_tiles = $(word 1,$(SIM_GEOM_$1))
sim_rows = $(word 2,$(SIM_GEOM_$1))
sim_cols = $(word 3,$(SIM_GEOM_$1))

$(RTL_BUILD)/vl/mt_device_%.stamp: $(RTL_DEPS)
	@mkdir -p $(RTL_BUILD)/vl
	$(VERILATOR) $(VL_FLAGS) --trace-fst -GTILES=$(call sim_tiles,$*) -GROWS=$(call sim_rows,$*) \
	  -GCOLS=$(call sim_cols,$*) --top-module mt_device --Mdir $(RTL_BUILD)/vl/mt_device_$* \
	  rtl/mt_device.sv >$(RTL_BUILD)/vl/mt_device_$*.log 2>&1 \
	  || { cat $(RTL_BUILD)/vl/mt_device_$*.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_device_$* -f Vmt_device.mk OPT_FAST=-O2 \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@touch $@

$(RTL_BUILD)/sim/mt_device_tb_%.o: sim/mt_device_tb.cpp sim/mt_sim.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/mt_device_%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/mt_device_$* \
	  -isystem $(VL_INC) -isystem $(VL_INC)/vltstd -DMT_SIM_TILES=$(call sim_tiles,$*) \
	  -DMT_SIM_ROWS=$(call sim_rows,$*) -DMT_SIM_COLS=$(call sim_cols,$*) -c $< -o $@

$(RTL_BUILD)/libmtsim_%.a: $(RTL_BUILD)/sim/mt_device_tb_%.o $(RTL_BUILD)/vl/mt_device_%.stamp
	rm -f $@
	d=$(RTL_BUILD)/vl/mt_device_$*; { echo "create $@"; echo "addlib $$d/Vmt_device__ALL.a"; \
	  for o in $< $$d/verilated.o $$d/verilated_threads.o $$d/verilated_fst_c.o; do \
	    echo "addmod $$o"; done; echo save; echo end; } | ar -M
	ranlib $@

# USB path (docs/rtl.md, "The USB path"): rtl/mt_usb_core (FT601 bridge, dual-clock FIFOs,
# frame engine, mt_device) Verilated per geometry as above and packed with the pin-level FT601
# harness sim/mt_usbsim_tb.cpp (C ABI sim/mt_usbsim.h) into build/rtl/libmtusbsim_<geometry>.a.
# Buffers as large as the protocol's largest command and response (MAX_PAYLOAD), and a short
# stalled-frame drop so that the tests see it.
USBSIM_PARAMS := -GCMD_WORDS=65536 -GBUF_AW=17 -GRSP_WORDS=131072 -GDROP_CYCLES=65536
USBSIM_LIB_SMALL := $(RTL_BUILD)/libmtusbsim_small.a

$(RTL_BUILD)/vl/mt_usb_core_%.stamp: $(RTL_DEPS)
	@mkdir -p $(RTL_BUILD)/vl
	$(VERILATOR) $(VL_FLAGS) --trace-fst -GTILES=$(call sim_tiles,$*) -GROWS=$(call sim_rows,$*) \
	  -GCOLS=$(call sim_cols,$*) $(USBSIM_PARAMS) --top-module mt_usb_core \
	  --Mdir $(RTL_BUILD)/vl/mt_usb_core_$* rtl/mt_usb_core.sv \
	  >$(RTL_BUILD)/vl/mt_usb_core_$*.log 2>&1 || { cat $(RTL_BUILD)/vl/mt_usb_core_$*.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_usb_core_$* -f Vmt_usb_core.mk OPT_FAST=-O2 \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@touch $@

$(RTL_BUILD)/sim/mt_usbsim_tb_%.o: sim/mt_usbsim_tb.cpp sim/mt_usbsim.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/mt_usb_core_%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/mt_usb_core_$* \
	  -isystem $(VL_INC) -isystem $(VL_INC)/vltstd -DMT_USBSIM_TILES=$(call sim_tiles,$*) \
	  -DMT_USBSIM_ROWS=$(call sim_rows,$*) -DMT_USBSIM_COLS=$(call sim_cols,$*) -c $< -o $@

$(RTL_BUILD)/libmtusbsim_%.a: $(RTL_BUILD)/sim/mt_usbsim_tb_%.o $(RTL_BUILD)/vl/mt_usb_core_%.stamp
	rm -f $@
	d=$(RTL_BUILD)/vl/mt_usb_core_$*; { echo "create $@"; echo "addlib $$d/Vmt_usb_core__ALL.a"; \
	  for o in $< $$d/verilated.o $$d/verilated_threads.o $$d/verilated_fst_c.o; do \
	    echo "addmod $$o"; done; echo save; echo end; } | ar -M
	ranlib $@

# The same harness around a bridge that breaks a 245 rule (sim/mt_usbsim_rxf_ignored.sv, built
# under the class name Vmt_usb_core): the bus model must report it.
$(RTL_BUILD)/vl/usbsim_rules.stamp: $(RTL_DEPS)
	@mkdir -p $(RTL_BUILD)/vl
	$(VERILATOR) $(VL_FLAGS) --trace-fst --prefix Vmt_usb_core --top-module mt_usbsim_rxf_ignored \
	  --Mdir $(RTL_BUILD)/vl/usbsim_rules sim/mt_usbsim_rxf_ignored.sv \
	  >$(RTL_BUILD)/vl/usbsim_rules.log 2>&1 || { cat $(RTL_BUILD)/vl/usbsim_rules.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/usbsim_rules -f Vmt_usb_core.mk OPT_FAST=-O2 \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@touch $@

$(RTL_BUILD)/sim/mt_usbsim_tb_rules.o: sim/mt_usbsim_tb.cpp sim/mt_usbsim.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/usbsim_rules.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/usbsim_rules \
	  -isystem $(VL_INC) -isystem $(VL_INC)/vltstd -DMT_USBSIM_TILES=0 -DMT_USBSIM_ROWS=0 \
	  -DMT_USBSIM_COLS=0 -c $< -o $@

$(RTL_BUILD)/tests/test_usbsim_rules: $(RTL_BUILD)/obj/tests/rtl/test_usbsim_rules.o \
    $(RTL_BUILD)/sim/mt_usbsim_tb_rules.o $(RTL_BUILD)/vl/usbsim_rules.stamp
	@mkdir -p $(@D)
	d=$(RTL_BUILD)/vl/usbsim_rules; $(CXX) $(filter %.o,$^) $$d/Vmt_usb_core__ALL.a \
	  $$d/verilated.o $$d/verilated_threads.o $$d/verilated_fst_c.o -o $@ -lcmocka -lz -pthread

# The C model at the small geometry (MT_ROWS/MT_COLS overridden), for the equivalence test.
EQ_SMALL_DEFS = -DMT_ROWS=$(call sim_rows,small)u -DMT_COLS=$(call sim_cols,small)u
$(RTL_BUILD)/obj-small/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g $(INC) $(DEFS) $(EQ_SMALL_DEFS) -MMD -MP -c $< -o $@

$(EQ_TEST_BIN): $(RTL_BUILD)/obj-small/tests/equiv/test_equiv.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj-small/%.o) $(RTL_BUILD)/obj-small/host/src/mt_preset.o \
    $(SIM_LIB_SMALL)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# Frames through the FT601 pins at the small geometry, against mt_kernel of the model.
$(RTL_BUILD)/tests/test_usbsim: $(RTL_BUILD)/obj-small/tests/rtl/test_usbsim.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj-small/%.o) $(RTL_BUILD)/obj-small/host/src/mt_preset.o \
    $(USBSIM_LIB_SMALL)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# memtile train on verilator:// and model:// must log the same epochs (runs the CLI).
$(EQ_TRAIN_BIN): $(RTL_BUILD)/obj/tests/equiv/test_train_equiv.o
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka

# The same test at the reference geometry (make test-long).
$(RTL_BUILD)/tests/test_equiv_ref: $(RTL_BUILD)/obj/tests/equiv/test_equiv.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj/%.o) $(RTL_BUILD)/obj/host/src/mt_preset.o $(SIM_LIB_REF)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# C tests under AddressSanitizer and UndefinedBehaviorSanitizer, and the RTL tests
# (bit-exact against the C reference); one summary line.
test: deps-ok
	@$(MAKE) --no-print-directory test-run

test-run: check-generated $(TEST_BIN) $(SAN_TOOL_BIN) $(RTL_TEST_BIN) $(EQ_TESTS)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/run-tests.sh $(TEST_BIN) $(RTL_TEST_BIN) $(EQ_TESTS) $(SCRIPT_TESTS)

# Many more random command streams than make test: several seeds at the small geometry
# with and without stalls on the streams, and one run at the reference geometry.
test-long: deps-ok
	@$(MAKE) --no-print-directory $(EQ_TEST_BIN) $(RTL_BUILD)/tests/test_equiv_ref
	@set -e; for s in 11 22 33 44; do \
	  echo "test_equiv seed $$s, 10000 commands"; \
	  MT_EQUIV_SEED=$$s MT_EQUIV_N=10000 $(EQ_TEST_BIN); \
	  echo "test_equiv seed $$s, 3000 commands, stalls 30%/30%"; \
	  MT_SIM_STALL=30,30,$$s MT_EQUIV_SEED=$$s MT_EQUIV_N=3000 $(EQ_TEST_BIN); \
	done
	@echo "test_equiv_ref (16 tiles of 128x128), seed 99, 1500 commands"
	MT_EQUIV_SEED=99 MT_EQUIV_N=1500 $(RTL_BUILD)/tests/test_equiv_ref

# Trains the default network (784-256-10, siamese, rram preset) on Fashion-MNIST.
run: deps-ok
	@$(MAKE) --no-print-directory $(TOOL_BIN)
	$(BUILD)/bin/memtile train --dataset fashion-mnist --epochs 3 --log $(BUILD)/run.jsonl

lint: deps-ok check-generated
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	  --suppress=missingIncludeSystem -Ihls -Ihost/src hls host
	@for f in $(wildcard rtl/*.v rtl/*.sv sim/*.sv); do \
	  echo "verilator --lint-only -Wall -Irtl $$f"; \
	  $(VERILATOR) --lint-only -Wall -Irtl --top-module $$(basename $${f%.*}) $$f || exit 1; \
	done
	@# Board tops, with lint-only models of the Xilinx primitives they instantiate.
	@for f in $(wildcard rtl/boards/*.sv); do \
	  echo "verilator --lint-only -Wall -Irtl -Isim/xilinx_stubs $$f"; \
	  $(VERILATOR) --lint-only -Wall -Irtl -Isim/xilinx_stubs --top-module $$(basename $${f%.*}) \
	    $$f || exit 1; \
	done
	$(PYTHON) scripts/check_xdc_ports.py constraints/ac701_umft601x.xdc rtl/boards/ac701_top.sv
	@# The board tops against Yosys' models of the real Xilinx primitives (port names).
	@for f in $(wildcard rtl/boards/*.sv); do \
	  echo "yosys: hierarchy -check -top $$(basename $${f%.*})"; \
	  $(YOSYS) -q -p "read_verilog -lib +/xilinx/cells_xtra.v; read_verilog -lib +/xilinx/cells_sim.v; \
	    read_verilog -sv -Irtl $(RTL_SV) $$f; hierarchy -check -top $$(basename $${f%.*})" \
	    || exit 1; \
	done
	@# The subset Yosys 0.23 parses too (research/fpga.md 3.6).
	$(YOSYS) -q -p "read_verilog -sv -Irtl $(RTL_SV); hierarchy -check"

# Yosys 0.23 resource estimates (not Vivado): the RTL blocks for UltraScale+ (SYNTH_TOPS),
# and the whole device plus the state engine in the reference configuration of the AC701
# board (constraints/, docs/rtl.md "Synthesis"; SYNTH_REF_*), one line each in
# build/synth/report.txt. The whole device takes many minutes: `make synth SYNTH_REF_TOPS=`
# skips it.
synth: deps-ok
	@mkdir -p $(BUILD)/synth
	@echo "Yosys 0.23 synth_xilinx -flatten -noiopad estimate, not Vivado" >$(BUILD)/synth/report.txt
	@run() { t=$$1; fam=$$2; tag=$$3; chp=$$4; \
	  echo "yosys: synth_xilinx -family $$fam -top $$t $$chp"; \
	  $(YOSYS) -q -l $(BUILD)/synth/$$tag.log -p "read_verilog -sv -Irtl $(RTL_SV); $$chp \
	    synth_xilinx -family $$fam -top $$t -flatten -noiopad; \
	    tee -q -o $(BUILD)/synth/$$tag.stat stat -tech xilinx" || exit 1; \
	  awk -v t="$$tag ($$fam)" '$$1 ~ /^LUT[1-6]$$/ {lut += $$2} $$1 ~ /^FD[RSCP]E$$/ {ff += $$2} \
	    $$1 ~ /^DSP48E[12]$$/ {dsp += $$2} $$1 ~ /^RAMB18/ {b18 += $$2} $$1 ~ /^RAMB36/ {b36 += $$2} \
	    $$1 ~ /^URAM/ {ur += $$2} $$1 ~ /^RAM(32|64|128|256)[MX]/ {lr += $$2} \
	    $$1 ~ /^CARRY/ {cy += $$2} $$1 ~ /^MUXF/ {mx += $$2} \
	    END {printf "%-24s LUT %6d  FF %6d  DSP %3d  BRAM %5.1f (RAMB36 %d, RAMB18 %d)  URAM %d  LUTRAM %d  CARRY %d  MUXF %d\n", \
	      t, lut, ff, dsp, b36 + b18 / 2, b36, b18, ur, lr, cy, mx}' \
	    $(BUILD)/synth/$$tag.stat >>$(BUILD)/synth/report.txt; }; \
	for t in $(SYNTH_TOPS); do run $$t xcup $$t "" || exit 1; done; \
	for t in $(SYNTH_REF_TOPS); do \
	  run $$t $(SYNTH_REF_FAMILY) $$t.ref "chparam $(SYNTH_REF_PARAMS) $$t;" || exit 1; done
	@echo "reference configuration ($(SYNTH_REF_FAMILY)): $(SYNTH_REF_PARAMS)" >>$(BUILD)/synth/report.txt
	@cat $(BUILD)/synth/report.txt

# The board's bitstream with Vivado (docs/boards.md); a clear error where Vivado is absent.
BOARD ?= ac701
bitstream:
	@scripts/bitstream.sh $(BOARD) $(abspath $(BUILD))/bitstream/$(BOARD)

bench: deps-ok
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
