/* daemon/ctl/devca.c — mpcctl dev ca / dev issue: a DEVELOPMENT certificate authority for
 * demos and tests. Its key is a plain file; a production CA is kept offline (DESIGN.md).
 * Certificates are P-256 / ECDSA-SHA256: the hub's carries serverAuth and a SAN per
 * address or name, a node's carries clientAuth and CN = party id (the hub and the signers
 * require those extended key usages). */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rand.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>

#include "ctl.h"

/* out = dir/name (checked for truncation). 0 or -1. */
static int path_in(char *out, size_t cap, const char *dir, const char *name)
{
    int n = snprintf(out, cap, "%s/%s", dir, name);
    return n > 0 && (size_t)n < cap ? 0 : -1;
}

static int write_key(const char *path, EVP_PKEY *k, char *why, size_t cap)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *f = fd >= 0 ? fdopen(fd, "w") : NULL;
    if (!f) {
        snprintf(why, cap, "%s: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    int ok = PEM_write_PrivateKey(f, k, NULL, NULL, 0, NULL, NULL) == 1;
    ok = fclose(f) == 0 && ok;
    if (!ok)
        snprintf(why, cap, "%s: cannot write the key", path);
    return ok ? 0 : -1;
}

static int write_cert(const char *path, X509 *x, char *why, size_t cap)
{
    FILE *f = fopen(path, "w");
    int ok = f && PEM_write_X509(f, x) == 1;
    if (f)
        ok = fclose(f) == 0 && ok;
    if (!ok)
        snprintf(why, cap, "%s: cannot write the certificate: %s", path, strerror(errno));
    return ok ? 0 : -1;
}

static int add_ext(X509 *x, X509 *issuer, int nid, const char *value)
{
    X509V3_CTX v3;
    X509V3_set_ctx(&v3, issuer, x, NULL, NULL, 0);
    X509_EXTENSION *e = X509V3_EXT_conf_nid(NULL, &v3, nid, value);
    int ok = e && X509_add_ext(x, e, -1) == 1;
    X509_EXTENSION_free(e);
    return ok ? 0 : -1;
}

/* A new certificate for pub with subject CN = cn: random 128-bit serial, now - 1 h to
 * now + days. Signed by the caller. */
static X509 *new_cert(EVP_PKEY *pub, const char *cn, unsigned days)
{
    X509 *x = X509_new();
    X509_NAME *name = X509_NAME_new();
    BIGNUM *bn = BN_new();
    uint8_t serial[16];
    int ok = x && name && bn && RAND_bytes(serial, sizeof serial) == 1;
    if (ok) {
        serial[0] &= 0x7f; /* positive */
        serial[0] |= 0x01; /* and 16 bytes long */
        ok = BN_bin2bn(serial, sizeof serial, bn) &&
             BN_to_ASN1_INTEGER(bn, X509_get_serialNumber(x)) && X509_set_version(x, 2) == 1 &&
             X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_UTF8, (const unsigned char *)cn, -1,
                                        -1, 0) == 1 &&
             X509_set_subject_name(x, name) == 1 && X509_set_pubkey(x, pub) == 1 &&
             X509_gmtime_adj(X509_getm_notBefore(x), -3600) &&
             X509_time_adj_ex(X509_getm_notAfter(x), (int)days, 0, NULL);
    }
    BN_free(bn);
    X509_NAME_free(name);
    if (!ok) {
        X509_free(x);
        return NULL;
    }
    return x;
}

int ctl_devca_create(const char *dir, unsigned days, char *why, size_t cap)
{
    char key[PATH_MAX], crt[PATH_MAX];
    if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
        snprintf(why, cap, "%s: %s", dir, strerror(errno));
        return -1;
    }
    if (path_in(key, sizeof key, dir, "ca.key") || path_in(crt, sizeof crt, dir, "ca.pem")) {
        snprintf(why, cap, "%s: path too long", dir);
        return -1;
    }
    if (access(key, F_OK) == 0 || access(crt, F_OK) == 0) {
        snprintf(why, cap, "%s already holds a CA (ca.key / ca.pem); refusing to replace it", dir);
        return -1;
    }
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = k ? new_cert(k, "mpc-signer development CA", days) : NULL;
    int ok = x && X509_set_issuer_name(x, X509_get_subject_name(x)) == 1 &&
             add_ext(x, x, NID_basic_constraints, "critical,CA:TRUE,pathlen:0") == 0 &&
             add_ext(x, x, NID_key_usage, "critical,keyCertSign,cRLSign") == 0 &&
             add_ext(x, x, NID_subject_key_identifier, "hash") == 0 &&
             X509_sign(x, k, EVP_sha256()) > 0;
    if (!ok)
        snprintf(why, cap, "cannot make the CA certificate");
    ok = ok && write_key(key, k, why, cap) == 0 && write_cert(crt, x, why, cap) == 0;
    X509_free(x);
    EVP_PKEY_free(k);
    return ok ? 0 : -1;
}

