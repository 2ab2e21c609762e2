/*
 * board.c for "host": the board services that firmware boards implement in
 * their startup code (console, exit, instruction counter), here on top of the
 * host's libc.  See include/sheap_board.h for the contract.
 */
#define _GNU_SOURCE
#include <signal.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "sheap_board.h"

#ifndef MAP_FIXED_NOREPLACE
#define MAP_FIXED_NOREPLACE 0x100000
#endif

const char *sheap_board_name(void) { return "host"; }

void sheap_board_puts(const char *s) { fputs(s, stdout); }

_Noreturn void sheap_board_exit(int code)
{
    fflush(stdout);
    exit(code);
}

/* No guest counter on the host: instruction counts come from callgrind. */
bool sheap_board_has_icount(void) { return false; }
uint64_t sheap_board_icount(void) { return 0; }

/*
 * Expected faults (sheap_board.h), for the tests that overflow into memory
 * that is not Ready.  An armed SIGSEGV is recorded, and the page
 * at the fault address is made accessible (mprotect, or a fresh mapping when
 * nothing is mapped there) so that the access completes when the handler
 * returns; sheap_board_fault_taken puts the page back as it was (PROT_NONE,
 * its contents dropped, or unmapped).  An unarmed SIGSEGV gets the default
 * action: the program dies, as it should.
 */
static volatile sig_atomic_t fault_armed, fault_seen;
static volatile uintptr_t fault_addr, fault_page;
static volatile int fault_opened; /* 1: mprotect'ed, 2: mapped by us */

static void on_segv(int sig, siginfo_t *si, void *uc)
{
    (void)uc;
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    uintptr_t a = (uintptr_t)si->si_addr, page = a & ~(ps - 1);
    if (fault_armed) {
        fault_armed = 0;
        if (mprotect((void *)page, ps, PROT_READ | PROT_WRITE) == 0) {
            fault_opened = 1;
        } else if (mmap((void *)page, ps, PROT_READ | PROT_WRITE,
                        MAP_PRIVATE | MAP_ANONYMOUS | MAP_FIXED_NOREPLACE, -1, 0) == (void *)page) {
            fault_opened = 2;
        } else {
            signal(sig, SIG_DFL);
            return;
        }
        fault_seen = 1;
        fault_addr = a;
        fault_page = page;
        return;
    }
    signal(sig, SIG_DFL); /* re-executes the access: the default action */
}

static void trap_install(void)
{
    static bool installed;
    if (installed)
        return;
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_segv;
    sa.sa_flags = SA_SIGINFO;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGBUS, &sa, NULL);
    installed = true;
}

bool sheap_board_can_trap_faults(void)
{
    trap_install();
    return true;
}

void sheap_board_expect_fault(void)
{
    trap_install();
    fault_seen = 0;
    fault_armed = 1;
}

bool sheap_board_fault_taken(uintptr_t *addr)
{
    fault_armed = 0;
    bool seen = fault_seen;
    if (seen && addr)
        *addr = fault_addr;
    uintptr_t ps = (uintptr_t)sysconf(_SC_PAGESIZE);
    if (fault_opened == 1) {
        madvise((void *)fault_page, ps, MADV_DONTNEED);
        mprotect((void *)fault_page, ps, PROT_NONE);
    } else if (fault_opened == 2) {
        munmap((void *)fault_page, ps);
    }
    fault_opened = 0;
    fault_seen = 0;
    return seen;
}
