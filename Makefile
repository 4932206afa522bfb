# GNU make. `make` builds build/sfu; `make run` and `make test` first install
# whatever Debian packages are missing (scripts/install-deps.sh).

CC      ?= cc
PKGS    := nice libsrtp2 openssl libmicrohttpd jansson glib-2.0 hiredis
BUILD   ?= build
OPT     ?= -O2
SANITIZE ?=
# `make run` and `make test` build with one job per core unless told -jN.
JOBS    ?= $(shell nproc 2>/dev/null || echo 2)

WARN    := -Wall -Wextra -Werror -Wshadow -Wpointer-arith -Wstrict-prototypes
BASE_CFLAGS := -std=c17 -D_GNU_SOURCE -I. $(OPT) -g $(WARN) $(SANITIZE)
# The core sees no third-party header: it is compiled without pkg-config flags.
CORE_CFLAGS := $(BASE_CFLAGS)
PKG_CFLAGS = $(shell pkg-config --cflags $(PKGS) 2>/dev/null)
PKG_LIBS   = $(shell pkg-config --libs $(PKGS) 2>/dev/null)
LIBS_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS)
LDLIBS  = $(PKG_LIBS) -lpthread -lm

# The version, and the commit the build comes from: the short hash when the
# tree is a git checkout, else "unknown". No date or host goes in, so the
# same tree builds the same binary.
SFU_VERSION := 0.2.0
SFU_COMMIT := $(or $(shell test -e .git && git rev-parse --short HEAD 2>/dev/null),unknown)

