/* SPDX-License-Identifier: MIT */
#ifndef SQLEDGE_UPSTREAM_H
#define SQLEDGE_UPSTREAM_H
#endif
