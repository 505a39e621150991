# IosimPackage.cmake - find_package(iosim) for projects outside this tree.
#
# Two ways to use it (see README "Bring your own driver"):
#   build tree:  cmake -S mydriver -B mydriver/build -Diosim_DIR=<iosim>/build/dev
#   installed:   cmake --install build/dev --prefix /opt/iosim
#                cmake -S mydriver -B mydriver/build -DCMAKE_PREFIX_PATH=/opt/iosim
# Either way the project gets iosim_add_driver, iosim_add_app, iosim_add_exec_test and the
# imported program iosim::iosim.

# --- build tree ---
set(CONFIG_SHIM_DIR "${PROJECT_SOURCE_DIR}/shim")
set(CONFIG_MODULES_FILE "${PROJECT_SOURCE_DIR}/cmake/IosimModules.cmake")
set(CONFIG_IOSIM "${CMAKE_BINARY_DIR}/bin/iosim")
set(CONFIG_MODULE_DIR "${CMAKE_BINARY_DIR}/bin")
configure_file(cmake/iosimConfig.cmake.in "${CMAKE_BINARY_DIR}/iosimConfig.cmake" @ONLY)
write_basic_package_version_file("${CMAKE_BINARY_DIR}/iosimConfigVersion.cmake"
  VERSION ${PROJECT_VERSION} COMPATIBILITY SameMajorVersion)

# --- install tree (paths relative to the config file's own location) ---
include(GNUInstallDirs)
set(CONFIG_SHIM_DIR "\${CMAKE_CURRENT_LIST_DIR}/../../../${CMAKE_INSTALL_INCLUDEDIR}/iosim/shim")
set(CONFIG_MODULES_FILE "\${CMAKE_CURRENT_LIST_DIR}/IosimModules.cmake")
set(CONFIG_IOSIM "\${CMAKE_CURRENT_LIST_DIR}/../../../${CMAKE_INSTALL_BINDIR}/iosim")
set(CONFIG_MODULE_DIR "\${CMAKE_CURRENT_LIST_DIR}/../../../${CMAKE_INSTALL_LIBDIR}/iosim/modules")
configure_file(cmake/iosimConfig.cmake.in "${CMAKE_BINARY_DIR}/install/iosimConfig.cmake" @ONLY)

install(TARGETS iosim RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})
install(TARGETS iosim_kernel iosim_io LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY shim/ DESTINATION ${CMAKE_INSTALL_INCLUDEDIR}/iosim/shim)
install(FILES cmake/IosimModules.cmake "${CMAKE_BINARY_DIR}/install/iosimConfig.cmake"
              "${CMAKE_BINARY_DIR}/iosimConfigVersion.cmake"
        DESTINATION ${CMAKE_INSTALL_LIBDIR}/cmake/iosim)
