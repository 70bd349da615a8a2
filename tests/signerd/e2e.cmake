# End-to-end: a real hub and three real signers (tpm2 on swtpm, pkcs11 on SoftHSM2, soft).
# n3 runs the test build of mpc-signerd (daemon/signerd/CMakeLists.txt, with
# tests/signerd/hooks.c), which can misbehave on request; it is never installed.
if(TARGET mpc-signerd-testhooks)
  mpc_add_test(test_signerd_e2e
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_e2e.c
               LIBS mpc_deploy mpc_api mpc_tss mpc_hsm mpc_daemon_common
               TIMEOUT 600 LABELS integration;signerd)
  target_compile_definitions(test_signerd_e2e PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>"
                             SIGNERD_TEST_BIN="$<TARGET_FILE:mpc-signerd-testhooks>")
  add_dependencies(test_signerd_e2e mpc-hubd mpc-signerd mpc-signerd-testhooks)
endif()
