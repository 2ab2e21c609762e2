/*
 * main.c - an outside firmware program: it knows nothing of sheap's build
 * and links through build/<board>/sheap.mk only (tests/link/Makefile).
 */
#include <stdio.h>

#include "sheap.h"

int main(void)
{
    char *p = sheap_malloc(100);
    if (p == NULL)
        return 1;
    snprintf(p, 100, "outside build: sheap block at %p", (void *)p);
    puts(p);
    sheap_free(p);
    return sheap_check();
}
