# mpc-signerd against a malicious hub: the test is the hub (hostile_fixture.c over fake_hub.c,
# a TLS WebSocket server) and relays, alters, replays, drops and invents every frame between
# real signers.
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_hostile_hub
               SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_hostile_hub.c
                       ${CMAKE_CURRENT_SOURCE_DIR}/hostile_fixture.c
                       ${CMAKE_CURRENT_SOURCE_DIR}/fake_hub.c
               LIBS mpc_signerd_core TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_hostile_hub
                             PRIVATE SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_hostile_hub mpc-signerd)
endif()
