# mpc-signerd.conf: parsing, error messages, and the check against a CA, CRL and certificates
# made with the openssl CLI.
mpc_add_test(test_signer_config SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_config.c
             LIBS mpc_signerd_core TIMEOUT 120 LABELS unit;signerd)
target_compile_definitions(
  test_signer_config
  PRIVATE EXAMPLE_CONF="${PROJECT_SOURCE_DIR}/daemon/signerd/mpc-signerd.conf.example")