static int load_ca(const char *dir, X509 **cert, EVP_PKEY **key, char *why, size_t cap)
{
    char kp[PATH_MAX], cp[PATH_MAX];
    if (path_in(kp, sizeof kp, dir, "ca.key") || path_in(cp, sizeof cp, dir, "ca.pem")) {
        snprintf(why, cap, "%s: path too long", dir);
        return -1;
    }
    FILE *kf = fopen(kp, "r"), *cf = fopen(cp, "r");
    *key = kf ? PEM_read_PrivateKey(kf, NULL, NULL, NULL) : NULL;
    *cert = cf ? PEM_read_X509(cf, NULL, NULL, NULL) : NULL;
    if (kf)
        fclose(kf);
    if (cf)
        fclose(cf);
    if (!*key || !*cert || X509_check_private_key(*cert, *key) != 1) {
        snprintf(why, cap, "%s: no development CA here (ca.key + ca.pem; mpcctl dev ca %s)", dir,
                 dir);
        EVP_PKEY_free(*key);
        X509_free(*cert);
        return -1;
    }
    return 0;
}

/* Common to both kinds: issuer, AKI, EKU, key usage, signature by the CA. */
static int finish_cert(X509 *x, X509 *ca, EVP_PKEY *cakey, const char *eku)
{
    return X509_set_issuer_name(x, X509_get_subject_name(ca)) == 1 &&
                   add_ext(x, ca, NID_basic_constraints, "critical,CA:FALSE") == 0 &&
                   add_ext(x, ca, NID_key_usage, "critical,digitalSignature,keyAgreement") == 0 &&
                   add_ext(x, ca, NID_ext_key_usage, eku) == 0 &&
                   add_ext(x, ca, NID_authority_key_identifier, "keyid") == 0 &&
                   X509_sign(x, cakey, EVP_sha256()) > 0
               ? 0
               : -1;
}

