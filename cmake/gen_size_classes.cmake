# gen_size_classes.cmake - script mode (cmake -P): the CMake build's form of
# the Makefile's rule for sheap_size_classes.h.  Preprocesses the two
# geometry macros of sheap_config.h with the target's compiler and flags,
# then runs tools/gen_size_classes.py on them.
#   -DCC=<compiler> -DFLAGS=<flags separated by |> -DSRC=<sheap source> -DBOARD_DIR=<dir>
#   -DPYTHON=<python3> -DOUT=<header>
string(REPLACE "|" ";" FLAGS "${FLAGS}")
get_filename_component(dir "${OUT}" DIRECTORY)
file(MAKE_DIRECTORY "${dir}")
file(WRITE "${dir}/geometry.c" "#include \"sheap_config.h\"\nSHEAP_PAGE_SHIFT SHEAP_MAX_SMALL_SIZE\n")
execute_process(COMMAND "${CC}" ${FLAGS} -I${SRC}/include -I${BOARD_DIR} "-DSHEAP_BOARD_HEADER=\"board.h\""
                        -E -P -x c "${dir}/geometry.c"
                OUTPUT_VARIABLE pp RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "preprocessing the geometry failed")
endif()
string(STRIP "${pp}" pp)
string(REGEX REPLACE ".*\n" "" pp "${pp}")
execute_process(COMMAND "${PYTHON}" "${SRC}/tools/gen_size_classes.py" --cpp "${pp}" "${OUT}" RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "tools/gen_size_classes.py failed")
endif()
