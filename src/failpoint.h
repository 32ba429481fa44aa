/* SPDX-License-Identifier: MIT */
/* Failpoints for crash tests: SQLEDGE_FAILPOINTS="name[@N][,name...]" makes the process kill
 * itself with SIGKILL the Nth time (default: first) it passes the named point. */
#ifndef SQLEDGE_FAILPOINT_H
#define SQLEDGE_FAILPOINT_H

/* Reads SQLEDGE_FAILPOINTS; logs the armed points. */
void failpoint_init(void);
/* Dies here if name is armed and its count is reached. */
void failpoint_hit(const char *name);

#ifdef SQLEDGE_FAILPOINTS
#define FAILPOINT(name) failpoint_hit(name)
#else
#define FAILPOINT(name) ((void)0)
#endif

#endif
