# Delegate signers, default signers and external ids end to end (issue 16): a real hub and
# three real signers, n3 with role = delegate (tests/signerd/test_delegate.c).
mpc_add_test(test_signerd_delegate
             SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_delegate.c
             LIBS mpc_deploy mpc_api mpc_tss mpc_hsm mpc_daemon_common
             TIMEOUT 300 LABELS integration;signerd)
target_compile_definitions(test_signerd_delegate PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                           SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>"
                           MPCCTL_BIN="$<TARGET_FILE:mpcctl>")
add_dependencies(test_signerd_delegate mpc-hubd mpc-signerd mpcctl)
# A signer lying about its role in a keygen (the test build's delegate-lie / delegate-keep).
if(TARGET mpc-signerd-testhooks)
  target_compile_definitions(test_signerd_delegate PRIVATE
                             SIGNERD_TEST_BIN="$<TARGET_FILE:mpc-signerd-testhooks>")
  add_dependencies(test_signerd_delegate mpc-signerd-testhooks)
endif()
