/*
 * port_picolibc.c - the port functions that are the same on every embedded
 * port (aarch64, riscv, static), for either C library the boards link
 * (picolibc, or newlib on the Arm boards): the out-of-line heap lock (the
 * same code as the port's inline sheap_port_lock.h), the fault hook's
 * default (a report on the console hook of sheap_console.h, then exit: under
 * semihosting the status becomes QEMU's exit code) and errno, reached the
 * way the C library the file is compiled against defines it (picolibc: a
 * thread-local variable; newlib: *__errno(), the reentrancy structure).
 *
 * The report is formatted here by hand, with no printf, so that a firmware
 * that has no formatted output gets none from sheap.
 */
#include <errno.h>
#include <stdint.h>
#include <stdlib.h>

#include "sheap.h"
#include "sheap_console.h"
#include "sheap_port.h"
#include "sheap_port_lock.h"

_Static_assert(SHEAP_ENOMEM == ENOMEM && SHEAP_EINVAL == EINVAL, "sheap errno values match the C library's");

void sheap_port_lock(void)
{
    sheap_port_lock_inline();
}

void sheap_port_unlock(void)
{
    sheap_port_unlock_inline();
}

/* ---- console ------------------------------------------------------------------ */

/* Defined by libboard.a of sheap's own boards; a weak reference does not
 * pull it in, so an image without that library has none (NULL). */
extern void sheap_board_puts(const char *s) __attribute__((weak));

static void board_console(const char *s, size_t n)
{
    char line[80];
    /* sheap_board_puts takes a C string: pass the bytes in pieces. */
    while (n > 0 && sheap_board_puts) {
        size_t k = n < sizeof line - 1 ? n : sizeof line - 1;
        for (size_t i = 0; i < k; i++)
            line[i] = s[i];
        line[k] = '\0';
        sheap_board_puts(line);
        s += k;
        n -= k;
    }
}

/* Written once by the firmware, read by the fault path (no lock: a word). */
static sheap_console_fn console_fn;

sheap_console_fn sheap_set_console(sheap_console_fn fn)
{
    sheap_console_fn old = console_fn;
    console_fn = fn;
    return old ? old : board_console;
}

static void console_put(const char *s)
{
    size_t n = 0;
    while (s[n] != '\0')
        n++;
    sheap_console_fn fn = console_fn ? console_fn : board_console;
    fn(s, n);
}

/* ---- the fault hook's default --------------------------------------------------- */

/* "<msg> [0x<ptr in hex>]< (fatal)>\n", then exit(134 fatal, else 133). */
void sheap_port_fault(const char *msg, const void *ptr, bool fatal)
{
    char hex[2 + 2 * sizeof(uintptr_t) + 1];
    uintptr_t v = (uintptr_t)ptr;
    size_t i = sizeof hex - 1;
    hex[i] = '\0';
    do {
        hex[--i] = "0123456789abcdef"[v & 0xfu];
        v >>= 4;
    } while (v != 0);
    hex[--i] = 'x';
    hex[--i] = '0';
    console_put(msg);
    console_put(" [");
    console_put(hex + i);
    console_put(fatal ? "] (fatal)\n" : "]\n");
    exit(fatal ? 134 : 133);
}

void sheap_port_set_errno(int err)
{
    errno = err;
}
