# aupwatch build. Plain make: `make`, `make test`, `make SAN=1 test`,
# `make fuzz` (clang + libFuzzer), `make bench`.
#
# The library is every src/<module>/*.c except src/cli; the tool is
# src/cli. Tests are tests/<module>/test_*.c, one cmocka binary each.
# A module may add rules in src/<module>/module.mk.

CC      ?= cc
PKGS    := yaml-0.1 libpcre2-8 libsodium zlib libdeflate libisal libzstd libhs libcrypto
OPT     ?= -O2
CFLAGS  ?= $(OPT) -g
WARN    := -Wall -Wextra -Werror -Wshadow -Wno-unused-parameter
CPPFLAGS += -Iinclude -Isrc -D_GNU_SOURCE
ALLCFLAGS = -std=c11 $(WARN) $(CFLAGS) $(SANFLAGS) $(shell pkg-config --cflags $(PKGS))
LDLIBS  := $(shell pkg-config --libs $(PKGS)) -lm -lpthread
# libipsec-mb (amd64 only, no pkg-config file): hashes the alerting
# records two or more at a time (src/util/sha256_mb.c). IPSEC_MB= builds
# without it.
IPSEC_MB ?= $(wildcard /usr/include/intel-ipsec-mb.h)
ifneq ($(IPSEC_MB),)
CPPFLAGS += -DAW_HAVE_IPSEC_MB
LDLIBS   += -lIPSec_MB
endif

ifeq ($(SAN),1)
B        ?= build-san
SANFLAGS := -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined
OPT      := -O1
else
B        ?= build
SANFLAGS :=
endif

LIB_SRCS  := $(sort $(filter-out src/cli/%,$(wildcard src/*/*.c)))
CLI_SRCS  := $(sort $(wildcard src/cli/*.c))
TEST_SRCS := $(sort $(wildcard tests/*/test_*.c))
GEN_SRCS  :=

.DEFAULT_GOAL := all
-include $(wildcard src/*/module.mk)

LIB_OBJS  = $(LIB_SRCS:%.c=$(B)/%.o) $(GEN_SRCS:%.c=%.o)
CLI_OBJS  = $(CLI_SRCS:%.c=$(B)/%.o)
TEST_BINS = $(TEST_SRCS:%.c=$(B)/%)

LIB = $(B)/libaupwatch.a
BIN = $(B)/aupwatch

.DEFAULT_GOAL := all
all: $(BIN)

$(B)/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -MMD -MP -c $< -o $@

$(LIB): $(LIB_OBJS)
	@rm -f $@
	ar rcs $@ $^

$(BIN): $(CLI_OBJS) $(LIB)
	$(CC) $(ALLCFLAGS) -o $@ $(CLI_OBJS) $(LIB) $(LDLIBS)

$(B)/tests/%: tests/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) -Itests $(ALLCFLAGS) -MMD -MP -o $@ $< $(LIB) $(LDLIBS) -lcmocka

# bench/gen too: the differential test scans what it generates
tests: $(TEST_BINS) $(BIN) $(B)/bench/gen

# Every test: unit tests, conformance over ../shared, CLI tests.
test: tests
	B=$(B) bash tests/run.sh

# Benchmarks: bench/*.c, one program each (bench/README.md says how to
# run them; bench/run.sh drives the scan benchmark).
BENCH_SRCS := $(sort $(wildcard bench/*.c))
BENCH_BINS := $(BENCH_SRCS:bench/%.c=$(B)/bench/%)

$(B)/bench/%: bench/%.c $(LIB)
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(LIB) $(LDLIBS)

bench: $(BENCH_BINS) $(BIN)

# libFuzzer targets: fuzz/fuzz_*.c, built with clang against a
# sanitizer+coverage build of the library.
FUZZ_SRCS := $(sort $(wildcard fuzz/fuzz_*.c))
fuzz:
	$(MAKE) B=build-fuzz CC=clang SAN=0 \
	  SANFLAGS="-fsanitize=fuzzer-no-link,address,undefined -fno-omit-frame-pointer" \
	  build-fuzz/libaupwatch.a
	@mkdir -p build-fuzz/fuzz
	for f in $(FUZZ_SRCS); do \
	  n=$$(basename $$f .c); \
	  clang $(CPPFLAGS) -std=c11 -g -O1 -fsanitize=fuzzer,address,undefined \
	    $$(pkg-config --cflags $(PKGS)) -o build-fuzz/fuzz/$$n $$f \
	    build-fuzz/libaupwatch.a $(LDLIBS) || exit 1; \
	done

clean:
	rm -rf build build-san build-fuzz

.PHONY: all tests test fuzz bench clean
.SECONDARY:

-include $(shell find $(B) -name '*.d' 2>/dev/null)
