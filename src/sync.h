/* SPDX-License-Identifier: MIT */
#ifndef SQLEDGE_SYNC_H
#define SQLEDGE_SYNC_H
#endif
