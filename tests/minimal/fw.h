/*
 * fw.h - what tests/minimal's start-up code (startup.c) gives its main.c:
 * the firmware's own console.
 */
#ifndef FW_H
#define FW_H
#include <stddef.h>
void fw_console_write(const char *s, size_t n);
#endif
