# Staging the dealer input of an import or a migration (daemon/signerd/stage.h): key text,
# the sealed staged row, tss-lib save files.
mpc_add_test(test_signer_stage SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_stage.c
             LIBS mpc_signerd_core mpc_test_support TIMEOUT 120 LABELS unit;signerd)
# Constant-time check of the key text decoders under Valgrind, when both are available.
include(CheckIncludeFile)
check_include_file(valgrind/memcheck.h MPC_HAVE_MEMCHECK_H)
find_program(MPC_VALGRIND valgrind)
if(MPC_HAVE_MEMCHECK_H AND MPC_VALGRIND AND NOT MPC_SANITIZE)
  add_executable(ct_signer_stage ${CMAKE_CURRENT_SOURCE_DIR}/ct_stage.c)
  target_link_libraries(ct_signer_stage PRIVATE mpc_signerd_core)
  add_test(NAME ct_signer_stage COMMAND ${MPC_VALGRIND} --quiet --error-limit=no
                                        $<TARGET_FILE:ct_signer_stage>)
  set_tests_properties(ct_signer_stage PROPERTIES TIMEOUT 300 LABELS "ct;signerd")
endif()
