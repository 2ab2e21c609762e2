# port.mk - what port/static is built from (mk/library.mk includes it): its
# own files (the region, the MPU and PMP guards), and from port/common the
# embedded ports' lock, fault hook and errno.
PORT_SRC := $(wildcard port/static/*.c) port/common/port_picolibc.c
