# r1 — build, test, run.  `make` builds ./r1; `make test` runs every test;
# `make run` answers a question with the embedded default model.  SAN=1 builds with
# AddressSanitizer + UndefinedBehaviorSanitizer into build-san/.
CC      ?= cc
CFLAGS  ?= -O2 -g
CFLAGS  += -std=c11 -Wall -Wextra -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE -Isrc
# no fused a·b + c unless written: the SIMD kernels promise the scalar loops' bits
CFLAGS  += -ffp-contract=off
LDLIBS  += -lpcre2-8 -ljansson -lunistring -lm -lpthread
ifeq ($(CI),true)
CFLAGS  += -Werror
endif
ifeq ($(SAN),1)
BUILD   := build-san
CFLAGS  += -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
LDFLAGS += -fsanitize=address,undefined
BIN     := $(BUILD)/r1
else
BUILD   := build
BIN     := r1
endif

# Files named *_avx2.c hold the AVX2+FMA kernels, *_avx512.c the AVX-512 ones; only
# they get the ISA flags, and they are called only after a run-time CPU check.
AVX2FLAGS := -mavx2 -mfma -mf16c
AVX512FLAGS := -mavx512f -mfma

LIB_SRC  := $(sort $(shell find src -name '*.c' ! -path 'src/cli/*'))
CLI_SRC  := $(sort $(wildcard src/cli/*.c))
TEST_SRC := $(sort $(wildcard tests/test_*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
CLI_OBJ  := $(CLI_SRC:%.c=$(BUILD)/%.o)
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

.PHONY: all test run recipe clean deps fuzz
all: deps $(BIN)

# Debian packages the build needs (PCRE2 for the pre-tokenizer regexes, Jansson
# for JSON, libunistring for the NFC normalization Qwen2's tokenizer.json asks
# for). `make deps` installs the missing ones when run as root (apt-get),
# and otherwise names them and stops.
DEB_PACKAGES := gcc make libc6-dev libpcre2-dev libjansson-dev libunistring-dev
deps:
	@missing=""; for p in $(DEB_PACKAGES); do dpkg -s $$p >/dev/null 2>&1 || missing="$$missing $$p"; done; \
	if [ -n "$$missing" ]; then \
	  if [ "$$(id -u)" = 0 ]; then echo "installing:$$missing"; apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $$missing; \
	  else echo "r1 needs these Debian packages:$$missing  (sudo apt-get install$$missing)"; exit 1; fi; \
	fi

$(BUILD)/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX2FLAGS) -MMD -MP -c $< -o $@

$(BUILD)/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $(AVX512FLAGS) -MMD -MP -c $< -o $@

# the bfloat16 GEMM also uses AVX512BW word permutes and VDPBF16PS; types.c checks both
# before it calls it, so only that file gets them
$(BUILD)/src/tensor/gemm_bf16_avx512.o build-fuzz/src/tensor/gemm_bf16_avx512.o: \
    AVX512FLAGS += -mavx512bw -mavx512bf16

$(BUILD)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -MMD -MP -c $< -o $@

$(BUILD)/libr1.a: $(LIB_OBJ)
	@rm -f $@
	ar rcs $@ $^

# The default model is linked into the binary (src/cli/embedded_model.S), so
# `r1 run "..."` needs no -m in any directory. .incbin does not show in -MMD's
# dependency lists: the model is named here, and a new one relinks ./r1.
EMBED_MODEL := models/r1-tiny.gguf
EMBED_OBJ   := $(BUILD)/src/cli/embedded_model.o
$(EMBED_OBJ): src/cli/embedded_model.S $(EMBED_MODEL)
	@mkdir -p $(dir $@)
	$(CC) -DR1_EMBEDDED_MODEL='"$(EMBED_MODEL)"' -c $< -o $@

$(BIN): $(CLI_OBJ) $(EMBED_OBJ) $(BUILD)/libr1.a
	$(CC) $(LDFLAGS) $^ -o $@ $(LDLIBS)

# every compile waits for deps, so `make -j` on a fresh machine installs the headers
# before the first file needs them (order-only: a run of deps rebuilds nothing)
$(LIB_OBJ) $(CLI_OBJ) $(EMBED_OBJ) $(TEST_BIN): | deps

$(BUILD)/tests/%: tests/%.c tests/test.h $(BUILD)/libr1.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itests $< $(BUILD)/libr1.a -o $@ $(LDFLAGS) $(LDLIBS)

test: deps $(BIN) $(TEST_BIN) $(BUILD)/membw $(BUILD)/gemm_bench
	@R1=./$(BIN) sh tests/run.sh $(TEST_BIN)

# greedy, as every pass@1 in RESULTS.md: the model's most likely answer, the same on
# every machine (at r1 run's default T 0.6, seed 0, the default model slips on this one)
run: deps $(BIN)
	./$(BIN) run --temp 0 "What is 48 + 75 - 3?"

# the R1 recipe on Countdown from random weights, about an hour on 2 cores
# (scripts/recipe.sh --help; RECIPE_ARGS="--out DIR -t N" or "--quick")
recipe: deps $(BIN)
	R1=./$(BIN) sh scripts/recipe.sh $(RECIPE_ARGS)

# memory bandwidth, the decode-speed ceiling quoted in BENCHMARKS.md
$(BUILD)/membw: bench/membw.c
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< -o $@ -lpthread

# the trainer's float GEMM against OpenBLAS's sgemm (BENCHMARKS.md)
$(BUILD)/gemm_bench: bench/gemm.c $(BUILD)/libr1.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) $< $(BUILD)/libr1.a -o $@ $(LDFLAGS) $(LDLIBS) -ldl

# libFuzzer targets (not built by default; needs clang and libclang-rt-14-dev):
#   make fuzz && ./build-fuzz/fuzz_tokenizer -max_total_time=60
# R1_FUZZ_TOKENIZER=FILE picks the tokenizer (default: the DeepSeek LLM vocab in
# ../shared/testdata/tokenizer).
FUZZ_CC     ?= clang
FUZZ_CFLAGS := -std=c11 -O1 -g -Isrc -D_POSIX_C_SOURCE=200809L -D_DEFAULT_SOURCE \
               -fsanitize=fuzzer-no-link,address,undefined
FUZZ_OBJ    := $(LIB_SRC:%.c=build-fuzz/%.o)
fuzz: build-fuzz/fuzz_tokenizer
build-fuzz/%_avx2.o: %_avx2.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(AVX2FLAGS) -c $< -o $@
build-fuzz/%_avx512.o: %_avx512.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) $(AVX512FLAGS) -c $< -o $@
build-fuzz/%.o: %.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c $< -o $@
build-fuzz/fuzz_tokenizer: fuzz/fuzz_tokenizer.c $(FUZZ_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer $^ -o $@ $(LDLIBS)

clean:
	rm -rf build build-san build-fuzz r1

-include $(LIB_OBJ:.o=.d) $(CLI_OBJ:.o=.d)
