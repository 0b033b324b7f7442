# Phishing analyzer: the extra libraries src/phish/ uses beyond the module
# table's line (PCRE2 for patterns, libcurl's URL API, libxml2's HTML
# parser), and ag_phish_tool, the standalone trainer/benchmark behind
# `make train-phish` and `make bench-phish` (it links ag_phish only, so it
# builds while the rest of the binary is in progress).
pkg_check_modules(LIBXML2 REQUIRED IMPORTED_TARGET libxml-2.0)
if(TARGET ag_phish)
  get_target_property(_ag_phish_type ag_phish TYPE)
  if(_ag_phish_type STREQUAL "STATIC_LIBRARY")
    target_link_libraries(ag_phish PUBLIC PkgConfig::LIBPCRE2_8 PkgConfig::LIBCURL
                          PkgConfig::LIBXML2 ${M_LIB})
    add_executable(ag_phish_tool ${CMAKE_SOURCE_DIR}/bench/phish_tool.c)
    target_link_libraries(ag_phish_tool PRIVATE ag_phish)
  endif()
endif()