/* "127.0.0.1,hub.example" -> "IP:127.0.0.1,DNS:hub.example". */
static int san_value(const char *sans, char *out, size_t cap, char *why, size_t wcap)
{
    size_t used = 0;
    const char *p = sans;
    out[0] = 0;
    while (*p) {
        size_t len = strcspn(p, ",");
        char item[256];
        unsigned char buf[16];
        if (len == 0 || len >= sizeof item) {
            snprintf(why, wcap, "--server '%s': empty or over-long entry", sans);
            return -1;
        }
        memcpy(item, p, len);
        item[len] = 0;
        int ip = inet_pton(AF_INET, item, buf) == 1 || inet_pton(AF_INET6, item, buf) == 1;
        if (!ip &&
            strspn(item, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-*") !=
                len) {
            snprintf(why, wcap, "--server: '%s' is neither an IP address nor a DNS name", item);
            return -1;
        }
        int w =
            snprintf(out + used, cap - used, "%s%s:%s", used ? "," : "", ip ? "IP" : "DNS", item);
        if (w < 0 || (size_t)w >= cap - used) {
            snprintf(why, wcap, "--server: too many names");
            return -1;
        }
        used += (size_t)w;
        p += len + (p[len] == ',');
    }
    if (!used) {
        snprintf(why, wcap, "--server needs at least one IP address or DNS name");
        return -1;
    }
    return 0;
}

int ctl_devca_issue_server(const char *dir, const char *name, const char *sans,
                           const char *cert_out, const char *key_out, unsigned days, char *why,
                           size_t cap)
{
    char san[2048];
    X509 *ca;
    EVP_PKEY *cakey;
    if (san_value(sans, san, sizeof san, why, cap) != 0 || load_ca(dir, &ca, &cakey, why, cap) != 0)
        return -1;
    if (access(key_out, F_OK) == 0) {
        snprintf(why, cap, "%s exists; refusing to replace a key", key_out);
        X509_free(ca);
        EVP_PKEY_free(cakey);
        return -1;
    }
    EVP_PKEY *k = EVP_PKEY_Q_keygen(NULL, NULL, "EC", "P-256");
    X509 *x = k ? new_cert(k, name, days) : NULL;
    int ok = x && add_ext(x, ca, NID_subject_alt_name, san) == 0 &&
             finish_cert(x, ca, cakey, "serverAuth") == 0;
    if (!ok)
        snprintf(why, cap, "cannot make the server certificate");
    ok = ok && write_key(key_out, k, why, cap) == 0 && write_cert(cert_out, x, why, cap) == 0;
    X509_free(x);
    EVP_PKEY_free(k);
    X509_free(ca);
    EVP_PKEY_free(cakey);
    return ok ? 0 : -1;
}

int ctl_devca_issue_node(const char *dir, const char *name, const char *csr_path,
                         const char *cert_out, unsigned days, char *why, size_t cap)
{
    X509 *ca;
    EVP_PKEY *cakey;
    FILE *f = fopen(csr_path, "r");
    X509_REQ *req = f ? PEM_read_X509_REQ(f, NULL, NULL, NULL) : NULL;
    if (f)
        fclose(f);
    EVP_PKEY *pub = req ? X509_REQ_get0_pubkey(req) : NULL;
    char cn[API_PARTY_ID_MAX + 2] = "";
    X509_NAME *subj = req ? X509_REQ_get_subject_name(req) : NULL;
    if (!req || !pub || X509_REQ_verify(req, pub) != 1) {
        snprintf(why, cap, "%s: not a certificate request with a valid signature", csr_path);
        X509_REQ_free(req);
        return -1;
    }
    if (X509_NAME_get_text_by_NID(subj, NID_commonName, cn, sizeof cn) <= 0 ||
        strcmp(cn, name) != 0) {
        snprintf(why, cap, "%s: its CN '%s' is not the party id '%s'", csr_path, cn, name);
        X509_REQ_free(req);
        return -1;
    }
    if (EVP_PKEY_get_base_id(pub) != EVP_PKEY_EC || EVP_PKEY_get_bits(pub) != 256) {
        snprintf(why, cap, "%s: a node key must be P-256", csr_path);
        X509_REQ_free(req);
        return -1;
    }
    if (load_ca(dir, &ca, &cakey, why, cap) != 0) {
        X509_REQ_free(req);
        return -1;
    }
    X509 *x = new_cert(pub, name, days);
    int ok = x && finish_cert(x, ca, cakey, "clientAuth") == 0;
    if (!ok)
        snprintf(why, cap, "cannot make the node certificate");
    ok = ok && write_cert(cert_out, x, why, cap) == 0;
    X509_free(x);
    X509_REQ_free(req);
    X509_free(ca);
    EVP_PKEY_free(cakey);
    return ok ? 0 : -1;
}

static const char usage_dev[] =
    "usage: mpcctl dev ca DIR [--days D]\n"
    "       mpcctl dev issue --ca DIR --name N (--server IP/DNS,... | --csr FILE)\n"
    "                        [--out CERT] [--key-out KEY] [--days D]\n"
    "\n"
    "DEVELOPMENT HELPERS: the CA key is a plain file on this machine. In production the\n"
    "deployment CA is kept offline, never on the hub host.\n"
    "dev ca     creates DIR/ca.key (0600) and DIR/ca.pem, a P-256 CA (default 365 days).\n"
    "dev issue  --server: a new key and certificate for the hub (CN = N, a SAN per IP\n"
    "           address or DNS name, EKU serverAuth): DIR/N.key (0600) and DIR/N.pem;\n"
    "           --csr: a node certificate from the CSR of 'mpcctl node init' (its CN must\n"
    "           be N, the party id; EKU clientAuth): DIR/N.pem. --out / --key-out move them.\n";

static int dev_ca(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {
        CTL_COMMON_OPTIONS, {"days", required_argument, NULL, 'd'}, {NULL, 0, NULL, 0}};
    unsigned days = 365;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        int rc = ctl_common_option(c, o, optarg, usage_dev);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (ctl_parse_uint(optarg, 1, 3650, &days) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--days: 1..3650");
    }
    if (optind + 1 != argc)
        return ctl_fail(c, CTL_EXIT_USAGE, "dev ca takes one directory");
    char why[512];
    if (ctl_devca_create(argv[optind], days, why, sizeof why) != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "dev ca: %s", why);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:s++,s:s++,s:b}", "dir", argv[optind], "cert", argv[optind],
                              "/ca.pem", "key", argv[optind], "/ca.key", "development", 1);
        ctl_print_json(c, j);
        json_decref(j);
    } else {
        fprintf(c->out,
                "development CA (NOT for production) created:\n  %s/ca.pem  certificate\n  "
                "%s/ca.key  private key (0600)\n",
                argv[optind], argv[optind]);
    }
    return CTL_EXIT_OK;
}

