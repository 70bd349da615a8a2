/* tests/hub/hub_client.h — test-side clients for mpc-hubd: HTTPS requests (one TLS
 * connection each, HTTP/1.1, Connection: close) and a party-link WebSocket client that
 * speaks the frame protocol. Both verify the hub's certificate against the test CA. */
#ifndef HUB_CLIENT_H
#define HUB_CLIENT_H

#include <stddef.h>
#include <stdint.h>

#include <jansson.h>

#include "api/frame.h"

/* Sends one request; returns the status (or -1 on connection failure) and the parsed JSON
 * body in *out (NULL if not JSON). headers: extra "Name: value\r\n" lines or NULL. */
int hc_request(const char *ca, int port, const char *method, const char *path, const char *headers,
               const char *body, json_t **out, char **raw);

/* Client certificate for later hc_request calls (NULL, NULL: none). */
void hc_set_client_cert(const char *cert, const char *key);

/* Connects over TLS, writes data as is, reads whatever comes back for up to timeout_ms.
 * Returns the bytes read, or -1 if the TLS connection failed. */
int hc_raw(const char *ca, int port, const void *data, size_t len, int timeout_ms);

/* Like hc_raw, and keeps the first cap - 1 bytes of the answer in out (NUL-terminated). */
int hc_raw_capture(const char *ca, int port, const void *data, size_t len, int timeout_ms,
                   char *out, size_t cap);

/* Like hc_raw_capture, with the request written as separate TLS writes (NUL-terminated
 * pieces) gap_ms apart: a head or body that arrives over several reads. */
int hc_raw_pieces(const char *ca, int port, const char *const *pieces, size_t n, int gap_ms,
                  int timeout_ms, char *out, size_t cap);

/* Source address (e.g. "127.0.0.2") for every later connection; NULL: the default. */
void hc_set_source(const char *ip);

/* SO_RCVBUF for every later connection (0: the kernel's autotuned default). A small
 * fixed receive buffer makes a client that does not read push back on the hub at once. */
void hc_set_rcvbuf(int bytes);

/* A plain TCP connection to the port (no TLS); -1 on failure. */
int hc_tcp_open(int port);

/* Waits until the peer closes fd (EOF or reset); returns the milliseconds waited, or -1
 * if it was still open after timeout_ms. Discards anything received. */
int hc_wait_closed(int fd, int timeout_ms);

/* One TLS handshake with the given protocol versions (TLS1_2_VERSION...) and TLS 1.2
 * cipher list (NULL: default), optionally with a client certificate. 1 if it completed. */
int hc_tls_probe(const char *ca, int port, int min_version, int max_version, const char *ciphers12,
                 const char *cert, const char *key);

typedef struct hc_link hc_link;

/* TLS (client cert/key, may be NULL) + WebSocket upgrade on /v1/party. NULL on failure. */
hc_link *hc_link_open(const char *ca, int port, const char *cert, const char *key);
void hc_link_close(hc_link *l);

/* Why the last hc_link_open failed (stage and TLS error), for test diagnostics. */
const char *hc_last_error(void);

/* Sends a frame (encoded with api_frame_encode) or raw bytes as one binary message. */
int hc_link_send_frame(hc_link *l, const api_frame *f);
int hc_link_send_raw(hc_link *l, const uint8_t *data, size_t len, int opcode);

/* Receives one message within timeout_ms. Returns its opcode (2 binary, 8 close; for close
 * *len holds the status code) or -1 on timeout / error. buf receives the payload. */
int hc_link_recv(hc_link *l, uint8_t *buf, size_t cap, size_t *len, int timeout_ms);

/* Receives the next binary message and decodes it as a frame (payload copied into buf). */
int hc_link_recv_frame(hc_link *l, api_frame *f, uint8_t *buf, size_t cap, int timeout_ms);

#endif
