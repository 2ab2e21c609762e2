/*
 * console.h - the firmware boards' console (boards/common/console.c): the
 * board's UART under picolibc's stdout, stderr and stdin, and the board
 * services of sheap_board.h that only need stdio.  Each board writes one
 * byte to its UART in board_uart_putc (waiting while the transmitter is
 * full); console.c does the rest.
 */
#ifndef SHEAP_BOARD_CONSOLE_H
#define SHEAP_BOARD_CONSOLE_H

/* Sends c on the board's UART; returns once the UART has taken it. */
void board_uart_putc(char c);

#endif
