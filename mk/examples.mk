# mk/examples.mk - the example firmware in examples/: `make run` builds the
# demo (examples/demo.c) for the board and boots it (under QEMU, or as a
# host program on the host board).
.PHONY: run
run: deps-check
	@$(MAKE) --no-print-directory BOARD=$(BOARD) FLAVOR=$(or $(FLAVOR),native) $(B)/demo
	$(RUN) $(B)/demo

$(B)/demo: examples/demo.c $(LIB) $(LIB_BOARD) $(GEN)
	$(call link_program,$<,$(ARCH_LDFLAGS),-lsheap)
