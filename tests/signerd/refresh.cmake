# Refresh end to end (issue 17): a real hub and three real signers; POST /v1/keys/{id}/refresh,
# then every pair signs under the unchanged public key.
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_refresh_e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_refresh_e2e.c
               LIBS mpc_deploy TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_refresh_e2e PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_refresh_e2e mpc-hubd mpc-signerd)
endif()
