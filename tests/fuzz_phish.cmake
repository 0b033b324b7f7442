# libFuzzer target for the phishing analyzer (tests/fuzz/fuzz_phish_email.c).
# Off unless -DAG_FUZZ_PHISH=ON with clang, so the normal gcc build is
# untouched; tests/fuzz/fuzz_phish.sh configures and runs it.
option(AG_FUZZ_PHISH "Build the phishing analyzer's libFuzzer target (clang)" OFF)
if(AG_FUZZ_PHISH)
  if(NOT CMAKE_C_COMPILER_ID MATCHES "Clang")
    message(FATAL_ERROR "AG_FUZZ_PHISH needs clang (CC=clang)")
  endif()
  foreach(t ag_core ag_phish)
    target_compile_options(${t} PRIVATE -fsanitize=fuzzer-no-link,address,undefined
                           -fno-omit-frame-pointer -Wno-error)
  endforeach()
  add_executable(fuzz_phish_email ${CMAKE_SOURCE_DIR}/tests/fuzz/fuzz_phish_email.c)
  target_link_libraries(fuzz_phish_email PRIVATE ag_phish)
  target_compile_options(fuzz_phish_email PRIVATE -fsanitize=fuzzer,address,undefined -Wno-error)
  target_link_options(fuzz_phish_email PRIVATE -fsanitize=fuzzer,address,undefined)
endif()
