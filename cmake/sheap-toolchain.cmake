# sheap-toolchain.cmake - the toolchain of one of sheap's shipped boards,
# included by cmake/toolchains/<board>.cmake after it sets SHEAP_BOARD (and
# optionally SHEAP_FLAVOR, SHEAP_LIBC, read from the environment of the
# same names when the cache does not have them).  The compiler and the
# board's compile and link flags (crt0, linker script) come from the
# board's board.mk through cmake/SheapBoard.cmake: nothing is restated.
#   cmake -S firmware -B out -DCMAKE_TOOLCHAIN_FILE=<sheap>/cmake/toolchains/mps2-an385.cmake
# A firmware with its own toolchain file does not need this one: sheap's
# CMakeLists.txt compiles with whatever compiler and flags it is given.
get_filename_component(_sheap_src "${CMAKE_CURRENT_LIST_DIR}/.." ABSOLUTE)
include("${CMAKE_CURRENT_LIST_DIR}/SheapBoard.cmake")
if(NOT DEFINED SHEAP_FLAVOR AND DEFINED ENV{SHEAP_FLAVOR})
  set(SHEAP_FLAVOR "$ENV{SHEAP_FLAVOR}")
endif()
if(NOT DEFINED SHEAP_LIBC AND DEFINED ENV{SHEAP_LIBC})
  set(SHEAP_LIBC "$ENV{SHEAP_LIBC}")
endif()
sheap_read_board("${_sheap_src}" "${SHEAP_BOARD}" "${SHEAP_FLAVOR}" "${SHEAP_LIBC}")

set(CMAKE_SYSTEM_NAME Generic)
set(CMAKE_C_COMPILER "${SHEAP_MK_CC}")
find_program(_sheap_cxx "${SHEAP_MK_CXX}")
if(_sheap_cxx) # not every cross gcc here comes with a g++
  set(CMAKE_CXX_COMPILER "${SHEAP_MK_CXX}")
endif()
# The compiler alone cannot link an image without the board's flags:
# check it by building a static library.
set(CMAKE_TRY_COMPILE_TARGET_TYPE STATIC_LIBRARY)
set(CMAKE_C_FLAGS_INIT "${SHEAP_MK_ARCH_CFLAGS}")
set(CMAKE_CXX_FLAGS_INIT "${SHEAP_MK_ARCH_CFLAGS}")
set(CMAKE_EXE_LINKER_FLAGS_INIT "${SHEAP_MK_ARCH_LDFLAGS}")
# How to boot an image of this board under QEMU (a list; the image last).
separate_arguments(SHEAP_QEMU UNIX_COMMAND "${SHEAP_MK_QEMU}")
