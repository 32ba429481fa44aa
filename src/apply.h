/* SPDX-License-Identifier: MIT */
#ifndef SQLEDGE_APPLY_H
#define SQLEDGE_APPLY_H
#endif
