# port.mk - what port/riscv is built from (mk/library.mk includes it): its
# own files, and the parts of port/common every MMU port shares (frame
# pool, translation tables, address space, MMU backend and its default
# instance) plus the embedded ports' lock, fault hook and errno.
PORT_SRC := $(wildcard port/riscv/*.c) \
	$(patsubst %,port/common/%.c,frames pagetable vaspace mmu_backend mmu_default port_picolibc)
