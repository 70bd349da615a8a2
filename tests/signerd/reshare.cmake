# A signer's reshare input (daemon/signerd/reshare.c) through the real protocol in-process.
mpc_add_test(test_signerd_reshare_input SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_reshare_input.c
             LIBS mpc_signerd_core mpc_test_support TIMEOUT 300 LABELS unit;signerd)
