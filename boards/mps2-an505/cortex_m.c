/* The MPS2 Cortex-M board services are shared with mps2-an385 (see there);
 * board.h (this directory's) supplies the UART address and the name. */
#include "../mps2-an385/cortex_m.c"
