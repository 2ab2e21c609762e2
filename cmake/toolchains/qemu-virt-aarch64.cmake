# Toolchain file for sheap's board qemu-virt-aarch64: see cmake/sheap-toolchain.cmake.
set(SHEAP_BOARD qemu-virt-aarch64 CACHE STRING "sheap board (boards/<name>)")
include("${CMAKE_CURRENT_LIST_DIR}/../sheap-toolchain.cmake")
