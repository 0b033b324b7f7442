# Intel match-set benchmark: build time, memory and lookup cost with 0 and
# 1M indicators loaded (`build-x/bench_intel [count]`). Links ag_intel only.
add_executable(bench_intel ${CMAKE_SOURCE_DIR}/bench/bench_intel.c)
target_link_libraries(bench_intel PRIVATE ag_intel)
