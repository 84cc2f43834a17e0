# Fault injection (issue 14): tests/fault/walk.sh fails, one at a time,
# every device buffer allocation, program build, file write and rename of a
# tiny sweep (CLSCALE_FAIL, src/core/fault.h) and checks the message, the
# exit code and that the run directory resumes to the uninterrupted losses.
# One test per kind, so that ctest runs them side by side. The own matmul
# backend: the same kernels in every process, so losses compare bit for bit.
foreach(kind alloc build write rename)
  add_test(NAME fault_walk_${kind} COMMAND sh ${CMAKE_CURRENT_SOURCE_DIR}/fault/walk.sh ${kind} $<TARGET_FILE:clscale>
                                          ${PROJECT_BINARY_DIR}/test-tmp/fault-${kind} --matmul-backend own)
  set_tests_properties(fault_walk_${kind} PROPERTIES LABELS fault ENVIRONMENT
                                                     "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache;CLSCALE_PER_DEVICE=1" TIMEOUT 900)
endforeach()
