# Refresh end to end (issue 17): a real hub and three real signers; POST /v1/keys/{id}/refresh,
# then every pair signs under the unchanged public key. n3 runs the test build of mpc-signerd
# (it can lie in its reshare results).
if(TARGET mpc-signerd-testhooks)
  mpc_add_test(test_signerd_refresh_e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_refresh_e2e.c
               LIBS mpc_deploy mpc_daemon_common TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_refresh_e2e PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>"
                             SIGNERD_TEST_BIN="$<TARGET_FILE:mpc-signerd-testhooks>")
  add_dependencies(test_signerd_refresh_e2e mpc-hubd mpc-signerd mpc-signerd-testhooks)
endif()
