# The store's tests against a real PostgreSQL (docs/SCALING.md).
#
# pg/start initdb's a throwaway server into a temporary directory, on
# loopback only, and pg/stop removes it (ctest fixture "pg"). The unit tests
# listed here run a second time as pg/<test> with AG_TEST_PG_URL set
# (tests/unit/store_url.h gives each test case its own schema); the black-box
# tests listed run with AG_TEST_PG_STATE pointing at the server. If the server
# does not start, pg/start fails and so does every test that needs it: a PG
# run never passes by testing SQLite instead.
set(AG_PG_STATE ${CMAKE_BINARY_DIR}/pgtest)
set(AG_PGCTL ${CMAKE_SOURCE_DIR}/tests/pg/pgctl.py)
add_test(NAME pg/start COMMAND ${PYTHON3} ${AG_PGCTL} start ${AG_PG_STATE})
add_test(NAME pg/stop COMMAND ${PYTHON3} ${AG_PGCTL} stop ${AG_PG_STATE})
set_tests_properties(pg/start PROPERTIES FIXTURES_SETUP pg LABELS pg TIMEOUT 120)
set_tests_properties(pg/stop PROPERTIES FIXTURES_CLEANUP pg LABELS pg TIMEOUT 60)

# Unit tests that open their store through store_url.h.
foreach(tname test_store_backends test_store_identcache test_notify_outbox test_identity_service)
  if(TARGET ${tname})
    add_test(NAME pg/${tname} COMMAND ${PYTHON3} ${AG_PGCTL} run ${AG_PG_STATE}
             $<TARGET_FILE:${tname}>)
    set_tests_properties(pg/${tname} PROPERTIES FIXTURES_REQUIRED pg LABELS "pg;unit"
      TIMEOUT 300 ENVIRONMENT "AG_SOURCE_DIR=${CMAKE_SOURCE_DIR}")
  endif()
endforeach()

# Black-box tests of several nodes on one PostgreSQL.
foreach(tname test_pg_nodes)
  if(TEST api/${tname})
    set_tests_properties(api/${tname} PROPERTIES FIXTURES_REQUIRED pg LABELS "pg;api"
      ENVIRONMENT_MODIFICATION "AG_TEST_PG_STATE=set:${AG_PG_STATE}")
  endif()
endforeach()

# Black-box test files run whole on PostgreSQL (every server gets a fresh
# database: AG_TEST_API_STORE=pg in tests/api/agtest.py).
foreach(tname test_events test_identity)
  if(TEST api/${tname})
    add_test(NAME pg/api_${tname} COMMAND ${PYTHON3} ${AG_PGCTL} run ${AG_PG_STATE}
             ${PYTHON3} ${CMAKE_SOURCE_DIR}/tests/api/${tname}.py)
    set_tests_properties(pg/api_${tname} PROPERTIES FIXTURES_REQUIRED pg LABELS "pg;api"
      TIMEOUT 600 ENVIRONMENT
      "AG_BIN=$<TARGET_FILE:accountguard>;AG_SOURCE_DIR=${CMAKE_SOURCE_DIR};AG_SANITIZE=$<BOOL:${AG_SANITIZE}>;AG_TEST_API_STORE=pg")
  endif()
endforeach()
