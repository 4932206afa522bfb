# sfu-bench, the load benchmark (bench/README.md). Included from the top
# Makefile, which defines BUILD, BASE_CFLAGS, PKG_CFLAGS and LDLIBS.

BENCH_SRC  := $(wildcard bench/*.c)
BENCH_PKGS := opus vpx
BENCH_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags $(BENCH_PKGS) 2>/dev/null)
BENCH_LIBS   = $(shell pkg-config --libs $(BENCH_PKGS) 2>/dev/null)
BENCH_SCENARIO ?= configs/bench/one-to-many.conf

.PHONY: bench bench-smoke

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/sfu-bench: $(patsubst bench/%.c,$(BUILD)/bench/%.o,$(BENCH_SRC)) $(BUILD)/libsfu.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(BENCH_LIBS) $(LDLIBS)

# The default scenario against a freshly started $(BUILD)/sfu.
bench: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench.json $(BENCH_SCENARIO)

# 5 s, 1 publisher and 2 viewers: fails when nothing is forwarded or loss
# passes 5 %, so the bench never rots.
bench-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/bench-smoke.json \
	  configs/bench/smoke.conf

-include $(wildcard $(BUILD)/bench/*.d)
