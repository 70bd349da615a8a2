/* tests/signerd/fake_hub.h — a hostile hub for tests: a minimal TLS WebSocket server (OpenSSL
 * directly, one thread, poll) that real mpc-signerd processes dial. It admits clients whose
 * certificate chains to the test CA, names each link by its certificate CN, reassembles
 * binary and text messages, answers WebSocket pings and hands every message to the caller,
 * who decides what to send to whom: every byte on the party link is the test's. */
#ifndef FAKE_HUB_H
#define FAKE_HUB_H

#include <stddef.h>
#include <stdint.h>

#define FH_MAX_CONNS 8
#define FH_OP_TEXT   1
#define FH_OP_BINARY 2

typedef struct fake_hub fake_hub;

/* Listens on 127.0.0.1 (a free port) with cert/key, verifying clients against ca.
 * Returns NULL on failure; *port receives the port. */
fake_hub *fh_new(const char *ca, const char *cert, const char *key, int *port);
void fh_free(fake_hub *h);

/* Waits up to timeout_ms for the next complete message from any signer (accepting new links
 * on the way). 1: *party (CN), *op, *msg (malloc'd, free it) and *len are set; 0: timeout. */
int fh_next(fake_hub *h, int timeout_ms, char party[65], int *op, uint8_t **msg, size_t *len);

/* Sends one WebSocket message (op FH_OP_BINARY or FH_OP_TEXT) to the party's current link.
 * 0, or -1 if the party has no link or the write fails. */
int fh_send(fake_hub *h, const char *party, int op, const uint8_t *msg, size_t len);

/* 1 while the party has a link (after its WebSocket upgrade). */
int fh_online(const fake_hub *h, const char *party);

/* How many links the party has opened so far (reconnects count). */
unsigned fh_links(const fake_hub *h, const char *party);

/* Closes the party's link abruptly. */
void fh_drop(fake_hub *h, const char *party);

#endif
