/* SPDX-License-Identifier: MIT */
/* PostgreSQL v3 wire protocol codec (placeholder). */
#ifndef SQLEDGE_PGWIRE_H
#define SQLEDGE_PGWIRE_H
#endif
