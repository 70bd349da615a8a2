# Load and faults against real daemons (tests/support/deploy.h: a hub and three signers on
# swtpm, SoftHSM2 and soft). test_signerd_load: MPC_LOAD_SIGNS sign requests (default
# 1,000) from MPC_LOAD_CLIENTS keep-alive clients (default 64).
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_load SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_load.c
               LIBS mpc_deploy TIMEOUT 300 LABELS integration;signerd)
  target_compile_definitions(test_signerd_load PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_load mpc-hubd mpc-signerd)
endif()
# test_signerd_kill9: kill -9 of the hub and of each signer at random points during a stream
# of signs and keygens, MPC_KILL_ROUNDS rounds (default 3; MPC_KILL_SEED repeats a run).
if(TARGET mpc-signerd)
  mpc_add_test(test_signerd_kill9 SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_kill.c
               LIBS mpc_deploy mpc_daemon_common TIMEOUT 600 LABELS integration;signerd)
  target_compile_definitions(test_signerd_kill9 PRIVATE HUB_BIN="$<TARGET_FILE:mpc-hubd>"
                             SIGNERD_BIN="$<TARGET_FILE:mpc-signerd>")
  add_dependencies(test_signerd_kill9 mpc-hubd mpc-signerd)
endif()
