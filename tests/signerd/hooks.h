/* tests/signerd/hooks.h — misbehaviour for the test build of mpc-signerd
 * (mpc-signerd-testhooks), chosen at start by MPC_SIGNERD_TEST_TAMPER:
 *   flip    flip one bit of every round-1 protocol payload it sends (a hub altering frames)
 *   replay  send every round-1 protocol frame twice (a hub replaying)
 *   drop    never send round-2 protocol frames (a hub dropping)
 *   ot      corrupt k^1 of one base OT column (a different column each session) in its
 *           receiver setup toward every peer: the selective-failure attack on Delta
 *   delegate-lie   finish every keygen as a delegate (seal, return the blob, store nothing)
 *                  whatever its configured role: a signer lying about its role
 *   delegate-keep  finish every keygen as a persistent signer (store, return no blob)
 * and MPC_SIGNERD_TEST_FULL_DISK=1 caps its database at the pages it has when it starts, so
 * any write that needs a new page fails as on a full disk.
 * Unset: behaves exactly like mpc-signerd. */
#ifndef SIGNER_TEST_HOOKS_H
#define SIGNER_TEST_HOOKS_H

#include <stddef.h>
#include <stdint.h>

#include "store.h"
#include "tss/keyshare.h"

/* Called with each outgoing protocol frame (header + sealed payload); may alter it.
 * Returns how many copies to send: 0, 1 or 2. */
int signer_test_outgoing(uint8_t *frame, size_t len);

/* Called with a reshare result's JSON text (a new party's attested share) before it is sent;
 * may alter it in place ("reshare-att": one hex digit of the attestation; "reshare-pub":
 * one hex digit of the first public share in the key block). Returns json. */
char *signer_test_reshare_result(char *json);

/* Called with a freshly unsealed share before a signing session uses it. */
void signer_test_share(tss_keyshare *ks);

/* The role a keygen finishes with: the configured one, or the lie of delegate-lie /
 * delegate-keep (0 persistent, 1 delegate, as signer_role). */
int signer_test_keygen_role(int configured);

/* Called once the daemon has opened its store. */
void signer_test_store_opened(signer_store *st);

#endif
