/* SPDX-License-Identifier: MIT */
/* The version string, from configure. */
#ifndef SQLEDGE_VERSION_H
#define SQLEDGE_VERSION_H
#include "config.h"
#define SQLEDGE_VERSION PACKAGE_VERSION
#endif
