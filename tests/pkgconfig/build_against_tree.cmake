# SPDX-License-Identifier: MIT
# Build tests/pkgconfig/hello.c with `pkg-config --cflags --libs zonedev`
# and PKG_CONFIG_PATH set to the build tree only, then run it.
# Inputs: -DBUILD=<build dir> -DSRC=<hello.c> -DCC=<C compiler>.
set(ENV{PKG_CONFIG_PATH} "${BUILD}")
execute_process(COMMAND pkg-config --cflags --libs zonedev
                OUTPUT_VARIABLE flags RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config zonedev failed (${rc})")
endif()
separate_arguments(flags UNIX_COMMAND "${flags}")
set(exe ${BUILD}/tests/pkgconfig-hello)
execute_process(COMMAND ${CC} -std=c11 -D_GNU_SOURCE ${SRC} -o ${exe} ${flags}
                RESULT_VARIABLE rc)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "compiling against the tree failed: ${CC} ${SRC} ${flags}")
endif()
execute_process(COMMAND ${exe} OUTPUT_VARIABLE out RESULT_VARIABLE rc)
if(NOT rc EQUAL 0 OR NOT out STREQUAL "hello\n")
  message(FATAL_ERROR "the program built against the tree failed: ${rc} '${out}'")
endif()
message(STATUS "built and ran against the tree with: ${flags}")
