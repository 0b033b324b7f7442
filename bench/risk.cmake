# Risk module tools: the scoring benchmark, and risk_tool (simulate and
# evaluate without linking every module into the accountguard binary).
add_executable(bench_risk_score ${CMAKE_SOURCE_DIR}/bench/bench_risk_score.c
               ${CMAKE_SOURCE_DIR}/src/cli/cmd_simulate.c)
target_compile_definitions(bench_risk_score PRIVATE AG_SOURCE_DIR="${CMAKE_SOURCE_DIR}")
target_link_libraries(bench_risk_score PRIVATE ag_risk)

add_executable(risk_tool ${CMAKE_SOURCE_DIR}/bench/risk_tool.c
               ${CMAKE_SOURCE_DIR}/src/cli/cmd_simulate.c
               ${CMAKE_SOURCE_DIR}/src/cli/cmd_evaluate.c)
target_link_libraries(risk_tool PRIVATE ag_risk)
