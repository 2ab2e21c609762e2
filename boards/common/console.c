/*
 * console.c - the console of the firmware boards (console.h): picolibc's
 * stdout, stderr and stdin are one write-only stream on the board's UART
 * (board_uart_putc), and sheap_board_name/sheap_board_puts
 * (sheap_board.h) print the board's name and text through stdout.  With
 * newlib (mps2-an385, LIBC=newlib*) stdio goes to the semihosting console
 * instead (boards/common/newlib_semihost.c) and only the two services are
 * used from here.  A board's board.mk lists console in BOARD_COMMON; its
 * board.h gives SHEAP_BOARD_NAME.
 */
#include <stdio.h>

#include "board.h"
#include "console.h"
#include "sheap_board.h"

#ifdef __PICOLIBC__
static int console_putc(char c, FILE *f)
{
    (void)f;
    board_uart_putc(c);
    return (unsigned char)c;
}

static FILE console_file = FDEV_SETUP_STREAM(console_putc, NULL, NULL, _FDEV_SETUP_WRITE);
FILE *const stdout = &console_file;
FILE *const stderr = &console_file;
FILE *const stdin = &console_file;
#endif

const char *sheap_board_name(void) { return SHEAP_BOARD_NAME; }

void sheap_board_puts(const char *s) { fputs(s, stdout); }
