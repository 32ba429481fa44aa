/* SPDX-License-Identifier: MIT */
/* Bounds-checked big-endian reader over untrusted bytes, and big-endian writers. */
#ifndef SQLEDGE_RBUF_H
#define SQLEDGE_RBUF_H

#include <stddef.h>
#include <stdint.h>

/* Every getter returns 0 and advances, or -1 (reading past the end) and leaves pos unchanged. */
struct rbuf {
	const uint8_t *data;
	size_t len;
	size_t pos;
};

void rbuf_init(struct rbuf *rb, const void *data, size_t len);
size_t rbuf_remaining(const struct rbuf *rb);
int rbuf_get_u8(struct rbuf *rb, uint8_t *out);
int rbuf_get_u16(struct rbuf *rb, uint16_t *out);
int rbuf_get_u32(struct rbuf *rb, uint32_t *out);
int rbuf_get_u64(struct rbuf *rb, uint64_t *out);
int rbuf_get_i32(struct rbuf *rb, int32_t *out);
int rbuf_get_i64(struct rbuf *rb, int64_t *out);
/* A NUL-terminated string inside the buffer; *out points into it (valid as long as the buffer). */
int rbuf_get_cstring(struct rbuf *rb, const char **out);
/* n raw bytes; *out points into the buffer. */
int rbuf_get_bytes(struct rbuf *rb, size_t n, const uint8_t **out);

void be_put_u16(uint8_t *p, uint16_t v);
void be_put_u32(uint8_t *p, uint32_t v);
void be_put_u64(uint8_t *p, uint64_t v);
uint32_t be_get_u32(const uint8_t *p);
uint64_t be_get_u64(const uint8_t *p);

#endif
