/* SPDX-License-Identifier: MIT */
/* SCRAM-SHA-256 server side: RFC 7677's exchange, wrong proofs, channel binding and its
 * downgrade, the secrets of an auth file, md5 answers. */
#include "config.h"

#include "scram.h"
#include "unit.h"
#include "util.h"

#define RFC_VERIFIER                                                                               \
	"SCRAM-SHA-256$4096:W22ZaJ0SNY7soEsUEjb6gQ==$WG5d8oPm3OtcPnkdi4Uo7BkeZkBFzpcXkuLmtbsT4qY=" \
	":"                                                                                        \
	"wfPLwcE6nTWhTAmQ7tl2KeoiWGPlZqQxSrmfPwDl2dU="
#define RFC_SNONCE "%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0"
#define RFC_FIRST "n,,n=user,r=rOprNGfwEbeRWgbNEkqO"
#define RFC_FINAL                                                                                  \
	"c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+"           \
	"Ute9ytag9zjf"                                                                             \
	"MHgsqmmiz7AndVQ="

static int
exchange(const struct scram_secret *secret, const uint8_t *cbind, size_t cbind_len,
         const char *mech, const char *first, const char *final, struct strbuf *server)
{
	struct scram_state st;
	char why[200];
	int r;

	scram_begin(&st, secret, cbind, cbind_len);
	strbuf_reset(server);
	r = scram_first(&st, mech, first, strlen(first), RFC_SNONCE, server, why, sizeof(why));
	if (r == 0) {
		strbuf_reset(server);
		r = scram_final(&st, final, strlen(final), server, why, sizeof(why));
	} else {
		r = -2;
	}
	scram_end(&st);
	return r;
}

static void
test_rfc7677_exchange(void)
{
	struct scram_secret s;
	struct scram_state st;
	struct strbuf out;
	char why[200];

	strbuf_init(&out);
	CHECK_INT(scram_secret_parse(RFC_VERIFIER, &s), 0);
	CHECK_INT(s.kind, SCRAM_SECRET_SCRAM);
	CHECK_INT(s.iterations, 4096);
	scram_begin(&st, &s, NULL, 0);
	CHECK_INT(scram_first(&st, "SCRAM-SHA-256", RFC_FIRST, strlen(RFC_FIRST), RFC_SNONCE, &out,
	                      why, sizeof(why)),
	          0);
	CHECK_STR(strbuf_str(&out), "r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,"
	                            "s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096");
	strbuf_reset(&out);
	CHECK_INT(scram_final(&st, RFC_FINAL, strlen(RFC_FINAL), &out, why, sizeof(why)), 1);
	CHECK_STR(strbuf_str(&out), "v=6rriTRBi23WpRR/wtup+mMhUZUn/dB5nLTJRsjl95G4=");
	scram_end(&st);
	/* a password in the file works the same (a verifier is made for the exchange) */
	scram_secret_clear(&s);
	CHECK_INT(scram_secret_parse("pencil", &s), 0);
	CHECK_INT(s.kind, SCRAM_SECRET_PLAIN);
	scram_secret_clear(&s);
	strbuf_free(&out);
}

static void
test_wrong_proofs_and_unknown_users_fail_alike(void)
{
	struct scram_secret s;
	struct strbuf out;
	char bad[sizeof(RFC_FINAL)];

	strbuf_init(&out);
	CHECK_INT(scram_secret_parse(RFC_VERIFIER, &s), 0);
	memcpy(bad, RFC_FINAL, sizeof(bad));
	bad[sizeof(bad) - 3] = bad[sizeof(bad) - 3] == 'A' ? 'B' : 'A';
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256", RFC_FIRST, bad, &out), 0);
	CHECK_INT(exchange(NULL, NULL, 0, "SCRAM-SHA-256", RFC_FIRST, RFC_FINAL, &out), 0);
	/* nonce mismatch, no proof, garbage */
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256", RFC_FIRST,
	                   "c=biws,r=xyz,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ=", &out),
	          -1);
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256", RFC_FIRST, "c=biws", &out), -1);
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256", "x", RFC_FINAL, &out), -2);
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256", "n,a=admin,n=user,r=abc", RFC_FINAL, &out),
	          -2); /* authzid */
	CHECK_INT(exchange(&s, NULL, 0, "PLAIN", RFC_FIRST, RFC_FINAL, &out), -2);
	scram_secret_clear(&s);
	strbuf_free(&out);
}

static void
test_channel_binding(void)
{
	static const uint8_t hash[32] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10};
	struct scram_secret s;
	struct strbuf out;

	strbuf_init(&out);
	CHECK_INT(scram_secret_parse(RFC_VERIFIER, &s), 0);
	/* without TLS, -PLUS is not there to choose */
	CHECK_INT(exchange(&s, NULL, 0, "SCRAM-SHA-256-PLUS",
	                   "p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO", RFC_FINAL, &out),
	          -2);
	/* with TLS, a client that says it could bind but thinks we cannot: a downgrade */
	CHECK_INT(exchange(&s, hash, sizeof(hash), "SCRAM-SHA-256", "y,,n=,r=rOprNGfwEbeRWgbNEkqO",
	                   RFC_FINAL, &out),
	          -2);
	/* "n": the client cannot bind, which is its right */
	CHECK_INT(exchange(&s, hash, sizeof(hash), "SCRAM-SHA-256", RFC_FIRST, RFC_FINAL, &out), 1);
	/* -PLUS with a binding to another certificate fails before the proof is looked at */
	CHECK_INT(exchange(&s, hash, sizeof(hash), "SCRAM-SHA-256-PLUS",
	                   "p=tls-server-end-point,,n=,r=rOprNGfwEbeRWgbNEkqO",
	                   "c=cD10bHMtc2VydmVyLWVuZC1wb2ludCwsAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
	                   "AAAAAAA=,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=AAAA",
	                   &out),
	          -1);
	scram_secret_clear(&s);
	strbuf_free(&out);
}

static void
test_secrets(void)
{
	struct scram_secret s;
	char resp[36];
	const uint8_t salt[4] = {0x01, 0x02, 0x03, 0x04};

	CHECK_INT(scram_secret_parse("md520c46e3762c864548e296b33c3406aa9", &s), 0);
	CHECK_INT(s.kind, SCRAM_SECRET_MD5);
	scram_md5_response(s.md5, salt, resp);
	CHECK(strncmp(resp, "md5", 3) == 0 && strlen(resp) == 35);
	scram_secret_clear(&s);
	CHECK_INT(scram_secret_parse("SCRAM-SHA-256$4096:bad$x:y", &s), -1);
	CHECK_INT(scram_secret_parse("SCRAM-SHA-256$0:W22ZaJ0SNY7soEsUEjb6gQ==$a:b", &s), -1);
}

int
main(void)
{
	RUN(test_rfc7677_exchange);
	RUN(test_wrong_proofs_and_unknown_users_fail_alike);
	RUN(test_channel_binding);
	RUN(test_secrets);
	return unit_done();
}
