# The installed package (cmake/install.cmake), used as an outside project
# would: installed into the build tree, then a program built against it with
# find_package and with pkg-config, shared and static, and run.
add_test(NAME install_consumer
         COMMAND ${CMAKE_CURRENT_SOURCE_DIR}/install/check.sh ${PROJECT_BINARY_DIR} ${PROJECT_BINARY_DIR}/install-test
                 ${CMAKE_C_COMPILER})
set_tests_properties(install_consumer PROPERTIES ENVIRONMENT "CLSCALE_CACHE_DIR=${PROJECT_BINARY_DIR}/test-cache"
                                                 TIMEOUT 600 LABELS install)
