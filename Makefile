# tkms — GNU Make with pkg-config. `make help` lists the targets.
#
# Layout and who may include whom (checked by scripts/check-layering.sh):
#   host -> proto <- core -> {crypto, attest, platform};  cli -> {host, proto, crypto, attest}
#
# Variables: BUILD (output dir, default build), SAN=1 (ASan+UBSan build),
#            DATA (data dir for `make run`, default ./var), LISTEN (127.0.0.1:8420).

BUILD   ?= build
DATA    ?= var
LISTEN  ?= 127.0.0.1:8420
CC      ?= cc
SAN     ?=

PKG_CORE := libsecp256k1 libsodium libcrypto libseccomp libcbor tss2-esys tss2-tctildr tss2-mu tss2-rc
PKG_HOST := libmicrohttpd jansson sqlite3
PKG_CLI  := libcurl

# Reproducible builds (docs/reproducible-builds.md, `make reproduce`): the same
# source and the same Debian packages give a byte-identical tkms-enclave in any
# directory. No timestamps (SOURCE_DATE_EPOCH = the last commit's time), no build
# directory in the binary (prefix maps), no build id, deterministic archives (ar D)
# and a sorted, fixed object and link order. These flags are the normal build's.
SOURCE_DATE_EPOCH ?= $(shell git log -1 --format=%ct 2>/dev/null || echo 0)
export SOURCE_DATE_EPOCH
REPRO_CFLAGS  := -ffile-prefix-map=$(CURDIR)/= -fdebug-prefix-map=$(CURDIR)=.
REPRO_LDFLAGS := -Wl,--build-id=none
ARFLAGS_D     := rcsD

WARN    := -Wall -Wextra -Werror -Wshadow -Wformat=2 -Wvla -Wstrict-prototypes \
           -Wmissing-prototypes -Wno-unused-parameter
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -D_GNU_SOURCE -fPIE -fstack-protector-strong -fno-common $(WARN) -Isrc \
           $(REPRO_CFLAGS) -MMD -MP
LDFLAGS += -pie -Wl,-z,relro,-z,now,-z,noexecstack $(REPRO_LDFLAGS)
ifeq ($(SAN),1)
  CFLAGS  += -fsanitize=address,undefined -fno-sanitize-recover=undefined -fno-omit-frame-pointer -O1
  LDFLAGS += -fsanitize=address,undefined
else
  CFLAGS  += -D_FORTIFY_SOURCE=2
endif

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)
CFLAGS   += $(call pc_cflags,$(PKG_CORE) $(PKG_HOST) $(PKG_CLI))
LIBS_CORE := $(call pc_libs,$(PKG_CORE)) -lgmp -lpthread
LIBS_HOST := $(call pc_libs,$(PKG_HOST) $(PKG_CLI) $(PKG_CORE)) -lgmp -lpthread

# One static library per room; sorted, so the archive and link order never
# depends on the order the file system lists a directory in.
rooms := proto crypto attest platform core host cli
$(foreach r,$(rooms),$(eval SRC_$(r) := $(sort $(filter-out src/$(r)/main.c,$(wildcard src/$(r)/*.c src/$(r)/*/*.c)))))
$(foreach r,$(rooms),$(eval OBJ_$(r) := $(SRC_$(r):src/%.c=$(BUILD)/obj/%.o)))
$(foreach r,$(rooms),$(eval LIB_$(r) := $(BUILD)/lib/libtkms_$(r).a))

ENCLAVE := $(BUILD)/tkms-enclave
TKMS    := $(BUILD)/tkms
CORE_LIBS := $(LIB_core) $(LIB_platform) $(LIB_attest) $(LIB_crypto) $(LIB_proto)
HOST_LIBS := $(LIB_cli) $(LIB_host) $(LIB_attest) $(LIB_crypto) $(LIB_proto)

