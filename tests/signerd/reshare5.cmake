# Reshare across five nodes end to end (issue 17: "2-of-3 -> 3-of-5 and back, with a node
# replaced"): a real hub and five real signers (deploy nodes = 5); every 3-subset of the
# 3-of-5 committee signs, then a lost n2 is replaced by the survivors (2-of-3 on n1, n4, n5).
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_reshare5_e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_reshare5_e2e.c
               LIBS mpc_deploy mpc_daemon_common TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_reshare5_e2e PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_reshare5_e2e mpc-hubd mpc-signerd)
endif()
