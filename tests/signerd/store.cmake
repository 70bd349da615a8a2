# The signer's SQLite store: every function, the audit chain, a full disk, kill -9.
mpc_add_test(test_signer_store SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_store.c
             LIBS mpc_signerd_core TIMEOUT 300 LABELS unit;signerd)
