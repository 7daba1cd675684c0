# src/sim/module.mk - build the telemetry simulator aupwatch-sim from
# sim/*.c (sources live under sim/, the top-level Makefile only
# includes src/*/module.mk). It links the library for the scorer's JSON
# parser. `make tests` builds it so the tests/aup shell tests find it.

SIM_SRCS := $(sort $(wildcard sim/*.c))
SIM_OBJS := $(SIM_SRCS:%.c=$(B)/%.o)
SIM_BIN  := $(B)/aupwatch-sim

$(SIM_BIN): $(SIM_OBJS) $(B)/libaupwatch.a
	$(CC) $(ALLCFLAGS) -o $@ $(SIM_OBJS) $(B)/libaupwatch.a $(LDLIBS)

sim: $(SIM_BIN)
all: $(SIM_BIN)
tests: $(SIM_BIN)

.PHONY: sim
