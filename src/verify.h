/* SPDX-License-Identifier: MIT */
/* sqledgectl verify: compares every replicated table of the local copy with the upstream at
 * one position. */
#ifndef SQLEDGE_VERIFY_H
#define SQLEDGE_VERIFY_H

struct cfg;
struct shm_state;

/* Exit codes of the verifier process. */
#define VERIFY_EQUAL 0
#define VERIFY_DIFFERS 1 /* or it could not compare: the report says why */

/* The verifier: a process of its own, forked by the master for a control connection. It
 * asks the replication worker to hold the copy at the position of a snapshot it makes
 * upstream, takes a read snapshot of the copy there, lets replication go on, then compares
 * the rows of each table (or of the tables named in args, "schema.table" or "table",
 * separated by blanks) and writes its report to fd. Returns VERIFY_EQUAL or VERIFY_DIFFERS. */
int verify_main(const struct cfg *cfg, struct shm_state *shm, int fd, const char *args);

#endif
