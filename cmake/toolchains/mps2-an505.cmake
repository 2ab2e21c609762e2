# Toolchain file for sheap's board mps2-an505: see cmake/sheap-toolchain.cmake.
set(SHEAP_BOARD mps2-an505 CACHE STRING "sheap board (boards/<name>)")
include("${CMAKE_CURRENT_LIST_DIR}/../sheap-toolchain.cmake")
