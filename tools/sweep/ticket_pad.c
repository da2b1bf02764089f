/* ticket_pad.so: make `openssl s_server` issue session tickets of a chosen size (LD_PRELOAD).
 *
 * A profile's heap holds a ticket of up to tls.resumption.ticket_max_bytes, but OpenSSL 3.0's tickets are about
 * 180-210 bytes whatever that bound is. With TLSGEN_TICKET_BYTES=N in its environment, every SSL_CTX the server
 * makes gets a ticket-generation callback (SSL_CTX_set_session_ticket_cb) that puts application data in the
 * session (SSL_SESSION_set1_ticket_appdata, which OpenSSL keeps inside the encrypted ticket): as much as keeps
 * the ticket at most N bytes. The ticket's size is worked out as OpenSSL 3.0 builds it (construct_stateless_ticket:
 * a 16-byte key name, a 16-byte IV, the session's DER under AES-256-CBC, and a 32-byte HMAC-SHA256; measured: a
 * TLS 1.2 session has no session ID yet when the callback runs, and a TLS 1.3 ticket keeps its 32-byte one, so
 * the DER is taken whole). The ticket comes out within one cipher block (16 bytes) below N; the device reports
 * the size it received, and the sweep checks it.
 *
 * No OpenSSL headers or link-time libssl: the few functions used are declared here with opaque pointers and
 * found with dlsym, so the shim builds with the C compiler alone (tools/sweep/runner.py builds it into the work
 * directory). Test tooling only: it is never part of a device build. */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>

typedef struct ssl_ctx_st SSL_CTX;
typedef struct ssl_st SSL;
typedef struct ssl_session_st SSL_SESSION;
typedef struct ssl_method_st SSL_METHOD;
typedef struct ossl_lib_ctx_st OSSL_LIB_CTX;
typedef int (*gen_fn)(SSL *, void *);
typedef int (*dec_fn)(SSL *, SSL_SESSION *, const unsigned char *, size_t, int, void *);

enum { kKeyName = 16, kIv = 16, kBlock = 16, kMac = 32, kMaxTicket = 65535 };

static void *sym(const char *name) {
    void *f = dlsym(RTLD_NEXT, name);
    if (f == NULL) {
        fprintf(stderr, "ticket_pad: %s not found: %s\n", name, dlerror());
        abort();
    }
    return f;
}

/* The ticket OpenSSL 3.0 makes of a session whose DER is `der` bytes (CBC pads to the next whole block). */
static size_t ticket_bytes(size_t der) { return kKeyName + kIv + (der / kBlock + 1) * kBlock + kMac; }

static int pad_ticket(SSL *s, void *arg) {
    (void)arg;
    static unsigned char pad[kMaxTicket];
    SSL_SESSION *(*get_session)(const SSL *) = sym("SSL_get_session");
    int (*set_appdata)(SSL_SESSION *, const void *, size_t) = sym("SSL_SESSION_set1_ticket_appdata");
    int (*i2d)(const SSL_SESSION *, unsigned char **) = sym("i2d_SSL_SESSION");
    const char *want_text = getenv("TLSGEN_TICKET_BYTES");
    SSL_SESSION *sess = get_session(s);
    if (want_text == NULL || sess == NULL)
        return 1;
    size_t want = strtoul(want_text, NULL, 10);
    /* The largest appdata (its bytes' value does not matter) whose ticket fits `want`: from the estimate down, as
       the DER's length fields grow in steps. Returning 0 fails the handshake: OpenSSL could not encode the
       session. */
    int der = set_appdata(sess, pad, 0) ? i2d(sess, NULL) : -1;
    if (der <= 0)
        return 0;
    size_t base = ticket_bytes((size_t)der);
    if (base >= want)
        return 1;  /* already as large as asked: leave it */
    size_t n = want - base;
    if (n > sizeof pad)
        n = sizeof pad;
    for (; n > 0; --n) {
        der = set_appdata(sess, pad, n) ? i2d(sess, NULL) : -1;
        if (der <= 0)
            return 0;
        if (ticket_bytes((size_t)der) <= want)
            return 1;
    }
    return set_appdata(sess, pad, 0);
}

static SSL_CTX *with_pad(SSL_CTX *ctx) {
    if (ctx != NULL && getenv("TLSGEN_TICKET_BYTES") != NULL) {
        int (*set_cb)(SSL_CTX *, gen_fn, dec_fn, void *) = sym("SSL_CTX_set_session_ticket_cb");
        if (!set_cb(ctx, pad_ticket, NULL, NULL)) {
            fprintf(stderr, "ticket_pad: SSL_CTX_set_session_ticket_cb failed\n");
            abort();
        }
    }
    return ctx;
}

SSL_CTX *SSL_CTX_new(const SSL_METHOD *method) {
    SSL_CTX *(*real)(const SSL_METHOD *) = sym("SSL_CTX_new");
    return with_pad(real(method));
}

SSL_CTX *SSL_CTX_new_ex(OSSL_LIB_CTX *libctx, const char *propq, const SSL_METHOD *method) {
    SSL_CTX *(*real)(OSSL_LIB_CTX *, const char *, const SSL_METHOD *) = sym("SSL_CTX_new_ex");
    return with_pad(real(libctx, propq, method));
}
