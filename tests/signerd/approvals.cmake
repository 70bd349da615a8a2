# Approvals and policy on every signer (issue 15) against a malicious hub: the test is the
# hub (hostile_fixture.c over fake_hub.c); three real mpc-signerd processes, two with a signed policy.
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_approvals
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_approvals.c
                       ${CMAKE_CURRENT_SOURCE_DIR}/hostile_fixture.c
                       ${CMAKE_CURRENT_SOURCE_DIR}/fake_hub.c
               LIBS mpc_signerd_core TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_approvals PRIVATE SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_approvals mpc-signerd)
endif()
