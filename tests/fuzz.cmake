# Fuzzing (docs/TESTING.md, "Fuzzing").
#
# With -DAG_FUZZ=ON -DAG_SANITIZE=ON -DCMAKE_C_COMPILER=clang (tests/fuzz/run.sh
# configures exactly that in build-fuzz): every tests/fuzz/fuzz_<module>_<what>.c
# becomes a libFuzzer executable linked against ag_<module> (and what that
# stands on), every ag_* library gets coverage instrumentation
# (-fsanitize=fuzzer-no-link, next to the ASan/UBSan flags AG_SANITIZE adds),
# and the target `fuzz` builds them all. Other configurations are untouched,
# except that the sanitized gcc build (AG_SANITIZE=ON, `make build-asan`)
# registers `tests/fuzz/run.sh short` as the ctest test fuzz/short, so
# `make test` fuzzes every target briefly once, in its ASan half.
option(AG_FUZZ "Build the libFuzzer targets in tests/fuzz (clang only)" OFF)

if(AG_FUZZ)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "AG_FUZZ=ON needs clang: -DCMAKE_C_COMPILER=clang")
  endif()
  if(NOT AG_SANITIZE)
    message(FATAL_ERROR "AG_FUZZ=ON needs AG_SANITIZE=ON (ASan/UBSan find what the fuzzer provokes)")
  endif()
  # Instrument every module library. The libraries are static, so they only
  # need the compile-time half (fuzzer-no-link); the fuzzer's main and
  # runtime come with -fsanitize=fuzzer on each target's own link. Warnings
  # clang raises and gcc does not are not this build's business (the normal
  # build keeps -Werror), so they do not stop the fuzzers.
  get_property(_ag_targets DIRECTORY ${CMAKE_SOURCE_DIR} PROPERTY BUILDSYSTEM_TARGETS)
  foreach(t ${_ag_targets})
    if(t MATCHES "^ag_[a-z]+$")
      get_target_property(_type ${t} TYPE)
      if(_type STREQUAL "STATIC_LIBRARY")
        target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link -Wno-error)
      endif()
    endif()
  endforeach()

  add_custom_target(fuzz)
  file(GLOB _fuzz_srcs CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_*.c)
  foreach(src ${_fuzz_srcs})
    get_filename_component(name ${src} NAME_WE)
    if(AG_FUZZ_PHISH AND name STREQUAL "fuzz_phish_email")
      continue() # tests/fuzz_phish.cmake defines it in that configuration
    endif()
    string(REGEX REPLACE "^fuzz_([a-z]+)_.*" "\\1" mod ${name})
    if(NOT TARGET ag_${mod})
      message(WARNING "fuzz: ${name}: no module ag_${mod}; skipped")
      continue()
    endif()
    get_target_property(_type ag_${mod} TYPE)
    if(NOT _type STREQUAL "STATIC_LIBRARY")
      message(STATUS "fuzz: ${name}: module ${mod} is left out of this build; skipped")
      continue()
    endif()
    add_executable(${name} ${src})
    target_link_libraries(${name} PRIVATE ag_${mod})
    target_compile_options(${name} PRIVATE -fsanitize=fuzzer -Wno-error)
    target_link_options(${name} PRIVATE -fsanitize=fuzzer)
    target_compile_definitions(${name} PRIVATE AG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
    add_dependencies(fuzz ${name})
  endforeach()
elseif(AG_SANITIZE)
  # Fuzz every target for FUZZ_SECONDS each (in its own clang build under this
  # build directory) and replay tests/fuzz/regressions; fails on any crash.
  add_test(NAME fuzz/short COMMAND ${CMAKE_SOURCE_DIR}/tests/fuzz/run.sh short)
  set_tests_properties(fuzz/short PROPERTIES LABELS fuzz TIMEOUT 1200
    ENVIRONMENT "FUZZ_BUILD=${CMAKE_BINARY_DIR}/fuzz;FUZZ_SECONDS=20")
endif()
