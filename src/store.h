/* SPDX-License-Identifier: MIT */
#ifndef SQLEDGE_STORE_H
#define SQLEDGE_STORE_H
#endif
