/* SPDX-License-Identifier: MIT */
/* TLS for clients of the proxy: the server context made from [proxy] tls_cert_file,
 * tls_key_file, tls_min_protocol and tls_ciphers, and the rules of tls_require. */
#ifndef SQLEDGE_TLS_H
#define SQLEDGE_TLS_H

#include <stdbool.h>

#include <openssl/ssl.h>

struct cfg;
struct strbuf;

/* The context for cfg's certificate and key, read from their files now (a renewed
 * certificate is picked up by making a new one). Returns NULL without an error when no
 * certificate is configured, NULL with the reason in err when the files or settings cannot be
 * used. */
SSL_CTX *tls_server_ctx(const struct cfg *cfg, struct strbuf *err);

/* Whether a client must use TLS: tls_require = on for TCP clients not on loopback, all for
 * every TCP client; never over the Unix socket. */
bool tls_required(const struct cfg *cfg, bool unix_socket, bool loopback);

/* The reason the last TLS call failed (OpenSSL's error queue, emptied), for logs. */
const char *tls_last_error(char *buf, size_t len);

#endif
