/*
 * main_rtos.c - an outside firmware program that brings its own thread
 * hooks (sheap_port.h, "Threads"), as an RTOS integration does: a task id
 * and a growth wait defined in the program's own object.  They must link
 * over whatever defaults the core or the port has (weak ones, never a
 * duplicate definition) and be the ones sheap calls: the first malloc runs
 * a growth section, which asks for the caller's task id.
 */
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>

#include "sheap.h"

static volatile unsigned task_id_calls;

uintptr_t sheap_port_task_id(void)
{
    task_id_calls++;
    return 0x5eed;
}

bool sheap_port_growth_wait(void)
{
    return false; /* one task: nobody to wait for */
}

int main(void)
{
    char *p = sheap_malloc(100);
    if (p == NULL)
        return 1;
    printf("outside build with its own thread hooks: task id asked %u times\n", task_id_calls);
    sheap_free(p);
    return task_id_calls == 0 || sheap_check() != 0;
}
