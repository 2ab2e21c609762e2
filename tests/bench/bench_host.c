/*
 * bench_host.c - host throughput of the benchmark workloads (make bench).
 *
 *   bench_host ALLOC WORKLOAD SCALE
 *
 * runs one workload (tests/bench/workloads.c, the same source as on the
 * target, step counts times SCALE) on one allocator in a fresh process and
 * prints
 *   HOST <alloc> <workload> calls=<n> ns=<CPU time of the run>
 * ALLOC is sheap (hosted port), glibc (the C library's malloc), mimalloc
 * (mi_malloc, mi_free, mi_realloc) or jemalloc (mallocx, dallocx, rallocx).
 * mimalloc is loaded with dlopen(RTLD_LOCAL): it defines malloc too, and
 * linking it would replace glibc's in the whole process.  jemalloc cannot be
 * dlopened (initial-exec TLS), so its runs are separate processes started
 * with LD_PRELOAD=libjemalloc.so.2 (tools/bench_host.sh), and mallocx & co.
 * are looked up in the global scope; a run without the preload refuses to
 * start.  Every allocator is called through the same function pointers.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "sheap.h"
#include "workloads.h"

void *bench_do_malloc(struct bench_run *r, size_t n) { return r->a->malloc(n); }
void bench_do_free(struct bench_run *r, void *p) { r->a->free(p); }
void *bench_do_realloc(struct bench_run *r, void *p, size_t n) { return r->a->realloc(p, n); }
void bench_tick(struct bench_run *r) { (void)r; }

static void *(*je_mallocx)(size_t, int);
static void (*je_dallocx)(void *, int);
static void *(*je_rallocx)(void *, size_t, int);
static void *je_malloc(size_t n) { return je_mallocx(n, 0); }
static void je_free(void *p) { je_dallocx(p, 0); }
static void *je_realloc(void *p, size_t n) { return je_rallocx(p, n, 0); }

static void *need(void *lib, const char *sym)
{
    void *f = dlsym(lib, sym);
    if (!f) {
        fprintf(stderr, "bench_host: %s: %s\n", sym, dlerror());
        exit(2);
    }
    return f;
}

static void *open_lib(const char *name)
{
    void *lib = dlopen(name, RTLD_NOW | RTLD_LOCAL);
    if (!lib) {
        fprintf(stderr, "bench_host: %s\n", dlerror());
        exit(2);
    }
    return lib;
}

static struct bench_alloc pick(const char *name)
{
    struct bench_alloc a = {name, NULL, NULL, NULL, NULL, NULL};
    if (!strcmp(name, "sheap")) {
        a.malloc = sheap_malloc, a.free = sheap_free, a.realloc = sheap_realloc;
    } else if (!strcmp(name, "glibc")) {
        a.malloc = malloc, a.free = free, a.realloc = realloc;
    } else if (!strcmp(name, "mimalloc")) {
        void *lib = open_lib("libmimalloc.so.2");
        a.malloc = (void *(*)(size_t))need(lib, "mi_malloc");
        a.free = (void (*)(void *))need(lib, "mi_free");
        a.realloc = (void *(*)(void *, size_t))need(lib, "mi_realloc");
    } else if (!strcmp(name, "jemalloc")) {
        void *lib = RTLD_DEFAULT;
        je_mallocx = (void *(*)(size_t, int))need(lib, "mallocx");
        je_dallocx = (void (*)(void *, int))need(lib, "dallocx");
        je_rallocx = (void *(*)(void *, size_t, int))need(lib, "rallocx");
        a.malloc = je_malloc, a.free = je_free, a.realloc = je_realloc;
    } else {
        fprintf(stderr, "bench_host: unknown allocator %s\n", name);
        exit(2);
    }
    return a;
}

int main(int argc, char **argv)
{
    if (argc != 4) {
        fprintf(stderr, "usage: bench_host sheap|glibc|mimalloc|jemalloc WORKLOAD SCALE\n");
        return 2;
    }
    struct bench_alloc a = pick(argv[1]);
    const struct bench_workload *w = NULL;
    for (unsigned i = 0; i < bench_nworkloads; i++)
        if (!strcmp(argv[2], bench_workloads[i].name))
            w = &bench_workloads[i];
    if (!w) {
        fprintf(stderr, "bench_host: unknown workload %s\n", argv[2]);
        return 2;
    }
    struct bench_run r;
    struct timespec t0, t1;
    bench_run_init(&r, &a, (unsigned)atoi(argv[3]));
    /* The process's CPU time (user + system, page faults included): other
     * load on a shared machine shows less in it than in wall-clock time. */
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t0);
    w->run(&r);
    clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &t1);
    if (r.failed) {
        fprintf(stderr, "bench_host: %s %s: an allocation failed\n", a.name, w->name);
        return 1;
    }
    long long ns = (long long)(t1.tv_sec - t0.tv_sec) * 1000000000LL + (t1.tv_nsec - t0.tv_nsec);
    printf("HOST %s %s calls=%lu ns=%lld\n", a.name, w->name, r.calls, ns);
    return 0;
}