static int dev_issue(ctl_ctx *c, int argc, char **argv)
{
    static const struct option opts[] = {CTL_COMMON_OPTIONS,
                                         {"name", required_argument, NULL, 'n'},
                                         {"server", required_argument, NULL, 's'},
                                         {"csr", required_argument, NULL, 'r'},
                                         {"out", required_argument, NULL, 'o'},
                                         {"key-out", required_argument, NULL, 'k'},
                                         {"days", required_argument, NULL, 'd'},
                                         {NULL, 0, NULL, 0}};
    const char *name = NULL, *server = NULL, *csr = NULL, *out = NULL, *key_out = NULL;
    unsigned days = 365;
    int o;
    optind = 0;
    while ((o = getopt_long(argc, argv, "h", opts, NULL)) != -1) {
        if (o == CTL_OPT_CA) /* here --ca is the CA directory */
            o = 'c';
        int rc = o == 'c' ? CTL_OPT_OTHER : ctl_common_option(c, o, optarg, usage_dev);
        if (rc == CTL_OPT_TAKEN)
            continue;
        if (rc != CTL_OPT_OTHER)
            return rc == CTL_OPT_HELP_SHOWN ? CTL_EXIT_OK : rc;
        if (o == 'c')
            snprintf(c->ca, sizeof c->ca, "%s", optarg);
        else if (o == 'n')
            name = optarg;
        else if (o == 's')
            server = optarg;
        else if (o == 'r')
            csr = optarg;
        else if (o == 'o')
            out = optarg;
        else if (o == 'k')
            key_out = optarg;
        else if (ctl_parse_uint(optarg, 1, 3650, &days) != 0)
            return ctl_fail(c, CTL_EXIT_USAGE, "--days: 1..3650");
    }
    if (optind != argc || !c->ca[0] || !name || !server == !csr)
        return ctl_fail(c, CTL_EXIT_USAGE,
                        "dev issue needs --ca DIR, --name N and one of --server / --csr");
    if (!api_party_id_valid(name))
        return ctl_fail(c, CTL_EXIT_USAGE, "--name '%s': 1..64 of A-Z a-z 0-9 . _ -", name);
    if (key_out && !server)
        return ctl_fail(c, CTL_EXIT_USAGE, "--key-out goes with --server");
    char cert_path[PATH_MAX], key_path[PATH_MAX], why[512], leaf[API_PARTY_ID_MAX + 8];
    snprintf(leaf, sizeof leaf, "%s.pem", name);
    int bad = path_in(cert_path, sizeof cert_path, c->ca, leaf);
    snprintf(leaf, sizeof leaf, "%s.key", name);
    if (bad || path_in(key_path, sizeof key_path, c->ca, leaf))
        return ctl_fail(c, CTL_EXIT_USAGE, "--ca: path too long");
    if (out)
        snprintf(cert_path, sizeof cert_path, "%s", out);
    if (key_out)
        snprintf(key_path, sizeof key_path, "%s", key_out);
    int rc = server ? ctl_devca_issue_server(c->ca, name, server, cert_path, key_path, days, why,
                                             sizeof why)
                    : ctl_devca_issue_node(c->ca, name, csr, cert_path, days, why, sizeof why);
    if (rc != 0)
        return ctl_fail(c, CTL_EXIT_LOCAL, "dev issue: %s", why);
    if (c->json) {
        json_t *j = json_pack("{s:s,s:s,s:s,s:s?,s:b}", "name", name, "kind",
                              server ? "hub server (serverAuth)" : "node (clientAuth)", "cert",
                              cert_path, "key", server ? key_path : NULL, "development", 1);
        ctl_print_json(c, j);
        json_decref(j);
    } else if (server) {
        fprintf(c->out,
                "hub certificate for %s (serverAuth; SAN %s), signed by the development CA:\n  "
                "%s\n  %s (0600)\n",
                name, server, cert_path, key_path);
    } else {
        fprintf(c->out,
                "node certificate for party %s (clientAuth), signed by the development "
                "CA:\n  %s\n",
                name, cert_path);
    }
    return CTL_EXIT_OK;
}

int ctl_cmd_dev(ctl_ctx *c, int argc, char **argv)
{
    const char *verb = argc > 1 ? argv[1] : "";
    if (strcmp(verb, "ca") == 0)
        return dev_ca(c, argc - 1, argv + 1);
    if (strcmp(verb, "issue") == 0)
        return dev_issue(c, argc - 1, argv + 1);
    int help = strcmp(verb, "--help") == 0 || strcmp(verb, "-h") == 0;
    fputs(usage_dev, help ? c->out : c->err);
    return help ? CTL_EXIT_OK : CTL_EXIT_USAGE;
}
