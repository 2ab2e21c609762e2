/*
 * main.c - an unexpected fault must stop the firmware with a report and a
 * non-zero exit status (tools/run_fault_test.sh checks both).  It stores to
 * a heap page after handing it back to the port: on an MMU board the page
 * has no translation any more; on a static-region board it lies above the
 * Ready watermark, which the MPU or PMP guards.  A store, not a load: the
 * ARMv8-M guard is privileged read-only (that MPU has no no-access
 * permission), so only stores fault everywhere.
 */
#include <stdio.h>

#include "sheap.h"

int main(void)
{
    /* stdio first: newlib allocates stdout's buffer from the heap on first
     * use, and that block, Ready above the freed page, would lift the
     * static guard's watermark over it. */
    printf("unexpected-fault test\n");
    volatile char *p = sheap_malloc(100000);
    if (p == NULL)
        return 2;
    p[0] = 1;
    sheap_free((void *)p);
    sheap_trim();
    printf("storing to a page returned to the port at %p\n", (void *)p);
    p[0] = 2;
    return 3; /* must not get here */
}
