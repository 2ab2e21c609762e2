/*
 * main.c - an unexpected fault must stop the firmware with a report and a
 * non-zero exit status (tools/run_fault_test.sh checks both).  It touches a
 * heap page after handing it back to the port, which on an MMU board has no
 * translation any more.
 */
#include <stdio.h>

#include "sheap.h"

int main(void)
{
    volatile char *p = sheap_malloc(100000);
    if (p == NULL)
        return 2;
    p[0] = 1;
    sheap_free((void *)p);
    sheap_trim();
    printf("touching a page returned to the port at %p\n", (void *)p);
    return p[0] == 1 ? 0 : 3; /* must not get here */
}
