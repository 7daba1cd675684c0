# src/mapping/module.mk - embed the shipped mappings/*.yml into the
# library (aw_mapping_load_builtin). The generated C file lives under
# $(B)/gen and has its own compile rule: the generic $(B)/%.o: %.c rule
# expects sources under the tree, not under $(B).

MAPPING_YML := $(sort $(wildcard mappings/*.yml))
MAPPING_GEN := $(B)/gen/mapping_builtin.c
GEN_SRCS    += $(MAPPING_GEN)

$(MAPPING_GEN): $(MAPPING_YML) src/mapping/embed.sh src/mapping/module.mk
	@mkdir -p $(dir $@)
	sh src/mapping/embed.sh $@ $(MAPPING_YML)

$(B)/gen/mapping_builtin.o: $(MAPPING_GEN) src/mapping/mapping_int.h
	$(CC) $(CPPFLAGS) $(ALLCFLAGS) -c $< -o $@
