# src/correlate/module.mk - the correlation benchmark,
# bench/bench_correlate.c, built into $(B)/bench/bench_correlate by
# `make bench` (run: build/bench/bench_correlate [--quick]).

ifeq ($(.DEFAULT_GOAL),)
.DEFAULT_GOAL := all
endif

BENCH_CORRELATE := $(B)/bench/bench_correlate

$(BENCH_CORRELATE): bench/bench_correlate.c $(B)/libaupwatch.a
	@mkdir -p $(dir $@)
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -o $@ $< $(B)/libaupwatch.a $(LDLIBS)

bench: $(BENCH_CORRELATE)

.PHONY: bench
