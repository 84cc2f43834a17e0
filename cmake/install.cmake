# cmake/install.cmake — `cmake --install BUILD [--prefix P]` puts in place,
# as CLBlast does: the clscale command, libclscale (shared and static), the
# public headers, a CMake package (find_package(clscale) gives the imported
# targets clscale::clscale and clscale::clscale_static) and a pkg-config file
# (pkg-config --cflags --libs clscale; add --static for the static library).
# tests/install.cmake builds a program against the installed package both ways.
include(CMakePackageConfigHelpers)

set(CLS_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/clscale)
install(TARGETS clscale RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS clscale_static clscale_shared EXPORT clscaleTargets
        ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
        LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
        RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(DIRECTORY include/clscale DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(EXPORT clscaleTargets NAMESPACE clscale:: DESTINATION ${CLS_CMAKE_DIR})

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/clscaleConfig.cmake.in
                              ${PROJECT_BINARY_DIR}/clscaleConfig.cmake INSTALL_DESTINATION ${CLS_CMAKE_DIR})
write_basic_package_version_file(${PROJECT_BINARY_DIR}/clscaleConfigVersion.cmake VERSION ${PROJECT_VERSION}
                                 COMPATIBILITY SameMajorVersion)
install(FILES ${PROJECT_BINARY_DIR}/clscaleConfig.cmake ${PROJECT_BINARY_DIR}/clscaleConfigVersion.cmake
        DESTINATION ${CLS_CMAKE_DIR})

# pkg-config: the shared library needs nothing more at link time; the static
# one needs the libraries clscale itself links (Requires.private / Libs.private).
file(RELATIVE_PATH CLS_PC_TO_PREFIX /prefix/${CMAKE_INSTALL_LIBDIR}/pkgconfig /prefix)
configure_file(${PROJECT_SOURCE_DIR}/cmake/clscale.pc.in ${PROJECT_BINARY_DIR}/clscale.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/clscale.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
