/*
 * main.cc - tests/cmake's C++ firmware: std::string and std::vector
 * allocate through sheap::cxx's operator new.
 */
#include <cstdio>
#include <string>
#include <vector>

#include "sheap.h"

int main()
{
    struct sheap_stats a, b;
    sheap_stats(&a);
    {
        std::vector<std::string> v(10, std::string(100, 'x'));
        sheap_stats(&b);
        if (b.live_blocks < a.live_blocks + 11)
            return 1;
    }
    sheap_stats(&b);
    if (b.live_blocks != a.live_blocks)
        return 2;
    std::printf("cmake consumer: C++ containers from sheap\n");
    return sheap_check();
}
