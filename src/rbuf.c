/* SPDX-License-Identifier: MIT */
/* Bounds-checked big-endian reader over untrusted bytes (the replication and wire codecs read
 * through it so no length check is forgotten), and the matching big-endian writers. */
#include "config.h"

#include <string.h>

#include "rbuf.h"

void
rbuf_init(struct rbuf *rb, const void *data, size_t len)
{
	rb->data = data;
	rb->len = len;
	rb->pos = 0;
}

size_t
rbuf_remaining(const struct rbuf *rb)
{
	return rb->len - rb->pos;
}

int
rbuf_get_u8(struct rbuf *rb, uint8_t *out)
{
	if (rbuf_remaining(rb) < 1)
		return -1;
	*out = rb->data[rb->pos];
	rb->pos += 1;
	return 0;
}

int
rbuf_get_u16(struct rbuf *rb, uint16_t *out)
{
	const uint8_t *p;

	if (rbuf_remaining(rb) < 2)
		return -1;
	p = rb->data + rb->pos;
	*out = (uint16_t)((uint16_t)p[0] << 8 | p[1]);
	rb->pos += 2;
	return 0;
}

int
rbuf_get_u32(struct rbuf *rb, uint32_t *out)
{
	if (rbuf_remaining(rb) < 4)
		return -1;
	*out = be_get_u32(rb->data + rb->pos);
	rb->pos += 4;
	return 0;
}

int
rbuf_get_u64(struct rbuf *rb, uint64_t *out)
{
	if (rbuf_remaining(rb) < 8)
		return -1;
	*out = be_get_u64(rb->data + rb->pos);
	rb->pos += 8;
	return 0;
}

int
rbuf_get_i32(struct rbuf *rb, int32_t *out)
{
	uint32_t v;

	if (rbuf_get_u32(rb, &v) < 0)
		return -1;
	*out = (int32_t)v;
	return 0;
}

int
rbuf_get_i64(struct rbuf *rb, int64_t *out)
{
	uint64_t v;

	if (rbuf_get_u64(rb, &v) < 0)
		return -1;
	*out = (int64_t)v;
	return 0;
}

int
rbuf_get_cstring(struct rbuf *rb, const char **out)
{
	const uint8_t *start, *nul;

	if (rbuf_remaining(rb) == 0)
		return -1;
	start = rb->data + rb->pos;
	nul = memchr(start, '\0', rbuf_remaining(rb));
	if (nul == NULL)
		return -1;
	*out = (const char *)start;
	rb->pos += (size_t)(nul - start) + 1;
	return 0;
}

int
rbuf_get_bytes(struct rbuf *rb, size_t n, const uint8_t **out)
{
	if (rbuf_remaining(rb) < n)
		return -1;
	*out = rb->data + rb->pos;
	rb->pos += n;
	return 0;
}

void
be_put_u16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

void
be_put_u32(uint8_t *p, uint32_t v)
{
	p[0] = (uint8_t)(v >> 24);
	p[1] = (uint8_t)(v >> 16);
	p[2] = (uint8_t)(v >> 8);
	p[3] = (uint8_t)v;
}

void
be_put_u64(uint8_t *p, uint64_t v)
{
	be_put_u32(p, (uint32_t)(v >> 32));
	be_put_u32(p + 4, (uint32_t)v);
}

uint32_t
be_get_u32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | (uint32_t)p[3];
}

uint64_t
be_get_u64(const uint8_t *p)
{
	return (uint64_t)be_get_u32(p) << 32 | be_get_u32(p + 4);
}
