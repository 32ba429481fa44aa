/* SPDX-License-Identifier: MIT */
/* Address rules: parsing with errors by line, and which line a client matches. */
#include "config.h"

#include <arpa/inet.h>
#include <netinet/in.h>

#include "hba.h"
#include "unit.h"
#include "util.h"

static struct sockaddr_storage
addr(const char *text)
{
	struct sockaddr_storage ss;

	memset(&ss, 0, sizeof(ss));
	if (strchr(text, ':')) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&ss;

		s6->sin6_family = AF_INET6;
		CHECK_INT(inet_pton(AF_INET6, text, &s6->sin6_addr), 1);
	} else {
		struct sockaddr_in *s4 = (struct sockaddr_in *)&ss;

		s4->sin_family = AF_INET;
		CHECK_INT(inet_pton(AF_INET, text, &s4->sin_addr), 1);
	}
	return ss;
}

/* The line number of the rule a client matches, 0 for none. */
static int
match_line(const struct hba *h, const char *from, bool tls, const char *db, const char *user)
{
	struct sockaddr_storage ss;
	const struct hba_rule *r;

	if (from)
		ss = addr(from);
	r = hba_match(h, from ? &ss : NULL, tls, db, user);
	return r ? r->line : 0;
}

static void
test_rules_match_in_order(void)
{
	struct strbuf err;
	struct hba *h = NULL;

	strbuf_init(&err);
	CHECK_INT(hba_parse("# the shop\n"
	                    "local   all        all                  trust\n"
	                    "hostssl shop       app,\"Report Bot\" 10.0.0.0/8   password\n"
	                    "host    shop       app   127.0.0.1      password # inline\n"
	                    "hostnossl all      all   10.1.0.0/16    reject\n"
	                    "host    \"all\"      all   ::1/128        trust\n"
	                    "host    all        all   192.168.1.0/24 password\n"
	                    "host    all        all   all            reject\n",
	                    "hba", &h, &err),
	          0);
	CHECK_STR(strbuf_str(&err), "");
	CHECK_INT(h->n, 7);
	CHECK_INT(match_line(h, NULL, false, "shop", "anyone"), 2); /* the Unix socket */
	CHECK_INT(match_line(h, "10.2.3.4", true, "shop", "app"), 3);
	CHECK_INT(match_line(h, "10.2.3.4", true, "shop", "Report Bot"), 3);
	CHECK_INT(match_line(h, "10.2.3.4", false, "shop", "app"), 8); /* not TLS: no hostssl */
	CHECK_INT(match_line(h, "10.1.3.4", false, "shop", "app"), 5);
	CHECK_INT(match_line(h, "127.0.0.1", false, "shop", "app"), 4);
	CHECK_INT(match_line(h, "127.0.0.2", false, "shop", "app"), 8); /* a /32 */
	CHECK_INT(match_line(h, "::1", false, "all", "x"), 6);          /* "all" quoted: a name */
	CHECK_INT(match_line(h, "::1", false, "shop", "x"), 8);
	CHECK_INT(match_line(h, "192.168.1.200", false, "x", "y"), 7);
	CHECK_INT(match_line(h, "::ffff:192.168.1.7", false, "x", "y"), 7); /* IPv4-mapped */
	CHECK_INT(match_line(h, "192.168.2.1", false, "x", "y"), 8);
	CHECK(!hba_trusts_remote(h)); /* trust only over the Unix socket and ::1 */
	hba_free(h);
	strbuf_free(&err);
}

static void
test_trust_beyond_loopback(void)
{
	struct strbuf err;
	struct hba *h = NULL;

	strbuf_init(&err);
	CHECK_INT(hba_parse("local all all trust\nhost all all 127.0.0.0/8 trust\n"
	                    "host all all ::1 trust\nhost all all all password\n",
	                    "hba", &h, &err),
	          0);
	CHECK(!hba_trusts_remote(h));
	hba_free(h);
	CHECK_INT(hba_parse("host all all 10.0.0.1 trust\n", "hba", &h, &err), 0);
	CHECK(hba_trusts_remote(h));
	hba_free(h);
	strbuf_free(&err);
}

static void
test_errors_name_their_lines(void)
{
	struct strbuf err;
	struct hba *h = NULL;

	strbuf_init(&err);
	CHECK_INT(hba_parse("host all all 10.0.0.0/33 password\n"
	                    "local all all 127.0.0.1 trust\n"
	                    "hostgss all all all password\n"
	                    "host all all all ident\n"
	                    "host ,x all all trust\n"
	                    "host all all all trust extra\n"
	                    "host all \"unclosed all all trust\n"
	                    "host all all all trust\n",
	                    "f", &h, &err),
	          -1);
	CHECK(h == NULL);
	CHECK(strstr(strbuf_str(&err), "f:1: the address must be all") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:2: expected: local DATABASE USER METHOD") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:3: the type must be") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:4: the method must be password, scram-sha-256, md5, "
	                               "trust or reject") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:5: invalid database list") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:6: too many fields") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:7: too many fields, or an unclosed quote") != NULL);
	CHECK(strstr(strbuf_str(&err), "f:8") == NULL);
	strbuf_free(&err);
}

int
main(void)
{
	RUN(test_rules_match_in_order);
	RUN(test_trust_beyond_loopback);
	RUN(test_errors_name_their_lines);
	return unit_done();
}
