# Request approvals and the signer's policy (issue 15): the canonical message and its three
# signature algorithms, the policy file and its signature, the decision, request ids and the
# velocity window in the store; prints the cost per request.
mpc_add_test(test_signer_policy SOURCES ${CMAKE_CURRENT_SOURCE_DIR}/test_policy.c
             LIBS mpc_signerd_core TIMEOUT 120 LABELS unit;signerd)
