/* SPDX-License-Identifier: MIT */
/* placeholder: filled in by its module */
#include "config.h"
extern int sqledge_placeholder_pgvalue;
