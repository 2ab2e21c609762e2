/*
 * sheap_new.cc - C++ operator new and delete, every replaceable form of
 * the standard library ([new.delete]: single and array; plain, nothrow,
 * aligned (C++17 std::align_val_t) and aligned nothrow; sized and aligned
 * delete), served by sheap.  Opt-in: libsheap_cxx.a, linked with
 * -Xlinker --undefined=sheap_cxx_operators before the C++ library (sheap.mk:
 * SHEAP_CXX=yes; CMake: sheap::cxx).  Forcing that symbol takes this one
 * object, and with it every form at once, before libsupc++ is searched, so
 * that no form comes from the C++ library's own new_op*.o, which would call
 * the C library's malloc.
 *
 * Behaviour:
 *   new (throwing)     sheap_malloc / sheap_aligned_alloc; on failure it
 *                      calls the installed std::new_handler and retries, as
 *                      the standard requires; with no handler it throws
 *                      std::bad_alloc.  Built with -fno-exceptions (no
 *                      __cpp_exceptions) it calls std::abort() there
 *                      instead, as libstdc++'s own operator new does.
 *   new (nothrow)      the same, but returns nullptr instead of throwing.
 *   new(0)             a unique minimum-size block (sheap_malloc(0)).
 *   aligned new        any power-of-two alignment up to the arena size
 *                      (include/sheap.h); beyond it, or not a power of
 *                      two, it fails as out of memory (bad_alloc/nullptr).
 *   delete             sheap_free; the size and alignment arguments of the
 *                      sized and aligned forms are not needed (sheap finds
 *                      the block from the pointer) and are ignored.
 *                      Deleting a pointer that is not a live block goes to
 *                      the fault hook, like free.
 */
#include <cstddef>
#include <cstdlib>
#include <new>

#include "sheap.h"

extern "C" {
/* The symbol the link forces (see above); never called. */
extern const char sheap_cxx_operators[];
const char sheap_cxx_operators[] = "sheap C++ operators";
}

namespace {

void *alloc_or_handle(std::size_t n, std::size_t align, bool nothrow)
{
    for (;;) {
        void *p = align <= alignof(std::max_align_t) ? sheap_malloc(n) : sheap_aligned_alloc(align, n);
        if (p != nullptr)
            return p;
        std::new_handler h = std::get_new_handler();
        if (h != nullptr) {
#if defined(__cpp_exceptions)
            if (nothrow) {
                try {
                    h();
                } catch (...) {
                    return nullptr;
                }
                continue;
            }
#endif
            h();
            continue;
        }
        if (nothrow)
            return nullptr;
#if defined(__cpp_exceptions)
        throw std::bad_alloc();
#else
        std::abort();
#endif
    }
}

} // namespace

void *operator new(std::size_t n) { return alloc_or_handle(n, 0, false); }
void *operator new[](std::size_t n) { return alloc_or_handle(n, 0, false); }
void *operator new(std::size_t n, const std::nothrow_t &) noexcept { return alloc_or_handle(n, 0, true); }
void *operator new[](std::size_t n, const std::nothrow_t &) noexcept { return alloc_or_handle(n, 0, true); }
void *operator new(std::size_t n, std::align_val_t a) { return alloc_or_handle(n, static_cast<std::size_t>(a), false); }
void *operator new[](std::size_t n, std::align_val_t a) { return alloc_or_handle(n, static_cast<std::size_t>(a), false); }
void *operator new(std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return alloc_or_handle(n, static_cast<std::size_t>(a), true);
}
void *operator new[](std::size_t n, std::align_val_t a, const std::nothrow_t &) noexcept
{
    return alloc_or_handle(n, static_cast<std::size_t>(a), true);
}

void operator delete(void *p) noexcept { sheap_free(p); }
void operator delete[](void *p) noexcept { sheap_free(p); }
void operator delete(void *p, const std::nothrow_t &) noexcept { sheap_free(p); }
void operator delete[](void *p, const std::nothrow_t &) noexcept { sheap_free(p); }
void operator delete(void *p, std::size_t) noexcept { sheap_free(p); }
void operator delete[](void *p, std::size_t) noexcept { sheap_free(p); }
void operator delete(void *p, std::align_val_t) noexcept { sheap_free(p); }
void operator delete[](void *p, std::align_val_t) noexcept { sheap_free(p); }
void operator delete(void *p, std::align_val_t, const std::nothrow_t &) noexcept { sheap_free(p); }
void operator delete[](void *p, std::align_val_t, const std::nothrow_t &) noexcept { sheap_free(p); }
void operator delete(void *p, std::size_t, std::align_val_t) noexcept { sheap_free(p); }
void operator delete[](void *p, std::size_t, std::align_val_t) noexcept { sheap_free(p); }
