/* api/error.c — codes, statuses and descriptions for api_err. One table, so a code
 * can never lose its status or text. */
#include "error.h"

static const struct {
    const char *code;
    int status;
    const char *text;
} api_err_table[API_ERR__COUNT] = {
    [API_OK] = {"ok", 200, "success"},
    [API_ERR_BAD_JSON] = {"bad_json", 400, "request body is not a valid JSON object"},
    [API_ERR_BAD_FIELD] = {"bad_field", 400, "a field has the wrong type or value"},
    [API_ERR_MISSING_FIELD] = {"missing_field", 400, "a required field is missing"},
    [API_ERR_UNKNOWN_FIELD] = {"unknown_field", 400, "a field is not part of the contract"},
    [API_ERR_BAD_HEX] = {"bad_hex", 400, "a value is not valid hexadecimal"},
    [API_ERR_BAD_LENGTH] = {"bad_length", 400, "a value has the wrong length"},
    [API_ERR_BAD_THRESHOLD] = {"bad_threshold", 400, "threshold must be between 2 and n"},
    [API_ERR_BAD_PATH] = {"bad_derivation_path", 400,
                          "derivation path must be m/a/b/... with non-hardened indices"},
    [API_ERR_BAD_QUERY] = {"bad_query", 400, "a query parameter is malformed"},
    [API_ERR_UNAUTHENTICATED] = {"unauthenticated", 401, "missing or invalid API key"},
    [API_ERR_FORBIDDEN] = {"forbidden", 403, "client address is not allowed"},
    [API_ERR_NOT_FOUND] = {"not_found", 404, "no such resource"},
    [API_ERR_UNKNOWN_KEY] = {"unknown_key", 404, "no key with this id"},
    [API_ERR_UNKNOWN_SESSION] = {"unknown_session", 404, "no session with this id"},
    [API_ERR_METHOD] = {"method_not_allowed", 405, "method not allowed on this resource"},
    [API_ERR_KEY_NOT_ACTIVE] = {"key_not_active", 409, "key is not active"},
    [API_ERR_TOO_LARGE] = {"too_large", 413, "request body is too large"},
    [API_ERR_UNSUPPORTED_TYPE] = {"unsupported_media_type", 415,
                                  "Content-Type must be application/json"},
    [API_ERR_UNKNOWN_PARTY] = {"unknown_party", 422, "a named party is not registered"},
    [API_ERR_PARTIES_OFFLINE] = {"parties_offline", 422, "not enough parties are online"},
    [API_ERR_RATE_LIMITED] = {"rate_limited", 429, "too many requests"},
    [API_ERR_INTERNAL] = {"internal", 500, "internal error"},
    [API_ERR_BUSY] = {"busy", 503, "hub is at capacity or shutting down"},
    [API_ERR_SESSION_FAILED] = {"session_failed", 502, "the signing session failed"},
    [API_ERR_POLICY_REFUSED] = {"policy_refused", 403,
                                "a signer's policy refused the request; the message names the "
                                "signer and the rule"},
    [API_ERR_APPROVAL_REFUSED] = {"approval_refused", 403,
                                  "a signer refused the request's approvals or request id; the "
                                  "message names the signer and why"},
    [API_ERR_EXTERNAL_ID_USED] = {"external_id_taken", 409,
                                  "another key already has this external_id"},
    [API_ERR_DELEGATE_GONE] = {"delegate_share_gone", 410,
                               "the delegate share was handed out once already, or expired; "
                               "the hub keeps no copy"},
    [API_ERR_DELEGATE_REFUSED] = {"bad_delegate_share", 422,
                                  "the delegate signer refused the delegate_share: it belongs "
                                  "to another key or party, or was altered"},
    [API_ERR_KEY_EXISTS] = {"key_exists", 409,
                            "another key (active or pending) already has this public key: the "
                            "same wallet cannot be imported twice"},
    [API_ERR_FRAME] = {"bad_frame", 500, "party-link frame is malformed"},
    [API_ERR_FRAME_VERSION] = {"bad_frame_version", 500, "unsupported party-link version"},
    [API_ERR_FRAME_TYPE] = {"bad_frame_type", 500, "unknown party-link frame type"},
    [API_ERR_FRAME_LENGTH] = {"bad_frame_length", 500, "party-link frame length is wrong"},
};

const char *api_err_code(api_err err)
{
    if ((unsigned)err >= API_ERR__COUNT || !api_err_table[err].code)
        return "internal";
    return api_err_table[err].code;
}

const char *api_strerror(api_err err)
{
    if ((unsigned)err >= API_ERR__COUNT || !api_err_table[err].text)
        return "unknown api error";
    return api_err_table[err].text;
}

int api_err_http_status(api_err err)
{
    if ((unsigned)err >= API_ERR__COUNT || !api_err_table[err].status)
        return 500;
    return api_err_table[err].status;
}
