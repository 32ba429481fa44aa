/* SPDX-License-Identifier: MIT */
/* PostgreSQL v3 wire protocol codec (placeholder). */
#include "config.h"

#include "pgwire.h"

extern int sqledge_pgwire_placeholder;
