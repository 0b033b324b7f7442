# The intel pipeline hook's per-event cost with 0 and 1M indicators loaded
# (`build-x/bench_intel_hook [count]`). Links ag_intel only.
add_executable(bench_intel_hook ${CMAKE_SOURCE_DIR}/bench/bench_intel_hook.c)
target_link_libraries(bench_intel_hook PRIVATE ag_intel)