UNIT_SRC := $(sort $(wildcard tests/unit/test_*.c))
UNIT_BIN := $(UNIT_SRC:tests/unit/%.c=$(BUILD)/tests/%)
UNIT_LIB_SRC := $(sort $(filter-out $(UNIT_SRC),$(wildcard tests/unit/*.c)))
UNIT_LIB_OBJ := $(UNIT_LIB_SRC:tests/unit/%.c=$(BUILD)/obj/tests/%.o)

.PHONY: enclave-b all run check check-unit check-node check-crash check-layering check-format \
        check-san check-fuzz check-ctime check-evm client-ts torture fuzz bench bench-attest format \
        deps node-deps clean help reproduce measure
.DEFAULT_GOAL := all
# Keep object files of test programs between runs.
.SECONDARY:

all: $(ENCLAVE) $(TKMS)

help:
	@echo "make run          install what is missing, build, serve on $(LISTEN) (sim platform, SQLite in $(DATA)/)"
	@echo "make check        the whole test suite (unit, layering, format, integration, crash)"
	@echo "make check-san    unit + integration tests under ASan+UBSan (BUILD=build-san)"
	@echo "make torture      the crash test with many more kills"
	@echo "make fuzz         run the libFuzzer harnesses for a while"
	@echo "make bench        benchmarks (not tests)"
	@echo "make bench-attest Intel DCAP quote verifications/s"
	@echo "make format       clang-format the sources"
	@echo "make reproduce    build tkms-enclave twice in two directories, compare, print its measurement"
	@echo "make measure      print the measurement of $(ENCLAVE) and its manifest"

# Objects depend on the compiler and its flags: the stamp is rewritten (and so
# everything recompiled) only when they change. Without it a build directory kept
# objects made with older flags (e.g. without the prefix maps of a reproducible build).
FLAGS_STAMP := $(BUILD)/.flags
FLAGS_NOW   := $(CC) $(CFLAGS) | $(LDFLAGS)
$(shell mkdir -p $(BUILD) && { [ -f $(FLAGS_STAMP) ] && [ "$$(cat $(FLAGS_STAMP))" = '$(FLAGS_NOW)' ] || printf '%s' '$(FLAGS_NOW)' > $(FLAGS_STAMP); })

$(BUILD)/obj/%.o: src/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -c $< -o $@

$(BUILD)/obj/tests/%.o: tests/unit/%.c $(FLAGS_STAMP)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@

$(foreach r,$(rooms),$(eval $(LIB_$(r)): $(OBJ_$(r)) ; @mkdir -p $$(dir $$@) && rm -f $$@ && ar $(ARFLAGS_D) $$@ $$^))

$(ENCLAVE): $(BUILD)/obj/core/main.o $(CORE_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)

# A second build of the core that differs from $(ENCLAVE) only by an embedded tag
# (reported in STATUS as core_version "0.1.0+b"), so its measurement differs: the
# upgrade and migration tests run it as the successor core.
ENCLAVE_B := $(BUILD)/tests/tkms-enclave-b
$(BUILD)/obj-b/core/main.o: src/core/main.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -DTKMS_BUILD_TAG='"b"' -c $< -o $@
$(ENCLAVE_B): $(BUILD)/obj-b/core/main.o $(CORE_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_CORE)
enclave-b: $(ENCLAVE_B)

$(TKMS): $(BUILD)/obj/cli/main.o $(HOST_LIBS)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_HOST)

# Unit tests link every room; the layering rule is about includes, checked separately.
$(BUILD)/tests/%: $(BUILD)/obj/tests/%.o $(UNIT_LIB_OBJ) $(LIB_cli) $(LIB_host) $(CORE_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_HOST) -lcmocka

# Test tools (tests/tools): built for the test suite, never part of the product.
FAKE_QUOTE := $(BUILD)/tests/fake_quote
$(BUILD)/obj/tests/tools/%.o: tests/tools/%.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests/unit -c $< -o $@
$(FAKE_QUOTE): $(BUILD)/obj/tests/tools/fake_quote.o $(UNIT_LIB_OBJ) $(LIB_cli) $(LIB_host) $(CORE_LIBS)
	@mkdir -p $(dir $@)
	$(CC) $(LDFLAGS) -o $@ $^ $(LIBS_HOST) -lcmocka

deps:
	@bash scripts/install-deps.sh

node-deps: node_modules/.package-lock.json
node_modules/.package-lock.json: package.json package-lock.json
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

run: deps
	@$(MAKE) --no-print-directory all
	@mkdir -p $(DATA)
	exec $(TKMS) serve --data-dir $(DATA) --listen $(LISTEN)

check-layering:
	@bash scripts/check-layering.sh

check-format:
	@bash scripts/check-format.sh

check-unit: $(UNIT_BIN)
	@bash scripts/run-unit.sh $(UNIT_BIN)

check-node: all node-deps $(ENCLAVE_B) $(FAKE_QUOTE)
	TKMS_BUILD=$(BUILD) node --test --test-concurrency=1 tests/integration/

# BN254 keys and signatures by the C code, and by the service through the TypeScript
# client, against contracts/ on an in-process EVM (ganache).
check-evm: all node-deps client-ts $(BUILD)/tests/test_bn254_tool
	TKMS_BUILD=$(BUILD) node --test --test-concurrency=1 tests/evm/

# The TypeScript AVS client (clients/ts), compiled with the pinned tsc.
CLIENT_TS_SRC := $(wildcard clients/ts/src/*.ts)
client-ts: $(BUILD)/clients/ts/index.js
$(BUILD)/clients/ts/index.js: $(CLIENT_TS_SRC) clients/ts/tsconfig.json node_modules/.package-lock.json
	node_modules/.bin/tsc -p clients/ts/tsconfig.json --outDir $(BUILD)/clients/ts

check-crash: all node-deps
	TKMS_BUILD=$(BUILD) node tests/crash/crash.mjs --kills $${CRASH_KILLS:-100}

check: deps
	@$(MAKE) --no-print-directory all
	@$(MAKE) --no-print-directory check-layering check-format
	@$(MAKE) --no-print-directory check-unit
	@$(MAKE) --no-print-directory check-fuzz check-ctime
	@$(MAKE) --no-print-directory check-node
	@$(MAKE) --no-print-directory check-evm
	@$(MAKE) --no-print-directory check-crash

check-san:
	@$(MAKE) --no-print-directory SAN=1 BUILD=build-san all check-unit check-node

torture: all node-deps
	TKMS_BUILD=$(BUILD) node tests/crash/crash.mjs --kills $${CRASH_KILLS:-1000}

# tkms-enclave built twice from a copy of this tree in two other directories; both
# must be byte-identical to each other and to $(ENCLAVE). Prints its hash and measurement.
reproduce: $(ENCLAVE)
	@bash scripts/reproduce.sh $(ENCLAVE)

measure: $(ENCLAVE)
	@$(ENCLAVE) --measure

fuzz:
	@bash scripts/fuzz.sh $${FUZZ_SECONDS:-60}

# Every harness for a few thousand runs: catches a harness that no longer builds
# or a crash on the seeds, without the cost of a real fuzzing campaign.
check-fuzz:
	@bash scripts/fuzz.sh --smoke

bench: all node-deps $(BUILD)/bench/bn254_bench $(BUILD)/bench/attest_bench
	$(BUILD)/bench/attest_bench $${TKMS_VECTORS:-../shared/vectors}
	@TKMS_BUILD=$(BUILD) bash bench/run.sh
	node bench/bn254_noble.mjs $(BUILD)/bench/bn254_bench

$(BUILD)/bench/bn254_bench: bench/bn254_bench.c $(LIB_crypto)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_crypto)

# Intel DCAP verifications/s (SGX and TDX quotes with collateral) beside one ECDSA P-256 verify.
bench-attest: $(BUILD)/bench/attest_bench
	$(BUILD)/bench/attest_bench $${TKMS_VECTORS:-../shared/vectors} $${BENCH_SECONDS:-2}

$(BUILD)/bench/attest_bench: bench/attest_bench.c $(LIB_cli) $(LIB_attest)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(LDFLAGS) -o $@ $< $(LIB_cli) $(LIB_attest) $(LIBS_HOST)

# Secret-handling code under valgrind with secrets marked undefined: a branch or a
# memory access that depends on a secret fails the check (libsecp256k1's ctime trick).
check-ctime:
	@bash tests/ctime/run.sh

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build build-san build-fuzz

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
