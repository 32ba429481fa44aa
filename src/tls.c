/* SPDX-License-Identifier: MIT */
/* The TLS server context of the proxy (see tls.h). */
#include "config.h"

#include <stdio.h>
#include <string.h>

#include <openssl/err.h>

#include "cfg.h"
#include "tls.h"
#include "util.h"

const char *
tls_last_error(char *buf, size_t len)
{
	unsigned long e, last = 0;

	while ((e = ERR_get_error()) != 0)
		last = e;
	if (last == 0)
		snprintf(buf, len, "unknown error");
	else
		ERR_error_string_n(last, buf, len);
	return buf;
}

SSL_CTX *
tls_server_ctx(const struct cfg *cfg, struct strbuf *err)
{
	char why[256];
	SSL_CTX *ctx;

	if (cfg->proxy_tls_cert_file[0] == '\0') {
		if (cfg->proxy_tls_key_file[0] != '\0')
			strbuf_puts(err, "[proxy] tls_key_file is set without tls_cert_file");
		return NULL;
	}
	if (cfg->proxy_tls_key_file[0] == '\0') {
		strbuf_puts(err, "[proxy] tls_cert_file is set without tls_key_file");
		return NULL;
	}
	ERR_clear_error();
	ctx = SSL_CTX_new(TLS_server_method());
	if (ctx == NULL) {
		strbuf_printf(err, "cannot make a TLS context: %s",
		              tls_last_error(why, sizeof(why)));
		return NULL;
	}
	/* a client that asked for TLS gets no less than TLS 1.2 (PostgreSQL's default too), no
	 * compression, no renegotiation, no session tickets kept across workers */
	SSL_CTX_set_min_proto_version(ctx, strcmp(cfg->proxy_tls_min_protocol, "TLSv1.3") == 0
	                                           ? TLS1_3_VERSION
	                                           : TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_COMPRESSION | SSL_OP_NO_RENEGOTIATION |
	                                 SSL_OP_NO_TICKET | SSL_OP_CIPHER_SERVER_PREFERENCE);
	SSL_CTX_set_session_cache_mode(ctx, SSL_SESS_CACHE_OFF);
	SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
	if (SSL_CTX_set_cipher_list(ctx, cfg->proxy_tls_ciphers) != 1) {
		strbuf_printf(err, "[proxy] tls_ciphers \"%s\": %s", cfg->proxy_tls_ciphers,
		              tls_last_error(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_certificate_chain_file(ctx, cfg->proxy_tls_cert_file) != 1) {
		strbuf_printf(err, "cannot load [proxy] tls_cert_file \"%s\": %s",
		              cfg->proxy_tls_cert_file, tls_last_error(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, cfg->proxy_tls_key_file, SSL_FILETYPE_PEM) != 1) {
		strbuf_printf(err, "cannot load [proxy] tls_key_file \"%s\": %s",
		              cfg->proxy_tls_key_file, tls_last_error(why, sizeof(why)));
		goto fail;
	}
	if (SSL_CTX_check_private_key(ctx) != 1) {
		strbuf_printf(err,
		              "[proxy] tls_key_file \"%s\" is not the key of tls_cert_file: %s",
		              cfg->proxy_tls_key_file, tls_last_error(why, sizeof(why)));
		goto fail;
	}
	return ctx;
fail:
	SSL_CTX_free(ctx);
	return NULL;
}

bool
tls_required(const struct cfg *cfg, bool unix_socket, bool loopback)
{
	if (unix_socket)
		return false;
	if (strcmp(cfg->proxy_tls_require, "all") == 0)
		return true;
	return strcmp(cfg->proxy_tls_require, "on") == 0 && !loopback;
}
