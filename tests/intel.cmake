# tests/intel.cmake - the device and op tests a second time, on Intel's
# OpenCL CPU runtime (PyPI intel-opencl-rt; tools/intel-opencl.sh installs
# it and runs each test on it through an ICD folder of this build). Label
# intel; each test is skipped, with the reason, where the runtime could not
# be installed.
#
#   ctest --test-dir BUILD -L intel
#
# Included from tests/CMakeLists.txt, so PROJECT_SOURCE_DIR is the
# repository root.

# The op tests are those of the Oclgrind gate (CLS_OG_OP_TESTS).
include(${CMAKE_CURRENT_LIST_DIR}/oclgrind.cmake)

set(CLS_INTEL_TESTS test_device ${CLS_OG_OP_TESTS} test_matmul_auto test_cholesky test_rf)
set(CLS_INTEL_ENV "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/intel-cache;CLSCALE_TEST_TMP=${PROJECT_BINARY_DIR}/test-tmp")
foreach(t ${CLS_INTEL_TESTS})
  add_test(NAME intel_${t} COMMAND sh ${PROJECT_SOURCE_DIR}/tools/intel-opencl.sh run ${PROJECT_BINARY_DIR}/intel-icd
                                   $<TARGET_FILE:${t}>)
  set_tests_properties(intel_${t} PROPERTIES LABELS intel SKIP_RETURN_CODE 77 TIMEOUT 900 ENVIRONMENT
                                             "${CLS_INTEL_ENV}")
endforeach()