CORE_SRC   := $(wildcard sfu/core/*.c)
CRYPTO_SRC := $(wildcard sfu/crypto/*.c)
NET_SRC    := $(wildcard sfu/net/*.c)
SIG_SRC    := $(filter-out signaling/main.c,$(wildcard signaling/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))
CORE_OBJ   := $(call obj,$(CORE_SRC))
CRYPTO_OBJ := $(call obj,$(CRYPTO_SRC))
NET_OBJ    := $(call obj,$(NET_SRC))
SIG_OBJ    := $(call obj,$(SIG_SRC))
ALL_OBJ    := $(SIG_OBJ) $(NET_OBJ) $(CRYPTO_OBJ) $(CORE_OBJ)

UNIT_SRC   := $(filter-out tests/unit/test_main.c,$(wildcard tests/unit/test_*.c))
UNIT_BIN   := $(patsubst tests/unit/%.c,$(BUILD)/tests/%,$(UNIT_SRC))
FUZZ_SRC   := $(wildcard tests/fuzz/fuzz_*.c)
FUZZ_REPLAY := $(patsubst tests/fuzz/%.c,$(BUILD)/fuzz-replay/%,$(FUZZ_SRC))

.PHONY: all run test clean deps asan fuzz fuzz-coverage check-layers unit-tests FORCE
.DEFAULT_GOAL := all

all: $(BUILD)/sfu

deps:
	@./scripts/install-deps.sh

# V=1 shows the commands.
Q := $(if $(V),,@)

$(BUILD)/obj/sfu/core/%.o: sfu/core/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(CORE_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(LIBS_CFLAGS) -MMD -MP -c $< -o $@

# Rewritten only when its text changes, so that only version.o rebuilds.
$(BUILD)/gen/version_gen.h: FORCE
	@mkdir -p $(dir $@)
	@printf '#define SFU_VERSION "%s"\n#define SFU_COMMIT "%s"\n' '$(SFU_VERSION)' '$(SFU_COMMIT)' >$@.tmp
	@if cmp -s $@.tmp $@; then rm -f $@.tmp; else mv $@.tmp $@; fi
$(BUILD)/obj/signaling/version.o: $(BUILD)/gen/version_gen.h
$(BUILD)/obj/signaling/version.o: LIBS_CFLAGS += -I$(BUILD)/gen
FORCE:

$(BUILD)/libsfu.a: $(ALL_OBJ)
	@rm -f $@
	$(Q)ar rcs $@ $^

$(BUILD)/sfu: $(BUILD)/obj/signaling/main.o $(BUILD)/libsfu.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/tests/%: tests/unit/%.c tests/unit/test_main.c tests/test.h $(BUILD)/libsfu.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LIBS_CFLAGS) -o $@ $< tests/unit/test_main.c $(BUILD)/libsfu.a $(LDLIBS)

# Each fuzz target is also linked with a plain driver that replays its corpus,
# so `make test` needs no libFuzzer and a crash found once stays fixed.
$(BUILD)/fuzz-replay/%: tests/fuzz/%.c tests/fuzz/replay_main.c $(BUILD)/libsfu.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LIBS_CFLAGS) -o $@ $< tests/fuzz/replay_main.c $(BUILD)/libsfu.a $(LDLIBS)

unit-tests: $(UNIT_BIN) $(FUZZ_REPLAY)

# The sanitizer build lives in its own tree.
asan:
	@$(MAKE) --no-print-directory BUILD=build/asan OPT=-O1 \
	  SANITIZE="-fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	  build/asan/sfu unit-tests

# libFuzzer builds (clang); FUZZ_SECONDS per target. New inputs go to
# build/fuzz/corpus/NAME; the seeds in tests/fuzz/corpus/NAME are only read
# (add a finding there by hand, minimized, so that `make test` replays it).
FUZZ_SECONDS ?= 60
FUZZ_BIN := $(patsubst tests/fuzz/%.c,build/fuzz/%,$(FUZZ_SRC))
fuzz: deps
	$(MAKE) CC=clang BUILD=build/fuzz-lib OPT=-O1 \
	  SANITIZE="-fsanitize=address,undefined,fuzzer-no-link -fno-omit-frame-pointer" build/fuzz-lib/libsfu.a
	@mkdir -p build/fuzz
	@for src in $(FUZZ_SRC); do \
	  name=$$(basename $$src .c); \
	  clang -std=c17 -D_GNU_SOURCE -I. -O1 -g -fsanitize=address,undefined,fuzzer $(PKG_CFLAGS) \
	    -o build/fuzz/$$name $$src build/fuzz-lib/libsfu.a $(LDLIBS) || exit 1; \
	  mkdir -p build/fuzz/corpus/$$name; \
	  echo "== $$name for $(FUZZ_SECONDS) s"; \
	  build/fuzz/$$name -max_total_time=$(FUZZ_SECONDS) -max_len=65536 \
	    build/fuzz/corpus/$$name tests/fuzz/corpus/$$name || exit 1; \
	done

# Line coverage of each parser reached by replaying its corpus (gcov).
fuzz-coverage:
	@$(MAKE) --no-print-directory BUILD=build/cov OPT=-O0 SANITIZE=--coverage \
	  $(patsubst tests/fuzz/%.c,build/cov/fuzz-replay/%,$(FUZZ_SRC))
	@./scripts/fuzz-coverage.sh build/cov

# The core must not include third-party or OS-service headers (DESIGN.md).
check-layers:
	@! grep -nE '#include *<(glib|gio|nice|agent|openssl|srtp2|microhttpd|jansson|pthread|sys/socket|time)' \
	  sfu/core/*.c sfu/core/*.h || { echo "check-layers: sfu/core includes a forbidden header"; exit 1; }
	@! grep -nE '#include *"(signaling|sfu/net)/' sfu/crypto/*.c sfu/crypto/*.h sfu/core/*.c sfu/core/*.h 2>/dev/null \
	  || { echo "check-layers: a lower layer includes an upper one"; exit 1; }
	@echo "check-layers: ok"

run: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all
	./$(BUILD)/sfu --config configs/sfu.conf

# One make for both trees, so that the ASan compiles fill the release
# build's serial steps (ar, links). tests/run-all.sh runs the unit tests and
# corpus replays of the ASan tree only: the release tree's (`make
# unit-tests`) are not built here.
test: deps
	@$(MAKE) --no-print-directory -j$(JOBS) all $(BUILD)/sfu-bench check-layers asan
	@./tests/run-all.sh

clean:
	rm -rf build

include bench/bench.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
