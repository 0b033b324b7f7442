# Browser tests of the analyst console (tests/browser/): playwright-core
# driving Debian's chromium against a real server with a temporary data
# directory. Screenshots of failures go to tests/artifacts/browser/.
find_program(AG_NODE node)
if(AG_NODE)
  add_test(NAME browser/console COMMAND sh ${CMAKE_SOURCE_DIR}/tests/browser/run.sh)
  set_tests_properties(browser/console PROPERTIES LABELS browser TIMEOUT 900
    RESOURCE_LOCK chromium
    ENVIRONMENT "AG_BIN=$<TARGET_FILE:accountguard>;AG_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
else()
  message(WARNING "node not found: the console's browser tests are not registered")
endif()
