/*
 * startup.c - the start-up code of tests/minimal's firmware, written the way
 * a firmware that owns its machine writes it, using nothing of sheap's
 * board library (libboard.a) or of the C library's crt0:
 *
 *   vectors   a table of its own at 0 (VTOR's reset value on mps2-an385):
 *             the stack top, reset, and one handler for every fault
 *   reset     copies .data, zeroes .bss, points picolibc's thread pointer at
 *             the one TLS block (errno lives there), calls main and _exit
 *   console   the CMSDK UART0, written directly (fw_console_write), also
 *             picolibc's stdout/stderr so that a C library that wants a
 *             stream finds this one (nothing in the image needs it unless
 *             it calls stdio)
 *   _exit     semihosting SYS_EXIT_EXTENDED, so QEMU exits with the status
 */
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "fw.h"

#define UART_DATA (*(volatile uint32_t *)0x40004000u)
#define UART_STATE (*(volatile uint32_t *)0x40004004u)
#define UART_CTRL (*(volatile uint32_t *)0x40004008u)
#define UART_BAUDDIV (*(volatile uint32_t *)0x40004010u)

void fw_console_write(const char *s, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        while (UART_STATE & 1u)
            ;
        UART_DATA = (uint8_t)s[i];
    }
}

static int fw_putc(char c, FILE *f)
{
    (void)f;
    fw_console_write(&c, 1);
    return (unsigned char)c;
}

static FILE fw_stream = FDEV_SETUP_STREAM(fw_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &fw_stream;
FILE *const stderr = &fw_stream;

_Noreturn void _exit(int status)
{
    /* SYS_EXIT_EXTENDED (0x20) with { ADP_Stopped_ApplicationExit, status }. */
    volatile uint32_t block[2] = {0x20026u, (uint32_t)status};
    register uint32_t r0 __asm__("r0") = 0x20;
    register volatile uint32_t *r1 __asm__("r1") = block;
    __asm__ volatile("bkpt 0xab" : "+r"(r0) : "r"(r1) : "memory");
    for (;;)
        ;
}

/* Linker script symbols (minimal-mps2-an385.ld). */
extern char __data_source[], __data_start[], __data_end[], __bss_start[], __bss_end[], __tls_base[];
extern char __stack[];
void _set_tls(void *tls); /* picolibc: the thread pointer for errno */
int main(void);

void fw_reset(void);
void fw_reset(void)
{
    memcpy(__data_start, __data_source, (size_t)(__data_end - __data_start));
    memset(__bss_start, 0, (size_t)(__bss_end - __bss_start));
    _set_tls(__tls_base);
    UART_BAUDDIV = 16;
    UART_CTRL = 1u; /* TX enable */
    _exit(main());
}

static void fw_fault(void)
{
    static const char msg[] = "fw: fault\n";
    fw_console_write(msg, sizeof msg - 1);
    _exit(100);
}

__attribute__((section(".vectors"), used)) static void *const fw_vectors[16] = {
    __stack, fw_reset, fw_fault, fw_fault, fw_fault, fw_fault, fw_fault, 0,
    0,       0,        0,        fw_fault, fw_fault, 0,        fw_fault, fw_fault,
};
