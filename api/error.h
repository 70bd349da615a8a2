/* api/error.h — the error codes shared by the hub's REST API, the party link and mpcctl.
 * Each api_err has a stable snake_case code that travels in JSON error bodies
 * ({"error":{"code":..., "message":...}}), an HTTP status, and a human description.
 * Clients switch on the code, never on the message. */
#ifndef API_ERROR_H
#define API_ERROR_H

typedef enum {
    API_OK = 0,
    API_ERR_BAD_JSON,         /* 400 body is not a JSON object */
    API_ERR_BAD_FIELD,        /* 400 a field has the wrong type, range or encoding */
    API_ERR_MISSING_FIELD,    /* 400 a required field is absent */
    API_ERR_UNKNOWN_FIELD,    /* 400 a field the contract does not define */
    API_ERR_BAD_HEX,          /* 400 a hex string is not lowercase/uppercase hex */
    API_ERR_BAD_LENGTH,       /* 400 a hex value has the wrong length */
    API_ERR_BAD_THRESHOLD,    /* 400 threshold < 2 or > n */
    API_ERR_BAD_PATH,         /* 400 derivation path malformed or hardened */
    API_ERR_BAD_QUERY,        /* 400 query parameter malformed */
    API_ERR_UNAUTHENTICATED,  /* 401 no or wrong API key */
    API_ERR_FORBIDDEN,        /* 403 client address not in the allow-list */
    API_ERR_NOT_FOUND,        /* 404 no such route */
    API_ERR_UNKNOWN_KEY,      /* 404 no such key id */
    API_ERR_UNKNOWN_SESSION,  /* 404 no such session id */
    API_ERR_METHOD,           /* 405 method not allowed on this route */
    API_ERR_KEY_NOT_ACTIVE,   /* 409 key exists but is not active */
    API_ERR_TOO_LARGE,        /* 413 request body over the limit */
    API_ERR_UNSUPPORTED_TYPE, /* 415 Content-Type is not application/json */
    API_ERR_UNKNOWN_PARTY,    /* 422 a named party is not registered */
    API_ERR_PARTIES_OFFLINE,  /* 422 too few (or named) parties online */
    API_ERR_RATE_LIMITED,     /* 429 too many requests */
    API_ERR_INTERNAL,         /* 500 the hub failed (storage, memory) */
    API_ERR_BUSY,             /* 503 too many sessions in flight / shutting down */
    API_ERR_SESSION_FAILED,   /* 502 the signers aborted or timed out */
    API_ERR_POLICY_REFUSED,   /* 403 a signer's policy refused the request (issue 15) */
    API_ERR_APPROVAL_REFUSED, /* 403 a signer found the approvals or request id wanting */
    API_ERR_EXTERNAL_ID_USED, /* 409 another key has this external_id */
    API_ERR_DELEGATE_GONE,    /* 410 the delegate share was handed out already, or expired */
    API_ERR_DELEGATE_REFUSED, /* 422 the delegate refused the delegate_share it was given */
    API_ERR_KEY_EXISTS,       /* 409 another key (active or pending) has this public key */
    API_ERR_FRAME,            /* party link: frame malformed */
    API_ERR_FRAME_VERSION,    /* party link: unsupported version */
    API_ERR_FRAME_TYPE,       /* party link: unknown frame type */
    API_ERR_FRAME_LENGTH,     /* party link: length field disagrees or is over the limit */
    API_ERR__COUNT
} api_err;

/* Stable machine-readable code, e.g. "bad_hex" (never NULL). */
const char *api_err_code(api_err err);

/* Human description of the error class (never NULL). */
const char *api_strerror(api_err err);

/* The HTTP status that goes with err (500 for party-link-only codes). */
int api_err_http_status(api_err err);

#endif
