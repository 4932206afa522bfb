# sfu-bench, the load benchmark (bench/README.md). Included from the top
# Makefile, which defines BUILD, BASE_CFLAGS, PKG_CFLAGS and LDLIBS.

BENCH_SRC  := $(wildcard bench/*.c)
BENCH_PKGS := opus vpx
BENCH_CFLAGS = $(BASE_CFLAGS) $(PKG_CFLAGS) $(shell pkg-config --cflags $(BENCH_PKGS) 2>/dev/null)
BENCH_LIBS   = $(shell pkg-config --libs $(BENCH_PKGS) 2>/dev/null)
BENCH_SCENARIO ?= configs/bench/one-to-many.conf

.PHONY: srtp-speed gso-speed loopback-floor core-speed bench bench-smoke bench-meeting-smoke bench-large-meeting \
	bench-large-meeting-smoke soak soak-smoke soak-asan bench-meeting \
	bench-voice bench-voice-whip-whep bench-ramp bench-ramp-burst bench-simulcast bench-simulcast-smoke \
	bench-compare bench-cluster

$(BUILD)/bench/%.o: bench/%.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  CC    $<")
	$(Q)$(CC) $(BENCH_CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/sfu-bench: $(patsubst bench/%.c,$(BUILD)/bench/%.o,$(BENCH_SRC)) $(BUILD)/libsfu.a
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $^ $(BENCH_LIBS) $(LDLIBS)

# SRTP protect/unprotect cost per packet and profile (bench/tools/srtp_speed.c).
$(BUILD)/srtp-speed: bench/tools/srtp_speed.c $(BUILD)/libsfu.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(LIBS_CFLAGS) -o $@ $< $(BUILD)/libsfu.a $(LDLIBS)

srtp-speed: $(BUILD)/srtp-speed
	./$(BUILD)/srtp-speed

# A burst to one loopback receiver: sendmmsg against one UDP GSO message
# (bench/tools/gso_speed.c), CPU per datagram.
$(BUILD)/gso-speed: bench/tools/gso_speed.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $<

gso-speed: $(BUILD)/gso-speed
	./$(BUILD)/gso-speed

# A fan-out's cost to its loopback sender with the receiving process asleep
# in epoll/poll on the sockets or reading them on a 1 ms timer
# (bench/tools/loopback_floor.c). About 3 minutes; run it under the heavy lock.
$(BUILD)/loopback-floor: bench/tools/loopback_floor.c
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $<

loopback-floor: $(BUILD)/loopback-floor
	./$(BUILD)/loopback-floor

# The forwarding core's cost per forwarded packet, plain and simulcast
# (bench/tools/core_speed.c).
$(BUILD)/core-speed: bench/tools/core_speed.c $(BUILD)/libsfu.a
	@mkdir -p $(dir $@)
	@$(if $(V),,echo "  LINK  $@")
	$(Q)$(CC) $(BASE_CFLAGS) -o $@ $< $(BUILD)/libsfu.a $(LDLIBS)

core-speed: $(BUILD)/core-speed
	./$(BUILD)/core-speed

# The default scenario against a freshly started $(BUILD)/sfu.
bench: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench.json $(BENCH_SCENARIO)

# 5 s, 1 publisher and 2 viewers: fails when nothing is forwarded or loss
# passes 5 %, so the bench never rots.
bench-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/bench-smoke.json \
	  configs/bench/smoke.conf

# 3 s, 3 room members (one PeerConnection each, server renegotiation).
bench-meeting-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/bench-meeting-smoke.json \
	  configs/bench/meeting-smoke.conf

# 30 room members, each subscribed to 9 others' video, the room's audio on
# audio slots; fails unless each received exactly that. The smoke: 8 members,
# 3 tiles, 3 s.
bench-large-meeting: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench-large-meeting.json \
	  configs/bench/large-meeting.conf

bench-large-meeting-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/bench-large-meeting-smoke.json \
	  configs/bench/large-meeting-smoke.conf

# One simulcast publisher (3 VP8 layers by rid), 20 viewers: a third pinned
# to q, a third to h, the rest automatic; fails when a viewer's video rate is
# not its layer's. The smoke: 3 s, 3 viewers (about 5 s in all).
bench-simulcast: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench-simulcast.json \
	  configs/bench/simulcast.conf

bench-simulcast-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/bench-simulcast-smoke.json \
	  configs/bench/simulcast-smoke.conf

# A cluster with relay legs (bench/cluster.py): a Redis and three nodes on
# loopback, the publisher on A, configs/bench/cluster.conf's 20 viewers spread
# over B and C; first the same with every viewer on A. CPU per forwarded
# packet per node; build/bench-cluster.json. Needs redis-server. About 95 s.
bench-cluster: $(BUILD)/sfu $(BUILD)/sfu-bench
	/usr/bin/python3 bench/cluster.py --sfu $(BUILD)/sfu --bench $(BUILD)/sfu-bench --single \
	  --json $(BUILD)/bench-cluster.json

# Join/leave cycles, then the leak checks (bench/soak.h): 10,000 cycles
# (about 11 minutes on 2 cores) and the 1000 that make test runs (about 50 s).
soak: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/soak.json configs/bench/soak.conf

soak-smoke: $(BUILD)/sfu $(BUILD)/sfu-bench
	./$(BUILD)/sfu-bench --quiet --sfu $(BUILD)/sfu --json $(BUILD)/soak-smoke.json \
	  configs/bench/soak-smoke.conf

# The same 500 cycles against the sanitizer build of the SFU (LeakSanitizer
# at its exit; the RSS check is off: ASan's allocator keeps freed memory).
soak-asan: $(BUILD)/sfu-bench
	@$(MAKE) --no-print-directory asan
	ASAN_OPTIONS=detect_leaks=1:exitcode=23 LSAN_OPTIONS=suppressions=$(CURDIR)/tests/lsan.supp \
	  ./$(BUILD)/sfu-bench --quiet --sfu build/asan/sfu --json $(BUILD)/soak-asan.json \
	  configs/bench/soak-asan.conf

bench-meeting bench-voice bench-voice-whip-whep bench-ramp bench-ramp-burst: $(BUILD)/sfu $(BUILD)/sfu-bench
bench-meeting:
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench-meeting.json configs/bench/meeting.conf
bench-voice:
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench-voice.json configs/bench/voice-calls.conf
bench-voice-whip-whep:
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --json $(BUILD)/bench-voice-whip-whep.json \
	  configs/bench/voice-calls-whip-whep.conf
# The ramps keep the old way of reading (--rx-poll-us 0): with the 1 ms timer
# their top steps' latency came out 3-5x higher, not yet explained (bench/README).
bench-ramp:
	@./scripts/install-deps.sh bench
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --rx-poll-us 0 --json $(BUILD)/bench-ramp.json \
	  --plot $(BUILD)/bench-ramp.svg configs/bench/ramp.conf
bench-ramp-burst:
	./$(BUILD)/sfu-bench --sfu $(BUILD)/sfu --rx-poll-us 0 --json $(BUILD)/bench-ramp-burst.json \
	  configs/bench/ramp-burst.conf

# Our SFU and Janus 1.1.2 (configs/bench/janus/, in a network namespace of
# its own), each scenario (one-to-many, meeting, voice-calls through room sessions
# and through WHIP/WHEP; BENCH_COMPARE=FILES
# for others) BENCH_ROUNDS times, ours and Janus alternated, BENCH_DURATION s
# windows (empty: the scenarios' own): medians, min-max and the ratio of the
# medians in $(BUILD)/bench-compare-<name>.json and the summary table
# $(BUILD)/bench-compare-summary.md. About 5-7 minutes with the defaults. Needs
# root, janus and jq (bench/compare.sh).
BENCH_COMPARE ?= configs/bench/one-to-many.conf configs/bench/meeting.conf \
	configs/bench/voice-calls.conf configs/bench/voice-calls-whip-whep.conf
BENCH_ROUNDS ?= 3
BENCH_DURATION ?= 10
# Empty: the bench's default --rx-poll-us; 0: the peers read as datagrams
# arrive (the method of the figures before 8 Dec).
BENCH_RX_POLL_US ?=
bench-compare: $(BUILD)/sfu $(BUILD)/sfu-bench
	@./scripts/install-deps.sh bench
	BUILD=$(BUILD) ROUNDS=$(BENCH_ROUNDS) DURATION=$(BENCH_DURATION) RX_POLL_US=$(BENCH_RX_POLL_US) \
	  bench/compare.sh $(BENCH_COMPARE)

-include $(wildcard $(BUILD)/bench/*.d)
