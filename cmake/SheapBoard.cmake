# SheapBoard.cmake - reads one board's settings from sheap's Makefile, the
# one place where they live (boards/<b>/board.mk and the Makefile), so that
# the CMake build never restates a flag or a source list:
#   sheap_read_board(<source dir> <board> <flavour> <libc>)
# runs `make -s -C <source dir> BOARD=<board> [FLAVOR=] [LIBC=] print-cmake`
# and sets, in the caller's scope, SHEAP_MK_* (strings, as the Makefile has
# them): CC, CXX, ARCH_CFLAGS, ARCH_LDFLAGS, CORE_CFLAGS, PORT_CFLAGS, WARN,
# PORT, CORE_SRC, PORT_SRC, BOARD_SRC, LIBC_SRC, CXX_SRC, LIBC_NAME,
# LIBC_DEFAULT, QEMU.  It writes nothing in the source tree.  Needs GNU
# make on the configuring machine.
function(sheap_read_board src board flavor libc)
  find_program(SHEAP_MAKE NAMES gmake make REQUIRED)
  set(args -s --no-print-directory -C "${src}" "BOARD=${board}")
  if(flavor)
    list(APPEND args "FLAVOR=${flavor}")
  endif()
  if(libc)
    list(APPEND args "LIBC=${libc}")
  endif()
  execute_process(COMMAND "${SHEAP_MAKE}" ${args} print-cmake
                  OUTPUT_VARIABLE out ERROR_VARIABLE err RESULT_VARIABLE rc)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "sheap: reading board '${board}' from ${src}/Makefile failed:\n${err}")
  endif()
  string(SHA1 tag "${out}")
  set(file "${CMAKE_BINARY_DIR}/CMakeFiles/sheap-board-${tag}.cmake")
  file(WRITE "${file}" "${out}")
  include("${file}")
  foreach(v BOARD FLAVOR LIBC LIBC_NAME LIBC_DEFAULT CC CXX ARCH_CFLAGS ARCH_LDFLAGS LDLIBS CORE_CFLAGS
            PORT_CFLAGS WARN PORT CORE_SRC PORT_SRC BOARD_SRC LIBC_SRC CXX_SRC QEMU)
    set(SHEAP_MK_${v} "${SHEAP_MK_${v}}" PARENT_SCOPE)
  endforeach()
endfunction()
