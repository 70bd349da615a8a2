# Import and migration end to end (issue 17): a real hub and three real signers; a private key
# made by the openssl CLI and a tss-lib key's save files are staged on the nodes and imported
# (POST /v1/keys/import), keeping their public keys and addresses; every pair signs.
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_import_e2e SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_import_e2e.c
               LIBS mpc_deploy mpc_daemon_common mpc_test_support TIMEOUT 300
               LABELS integration;signerd)
  target_compile_definitions(test_signerd_import_e2e PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_import_e2e mpc-hubd mpc-signerd)
endif()
