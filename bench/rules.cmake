# Rules benchmark: ns per evaluation of the shipped rules/default.rules
# against the default field schema (docs/RULES.md, "Performance"). Links
# ag_rules only, so it builds while the rest of the binary is in progress.
add_executable(bench_rules ${CMAKE_SOURCE_DIR}/bench/bench_rules.c)
target_compile_definitions(bench_rules PRIVATE AG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(bench_rules PRIVATE ag_rules)
