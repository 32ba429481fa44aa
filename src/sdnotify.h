/* SPDX-License-Identifier: MIT */
/* systemd notifications without libsystemd (NOTIFY_SOCKET datagrams). */
#ifndef SQLEDGE_SDNOTIFY_H
#define SQLEDGE_SDNOTIFY_H

/* Sends state (e.g. "READY=1") when NOTIFY_SOCKET is set; silently does nothing otherwise. */
void sdnotify(const char *state);

#endif
