# memtile build. Outputs go to build/ (release objects in build/rel, the
# sanitizer build used by `make test` in build/san).
.DEFAULT_GOAL := all
.SUFFIXES:
.SECONDARY:

BUILD ?= build
CC ?= gcc
PYTHON ?= python3

WARN := -std=c11 -Wall -Wextra -Werror -Wno-unknown-pragmas
INC := -Ihls -Ihost/include -Ihost/src
DEFS := -DMT_SOURCE_DIR=\"$(CURDIR)\" -DMT_BUILD_DIR=\"$(abspath $(BUILD))\"
# The model is built from source where it runs, so it may use the host's
# vector units (integer results are the same on any target); ARCH= for a portable build.
ARCH ?= -march=native
REL_CFLAGS := -O2 -fvect-cost-model=dynamic $(ARCH) -g
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LIBS := -lcjson -lz -lm

HLS_SRC := $(wildcard hls/*.c)
HOST_SRC := $(wildcard host/src/*.c)
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

.PHONY: all deps deps-ok test test-run run lint bench clean check-generated generate synth

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
SYNTH_TOPS := mt_gauss_icdf mt_noise_lanes

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

# Sanitized tools: the CLI tests run these.
$(BUILD)/san/bin/%: $(BUILD)/san/host/tools/%.o $(SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $^ -o $@ $(LIBS)

$(BUILD)/bin/%: $(BUILD)/rel/host/tools/%.o $(BUILD)/libmtmodel.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS)

$(BUILD)/rel/tests/bench/%: $(BUILD)/rel/tests/bench/%.o $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS)

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
	$(CC) $(WARN) -O2 -g -Ihls -Isim -MMD -MP -c $< -o $@

$(RTL_BUILD)/tests/test_%: $(RTL_BUILD)/obj/tests/rtl/test_%.o $(RTL_BUILD)/sim/mt_%_tb.o \
    $(RTL_HLS_OBJ) $(RTL_BUILD)/vl/runtime.stamp
	@mkdir -p $(@D)
	$(CXX) $(filter %.o,$^) $(RTL_BUILD)/vl/mt_$*/Vmt_$*__ALL.a $(VL_RT) -o $@ \
	  -lcmocka -lm -pthread

# C tests under AddressSanitizer and UndefinedBehaviorSanitizer, and the RTL tests
# (bit-exact against the C reference); one summary line.
test: deps-ok
	@$(MAKE) --no-print-directory test-run

test-run: check-generated $(TEST_BIN) $(SAN_TOOL_BIN) $(RTL_TEST_BIN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/run-tests.sh $(TEST_BIN) $(RTL_TEST_BIN)

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
	@# The subset Yosys 0.23 parses too (research/fpga.md 3.6).
	$(YOSYS) -q -p "read_verilog -sv -Irtl $(RTL_SV); hierarchy -check"

# Yosys 0.23 resource estimate (not Vivado) of the RTL blocks for UltraScale+.
synth: deps-ok
	@mkdir -p $(BUILD)/synth
	@echo "Yosys 0.23 synth_xilinx -family xcup -flatten -noiopad estimate, not Vivado" \
	  >$(BUILD)/synth/report.txt
	@for t in $(SYNTH_TOPS); do \
	  echo "yosys: synth_xilinx -family xcup -top $$t"; \
	  $(YOSYS) -q -l $(BUILD)/synth/$$t.log -p "read_verilog -sv -Irtl $(RTL_SV); \
	    synth_xilinx -family xcup -top $$t -flatten -noiopad; \
	    tee -q -o $(BUILD)/synth/$$t.stat stat -tech xilinx" || exit 1; \
	  awk -v t=$$t '$$1 ~ /^LUT[1-6]$$/ {lut += $$2} $$1 ~ /^FD[RSCP]E$$/ {ff += $$2} \
	    $$1 ~ /^DSP48E2$$/ {dsp += $$2} $$1 ~ /^RAMB18/ {b18 += $$2} $$1 ~ /^RAMB36/ {b36 += $$2} \
	    $$1 ~ /^CARRY/ {cy += $$2} $$1 ~ /^MUXF/ {mx += $$2} \
	    END {printf "%-15s LUT %5d  FF %5d  DSP %3d  BRAM %4.1f (RAMB36 %d, RAMB18 %d)  CARRY %d  MUXF %d\n", \
	      t, lut, ff, dsp, b36 + b18 / 2, b36, b18, cy, mx}' \
	    $(BUILD)/synth/$$t.stat >>$(BUILD)/synth/report.txt; \
	done
	@cat $(BUILD)/synth/report.txt

bench: deps-ok
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
