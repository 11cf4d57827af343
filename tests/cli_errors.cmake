# SPDX-License-Identifier: MIT
# The command line's own I/O errors name their real cause, and a trace that
# cannot be written fails the run. Run with -DCLI=... -DSRC=<source dir>.
function(expect_run want text)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL want)
    message(FATAL_ERROR "${ARGN}: exit status ${rc}, expected ${want}\n${out}${err}")
  endif()
  string(FIND "${out}${err}" "${text}" pos)
  if(pos EQUAL -1)
    message(FATAL_ERROR "${ARGN}: output lacks \"${text}\":\n${out}${err}")
  endif()
endfunction()

# A directory as the scenario: EISDIR, not EIO.
expect_run(2 "cannot read ${SRC}/tests: Is a directory" ${CLI} run ${SRC}/tests)
# Standard input closed: EBADF.
expect_run(2 "cannot read <stdin>: Bad file descriptor" sh -c "exec \"$0\" run - <&-" ${CLI})
# A trace that cannot be written (a full device) fails the run.
if(EXISTS /dev/full)
  expect_run(1 "cannot write the trace to /dev/full: No space left on device"
             ${CLI} run --trace /dev/full ${SRC}/examples/tour.zds)
endif()
# A missing file names ENOENT.
expect_run(2 "No such file or directory" ${CLI} run ${SRC}/tests/no-such-scenario.zds)
