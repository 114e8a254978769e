/* \summary: bounds-checked reader over packet and wire bytes
 *
 * The only way decoders and extractors touch untrusted bytes. Every read
 * checks the remaining length and returns false instead of reading past the
 * end; a failed read leaves the cursor where it was. (tcpdump's GET_
 * macros, without the longjmp.)
 */
#ifndef HOTLINE_SENSOR_CURSOR_H
#define HOTLINE_SENSOR_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

struct cursor {
	const uint8_t *p;
	size_t left;
};

static inline struct cursor cur_make(const void *data, size_t len)
{
	struct cursor c = {(const uint8_t *)data, len};
	return c;
}

static inline bool cur_has(const struct cursor *c, size_t n)
{
	return c->left >= n;
}

static inline bool cur_skip(struct cursor *c, size_t n)
{
	if (c->left < n)
		return false;
	c->p += n;
	c->left -= n;
	return true;
}

static inline bool cur_u8(struct cursor *c, uint8_t *out)
{
	if (c->left < 1)
		return false;
	*out = c->p[0];
	c->p++;
	c->left--;
	return true;
}

static inline bool cur_be16(struct cursor *c, uint16_t *out)
{
	if (c->left < 2)
		return false;
	*out = (uint16_t)((unsigned)c->p[0] << 8 | c->p[1]);
	c->p += 2;
	c->left -= 2;
	return true;
}

static inline bool cur_be24(struct cursor *c, uint32_t *out)
{
	if (c->left < 3)
		return false;
	*out = (uint32_t)c->p[0] << 16 | (uint32_t)c->p[1] << 8 | c->p[2];
	c->p += 3;
	c->left -= 3;
	return true;
}

static inline bool cur_be32(struct cursor *c, uint32_t *out)
{
	if (c->left < 4)
		return false;
	*out = (uint32_t)c->p[0] << 24 | (uint32_t)c->p[1] << 16 | (uint32_t)c->p[2] << 8 | c->p[3];
	c->p += 4;
	c->left -= 4;
	return true;
}

static inline bool cur_le32(struct cursor *c, uint32_t *out)
{
	if (c->left < 4)
		return false;
	*out = (uint32_t)c->p[3] << 24 | (uint32_t)c->p[2] << 16 | (uint32_t)c->p[1] << 8 | c->p[0];
	c->p += 4;
	c->left -= 4;
	return true;
}

/* Borrow n bytes: *out points into the underlying buffer. */
static inline bool cur_bytes(struct cursor *c, size_t n, const uint8_t **out)
{
	if (c->left < n)
		return false;
	*out = c->p;
	c->p += n;
	c->left -= n;
	return true;
}

static inline bool cur_copy(struct cursor *c, void *dst, size_t n)
{
	if (c->left < n)
		return false;
	memcpy(dst, c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

/* A sub-cursor over the next n bytes; the parent advances past them. */
static inline bool cur_sub(struct cursor *c, size_t n, struct cursor *sub)
{
	if (c->left < n)
		return false;
	*sub = cur_make(c->p, n);
	c->p += n;
	c->left -= n;
	return true;
}

#endif
