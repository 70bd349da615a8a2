# Staging the dealer input of an import or a migration (daemon/signerd/stage.h): key text,
# the sealed staged row, tss-lib save files.
mpc_add_test(test_signer_stage SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_stage.c
             LIBS mpc_signerd_core mpc_test_support TIMEOUT 120 LABELS unit;signerd)
