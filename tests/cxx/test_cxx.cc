/*
 * test_cxx.cc - C++ over sheap (bindings/cxx/sheap_new.cc, libsheap_cxx.a):
 * every form of operator new and delete reaches sheap (sheap_stats deltas,
 * sheap_usable_size knows the block), the standard containers churn
 * through it and give everything back, aligned new honours the alignment,
 * and failure follows the standard: the new_handler is called and retried,
 * then std::bad_alloc (nothrow forms: nullptr).
 *
 * Built only through build/<board>/sheap.mk with SHEAP_CXX=yes
 * (tests/cxx/Makefile), as an outside firmware would be; runs on the host
 * (g++, glibc) and on mps2-an385 with picolibc and with newlib (the cross
 * g++ and the matching libstdc++).
 */
#include <cstdint>
#include <cstdio>
#include <map>
#include <new>
#include <string>
#include <vector>

extern "C" {
#include "harness.h"
}
#include "sheap.h"
#include "sheap_config.h"

namespace {

/* A size no heap can satisfy, hidden from the compiler, and below the
 * largest object size, for which g++ throws std::bad_array_new_length from
 * the new-expression itself (even for the nothrow form) before any
 * operator new is called. */
volatile std::size_t huge = SIZE_MAX / 4;

bool aligned(const void *p, std::size_t a) { return (reinterpret_cast<std::uintptr_t>(p) & (a - 1)) == 0; }

/* Keeps the compiler from eliding a new/delete pair (C++14 allows it). */
void *volatile sink;

struct alignas(256) Page {
    unsigned char b[300];
};

struct Sized {
    std::uint64_t v[5];
};

void report(const char *what, const struct sheap_stats &a, const struct sheap_stats &b)
{
    std::printf("  %-30s live_blocks %+ld, live_bytes %+ld\n", what, (long)(b.live_blocks - a.live_blocks),
                (long)(b.live_bytes - a.live_bytes));
}

void test_every_form_reaches_sheap()
{
    struct sheap_stats a = stats_now();
    int *p = new int(7);
    sink = p;
    CHECK(sheap_usable_size(p) >= sizeof(int));
    int *v = new int[100];
    sink = v;
    CHECK(sheap_usable_size(v) >= 100 * sizeof(int));
    int *n = new (std::nothrow) int(3);
    int *nv = new (std::nothrow) int[10];
    CHECK(n != nullptr && nv != nullptr);
    CHECK(sheap_usable_size(n) > 0 && sheap_usable_size(nv) > 0);
    Page *pg = new Page;     /* aligned new (align_val_t) */
    Page *pgv = new Page[3]; /* aligned new[] */
    Page *pgn = new (std::nothrow) Page;
    Page *pgnv = new (std::nothrow) Page[2];
    CHECK(pgn != nullptr && pgnv != nullptr);
    CHECK(aligned(pg, 256) && aligned(pgv, 256) && aligned(pgn, 256) && aligned(pgnv, 256));
    CHECK(sheap_usable_size(pgv) >= 3 * sizeof(Page));
    Sized *s = new Sized(); /* deleted by the sized form */
    CHECK_EQ(s->v[4], 0);
    struct sheap_stats b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks + 9);
    report("9 objects, every new form:", a, b);
    delete p;
    delete[] v;
    operator delete(n, std::nothrow);
    operator delete[](nv, std::nothrow);
    delete pg;
    delete[] pgv;
    operator delete(pgn, std::align_val_t(alignof(Page)), std::nothrow);
    operator delete[](pgnv, std::align_val_t(alignof(Page)), std::nothrow);
    ::operator delete(s, sizeof *s);
    b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks);
    CHECK_EQ(b.live_bytes, a.live_bytes);
    void *raw = ::operator new(64, std::align_val_t(4096));
    CHECK(aligned(raw, 4096));
    ::operator delete(raw, 64, std::align_val_t(4096));
    raw = ::operator new[](40, std::align_val_t(64));
    CHECK(aligned(raw, 64));
    ::operator delete[](raw, 40, std::align_val_t(64));
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

/* Elements added per round: fewer on a board that lets the tests use
 * little RAM (board.h SHEAP_TEST_RAM_BYTES; mps2-an385-small: 64 KB). */
#if defined(SHEAP_TEST_RAM_BYTES) && SHEAP_TEST_RAM_BYTES < (1u << 20)
const int per_round = 40;
#else
const int per_round = 200;
#endif

void test_containers_churn()
{
    struct sheap_stats a = stats_now();
    {
        std::vector<std::string> words;
        std::map<int, std::string> m;
        for (int round = 0; round < 20; round++) {
            for (int i = 0; i < per_round; i++) {
                words.push_back(std::string(static_cast<std::size_t>(i % 50 + 20), char('a' + i % 26)));
                m[i * 7 + round] = words.back() + " in a map node, long enough to leave the SSO buffer";
            }
            struct sheap_stats mid = stats_now();
            CHECK(mid.live_blocks > a.live_blocks + static_cast<std::size_t>(per_round));
            if (round == 0)
                report("vector+map, one round:", a, mid);
            words.erase(words.begin(), words.begin() + per_round * 3 / 4);
            for (auto it = m.begin(); it != m.end();)
                it = (it->first % 3 == 0) ? m.erase(it) : std::next(it);
        }
        CHECK(words.size() == 20u * static_cast<std::size_t>(per_round - per_round * 3 / 4));
        CHECK(words.back().size() == static_cast<std::size_t>((per_round - 1) % 50 + 20));
    }
    struct sheap_stats b = stats_now();
    CHECK_EQ(b.live_blocks, a.live_blocks);
    CHECK_EQ(b.live_bytes, a.live_bytes);
}

#if defined(__cpp_exceptions)
unsigned handler_calls;
void giving_up_handler()
{
    handler_calls++;
    std::set_new_handler(nullptr); /* the next failure throws */
}
#endif

void test_failure()
{
    struct sheap_stats a = stats_now();
    int *n = new (std::nothrow) int[huge / sizeof(int)];
    CHECK(n == nullptr);
    Page *pn = new (std::nothrow) Page[huge / sizeof(Page)];
    CHECK(pn == nullptr);
#if defined(__cpp_exceptions)
    bool threw = false;
    try {
        sink = new char[huge];
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    threw = false;
    try {
        sink = ::operator new(huge, std::align_val_t(64));
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    /* The handler runs once, removes itself, and the retry throws. */
    handler_calls = 0;
    std::set_new_handler(giving_up_handler);
    threw = false;
    try {
        sink = new char[huge];
    } catch (const std::bad_alloc &) {
        threw = true;
    }
    CHECK(threw);
    CHECK_EQ(handler_calls, 1);
    CHECK(std::get_new_handler() == nullptr);
    std::printf("  new of %zu bytes: new_handler called once, then std::bad_alloc\n", (std::size_t)huge);
#else
    std::printf("  built without exceptions: failing throwing new aborts (not exercised)\n");
#endif
    CHECK_EQ(stats_now().live_blocks, a.live_blocks);
}

void test_heap_consistent() { CHECK_HEAP(); }

} // namespace

int main()
{
    std::printf("C++ operators on %s\n", SHEAP_BOARD_NAME);
    RUN(test_every_form_reaches_sheap);
    RUN(test_containers_churn);
    RUN(test_failure);
    RUN(test_heap_consistent);
    return harness_finish("cxx");
}
