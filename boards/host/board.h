/*
 * board.h for "host": sheap as a library in a POSIX process (port/hosted).
 * Used by the unit tests, the sanitizer and 32-bit builds and the host
 * benchmarks.  Geometry is the default of include/sheap_config.h: 64 MB
 * arenas and Go's 0x00c0... hints on 64-bit, the 32-bit mode with
 * 4 MB arenas and an up-front reservation on i686.
 */
#ifndef SHEAP_BOARD_HOST_H
#define SHEAP_BOARD_HOST_H

#define SHEAP_BOARD_NAME "host"

#endif
