/*
 * main.c - tests/minimal: a firmware with its own start-up and console
 * (startup.c) and no printf, linked with libsheap.a only (no libboard.a, no
 * C library binding).  Built twice by tests/minimal/Makefile: with
 * -DUSE_HEAP it calls sheap_malloc, sheap_realloc and sheap_free, without
 * it does the same work on a static buffer; the size difference of the two
 * images is what sheap costs such a firmware (tools/run_minimal_test.sh).
 */
#include <stdint.h>
#include <string.h>

#include "fw.h"
#ifdef USE_HEAP
#include "sheap.h"
#endif

static void say(const char *s) { fw_console_write(s, strlen(s)); }

int main(void)
{
#ifdef USE_HEAP
    char *p = sheap_malloc(40);
    if (p == NULL)
        return 2;
    memcpy(p, "minimal firmware: ", 19);
    char *q = sheap_realloc(p, 5000);
    if (q == NULL)
        return 3;
    say(q);
    say("malloc, realloc, free from sheap\n");
    sheap_free(q);
#else
    static char buf[5000];
    memcpy(buf, "minimal firmware: ", 19);
    say(buf);
    say("no heap\n");
#endif
    return 0;
}
