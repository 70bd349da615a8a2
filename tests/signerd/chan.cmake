# daemon/signerd/chan.c: round 0 and the end-to-end sealed channel between signers.
mpc_add_test(test_signerd_chan SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_chan.c LIBS
             mpc_signerd_core LABELS unit;signerd)
