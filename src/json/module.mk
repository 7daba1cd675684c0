# src/json/module.mk - the JSON/input throughput benchmark,
# bench/bench_json.c, built into $(B)/bench/bench_json by `make bench`.
# (Variables such as LIB are defined after this file is included, so
# the library path is spelled out.)

# This file is included before the top-level `all` rule: keep `all` the
# default goal.
ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

BENCH_JSON := $(B)/bench/bench_json

$(BENCH_JSON): bench/bench_json.c $(B)/libaupwatch.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(B)/libaupwatch.a $(LDLIBS)

bench: $(BENCH_JSON)

.PHONY: bench
