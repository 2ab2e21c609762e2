/*
 * sheap_console.h - where sheap's own messages go on the bare-metal ports:
 * the misuse and fault reports of the default fault path
 * (port/common/port_picolibc.c).  That path formats with a few lines of its
 * own and writes through this hook, never through printf, so that a
 * firmware without stdio does not get the C library's formatted output
 * (vfprintf, floating point, 64-bit division) just by linking sheap.
 *
 * The firmware sets its console once, early (before the first allocation,
 * or at least before the first report it wants to see):
 *     static void uart_write(const char *s, size_t n) { ... }
 *     sheap_set_console(uart_write);
 * The hook gets bytes, not a C string (no NUL, may be called several times
 * for one report) and is called without sheap's heap lock held, possibly
 * from the fault path after heap metadata was found broken: it must not
 * allocate.
 *
 * Until it is set, the default writes to the board console of sheap's own
 * boards (sheap_board_puts in libboard.a, include/sheap_board.h) when the
 * image links that library, and nowhere otherwise: a firmware of its own
 * loses nothing but the text, and the report still ends in exit(status)
 * (133 for a misuse report, 134 for a fatal one).  Setting NULL restores
 * that default.  Returns the previous hook.
 */
#ifndef SHEAP_CONSOLE_H
#define SHEAP_CONSOLE_H

#include <stddef.h>

#ifdef __cplusplus
extern "C" {
#endif

typedef void (*sheap_console_fn)(const char *s, size_t n);
sheap_console_fn sheap_set_console(sheap_console_fn fn);

#ifdef __cplusplus
}
#endif

#endif /* SHEAP_CONSOLE_H */
