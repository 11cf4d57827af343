# SPDX-License-Identifier: MIT
# Runs one scenario and compares the exit status with its "# expect-exit: N"
# line (0 if absent); "# expect-output: TEXT" lines must appear in the output;
# "# args: OPTIONS" are passed to `zonedev run` before the file.
file(STRINGS ${ZDS} expect_exit_line REGEX "^# expect-exit: [0-9]+")
set(want 0)
if(expect_exit_line)
  string(REGEX REPLACE "^# expect-exit: ([0-9]+).*" "\\1" want "${expect_exit_line}")
endif()
# "# args: ..." gives extra options for `zonedev run`.
file(STRINGS ${ZDS} args_line REGEX "^# args: ")
set(extra "")
if(args_line)
  string(REGEX REPLACE "^# args: " "" args_text "${args_line}")
  separate_arguments(extra UNIX_COMMAND "${args_text}")
endif()
execute_process(COMMAND ${CLI} run ${extra} ${ZDS} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
message("${out}${err}")
if(NOT rc EQUAL want)
  message(FATAL_ERROR "${ZDS}: exit status ${rc}, expected ${want}")
endif()
file(STRINGS ${ZDS} expect_out_lines REGEX "^# expect-output: ")
foreach(line ${expect_out_lines})
  string(REGEX REPLACE "^# expect-output: " "" text "${line}")
  string(FIND "${out}${err}" "${text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${ZDS}: output lacks \"${text}\"")
  endif()
endforeach()
