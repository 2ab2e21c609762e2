# port.mk - what port/hosted is built from (mk/library.mk includes it): its
# own files only (mmap and the C library; nothing from port/common).
PORT_SRC := $(wildcard port/hosted/*.c)
