/* SPDX-License-Identifier: MIT */
/* The proxy's pure parts: which worker a cancel key names, and the upstream's login error taken
 * apart from libpq's text. */
#include "config.h"

#include "proxy.h"
#include "unit.h"

static void
test_cancel_target_names_the_worker(void)
{
	CHECK_INT(proxy_cancel_target(UINT32_C(1) << PROXY_SESSION_BITS | 5, 4), 0);
	CHECK_INT(proxy_cancel_target(UINT32_C(4) << PROXY_SESSION_BITS | PROXY_SESSION_MASK, 4),
	          3);
	/* a worker that does not exist, and a real PostgreSQL pid */
	CHECK_INT(proxy_cancel_target(UINT32_C(5) << PROXY_SESSION_BITS | 1, 4), -1);
	CHECK_INT(proxy_cancel_target(12345, 4), -1);
	CHECK_INT(proxy_cancel_target(0, 4), -1);
	/* the highest worker number still gives a positive Int32 pid */
	CHECK((UINT32_C(64) << PROXY_SESSION_BITS | PROXY_SESSION_MASK) < UINT32_C(0x80000000));
}

static void
test_conn_error_from_the_server(void)
{
	struct proxy_conn_error e;
	char buf[512];

	proxy_parse_conn_error("connection to server at \"127.0.0.1\", port 5432 failed: FATAL:  "
	                       "28P01: password authentication failed for user \"bob\"\n"
	                       "LOCATION:  auth_failed, auth.c:334\n",
	                       buf, sizeof(buf), &e);
	CHECK_STR(e.severity, "FATAL");
	CHECK_STR(e.code, "28P01");
	CHECK_STR(e.message, "password authentication failed for user \"bob\"");
	CHECK(e.detail == NULL && e.hint == NULL);

	proxy_parse_conn_error(
	        "connection to server at \"h\" (10.0.0.1), port 5432 failed: FATAL:  "
	        "53300: sorry, too many clients already\n"
	        "DETAIL:  some detail\nHINT:  a hint: with colons\n",
	        buf, sizeof(buf), &e);
	CHECK_STR(e.code, "53300");
	CHECK_STR(e.message, "sorry, too many clients already");
	CHECK_STR(e.detail, "some detail");
	CHECK_STR(e.hint, "a hint: with colons");
}

static void
test_conn_error_of_libpq_itself(void)
{
	struct proxy_conn_error e;
	char buf[512];

	proxy_parse_conn_error("connection to server at \"127.0.0.1\", port 1 failed: Connection "
	                       "refused\n\tIs the server running on that host and accepting TCP/IP "
	                       "connections?\n",
	                       buf, sizeof(buf), &e);
	CHECK(e.severity == NULL && e.code == NULL);
	CHECK_STR(e.message, "connection to server at \"127.0.0.1\", port 1 failed: Connection "
	                     "refused  Is the server running on that host and accepting TCP/IP "
	                     "connections?");
	/* a server message without an SQLSTATE (terse verbosity) still gives its text */
	proxy_parse_conn_error("FATAL:  the database system is starting up\n", buf, sizeof(buf),
	                       &e);
	CHECK_STR(e.severity, "FATAL");
	CHECK(e.code == NULL);
	CHECK_STR(e.message, "the database system is starting up");
	/* cut to the buffer, still terminated */
	proxy_parse_conn_error("FATAL:  28P01: a very long message indeed", buf, 24, &e);
	CHECK_STR(e.code, "28P01");
	CHECK_STR(e.message, "a very l");
}

int
main(void)
{
	RUN(test_cancel_target_names_the_worker);
	RUN(test_conn_error_from_the_server);
	RUN(test_conn_error_of_libpq_itself);
	return unit_done();
}
