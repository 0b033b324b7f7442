# The analyst console (web/): bundled by esbuild at build time and embedded
# into the binary through a generated C file in the ag_console module, so
# `serve` needs no files beside it. Rebuilt when anything under web/src, the
# build script or the lock file changes. Included from CMakeLists.txt.
set(AG_CONSOLE_OUT ${CMAKE_BINARY_DIR}/console)
set(AG_CONSOLE_C ${CMAKE_BINARY_DIR}/generated/console_assets.c)
file(GLOB_RECURSE ag_console_web_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/web/src/*)
add_custom_command(
  OUTPUT ${AG_CONSOLE_C}
  COMMAND sh ${CMAKE_SOURCE_DIR}/web/build.sh ${AG_CONSOLE_OUT} ${AG_CONSOLE_C}
  DEPENDS ${ag_console_web_srcs} ${CMAKE_SOURCE_DIR}/web/build.mjs
          ${CMAKE_SOURCE_DIR}/web/build.sh ${CMAKE_SOURCE_DIR}/web/package.json
          ${CMAKE_SOURCE_DIR}/web/package-lock.json
  COMMENT "Building the analyst console (web/)"
  VERBATIM)
if(NOT console IN_LIST AG_SKIP_MODULES)
  target_sources(ag_console PRIVATE ${AG_CONSOLE_C})
endif()
