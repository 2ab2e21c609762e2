/*
 * main.c - tests/cmake's C firmware: malloc and the C library's strdup
 * land in sheap (through sheap::libc), and the heap is consistent.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "sheap.h"

int main(void)
{
    struct sheap_stats a, b;
    sheap_stats(&a);
    char *p = malloc(100);
    char *s = strdup("cmake consumer");
    sheap_stats(&b);
    if (p == NULL || s == NULL || sheap_usable_size(s) == 0 || b.live_blocks != a.live_blocks + 2)
        return 1;
    printf("cmake consumer: malloc and strdup from sheap (+%u blocks)\n", (unsigned)(b.live_blocks - a.live_blocks));
    free(s);
    free(p);
    return sheap_check();
}
