# install + export: find_package(concur) -> concur::concur, and a pkg-config file.
include(CMakePackageConfigHelpers)

install(TARGETS concur EXPORT concurTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR}
  INCLUDES DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
install(DIRECTORY ${PROJECT_SOURCE_DIR}/include/concur DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}
  FILES_MATCHING PATTERN "*.hpp")
if(TARGET concur_mpi)
  install(TARGETS concur_mpi EXPORT concurTargets
    ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
    LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
endif()
# The sanitizer interface targets are build-only ($<BUILD_INTERFACE:...>) and never exported.
install(EXPORT concurTargets NAMESPACE concur:: DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/concur)

configure_package_config_file(${PROJECT_SOURCE_DIR}/cmake/concurConfig.cmake.in
  ${PROJECT_BINARY_DIR}/concurConfig.cmake
  INSTALL_DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/concur)
write_basic_package_version_file(${PROJECT_BINARY_DIR}/concurConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES ${PROJECT_BINARY_DIR}/concurConfig.cmake ${PROJECT_BINARY_DIR}/concurConfigVersion.cmake
  DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/concur)

configure_file(${PROJECT_SOURCE_DIR}/cmake/concur.pc.in ${PROJECT_BINARY_DIR}/concur.pc @ONLY)
install(FILES ${PROJECT_BINARY_DIR}/concur.pc DESTINATION ${CMAKE_INSTALL_LIBDIR}/pkgconfig)
