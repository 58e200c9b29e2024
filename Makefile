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

.PHONY: all deps deps-ok test test-run run lint bench clean check-generated generate

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

# C tests under AddressSanitizer and UndefinedBehaviorSanitizer; one summary line.
test: deps-ok
	@$(MAKE) --no-print-directory test-run

test-run: check-generated $(TEST_BIN) $(SAN_TOOL_BIN)
	ASAN_OPTIONS=detect_leaks=1:abort_on_error=0 UBSAN_OPTIONS=print_stacktrace=1 \
	  scripts/run-tests.sh $(TEST_BIN)

# Trains the default network (784-256-10, siamese, rram preset) on Fashion-MNIST.
run: deps-ok
	@$(MAKE) --no-print-directory $(TOOL_BIN)
	$(BUILD)/bin/memtile train --dataset fashion-mnist --epochs 3 --log $(BUILD)/run.jsonl

lint: deps-ok check-generated
	cppcheck --quiet --error-exitcode=1 --enable=warning,portability --std=c11 \
	  --suppress=missingIncludeSystem -Ihls -Ihost/src hls host
	@if ls rtl/*.v rtl/*.sv >/dev/null 2>&1; then \
	  verilator --lint-only -Wall -Irtl rtl/*.v rtl/*.sv; \
	else echo "lint: no RTL yet"; fi

bench: deps-ok
	@$(MAKE) --no-print-directory $(BENCH_BIN)
	@for b in $(BENCH_BIN); do $$b || exit 1; done

clean:
	rm -rf $(BUILD)

-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)
