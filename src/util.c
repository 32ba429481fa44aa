/* SPDX-License-Identifier: MIT */
/* Small helpers shared by every module: allocation, growable strings, LSNs, clocks. */
#include "config.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

static void
oom(size_t n)
{
	char msg[96];
	int len = snprintf(msg, sizeof(msg), "out of memory allocating %zu bytes\n", n);

	if (len > 0 && write(STDERR_FILENO, msg, (size_t)len) < 0) {
		/* nothing more to do */
	}
	abort();
}

void *
xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (p == NULL)
		oom(n);
	return p;
}

void *
xcalloc(size_t nmemb, size_t size)
{
	void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);

	if (p == NULL)
		oom(nmemb * size);
	return p;
}

void *
xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);

	if (q == NULL)
		oom(n);
	return q;
}

char *
xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *
xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);

	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

void *
xgrow(void *arr, size_t *cap, size_t need, size_t elsize)
{
	size_t ncap;

	if (need <= *cap)
		return arr;
	ncap = *cap ? *cap : 8;
	while (ncap < need)
		ncap *= 2;
	arr = xrealloc(arr, ncap * elsize);
	*cap = ncap;
	return arr;
}

void
strbuf_init(struct strbuf *sb)
{
	sb->data = NULL;
	sb->len = 0;
	sb->cap = 0;
}

void
strbuf_free(struct strbuf *sb)
{
	free(sb->data);
	strbuf_init(sb);
}

void
strbuf_reset(struct strbuf *sb)
{
	sb->len = 0;
	if (sb->data)
		sb->data[0] = '\0';
}

void
strbuf_reserve(struct strbuf *sb, size_t extra)
{
	size_t need = sb->len + extra + 1;
	size_t cap;

	if (need <= sb->cap)
		return;
	cap = sb->cap ? sb->cap : 64;
	while (cap < need)
		cap *= 2;
	sb->data = xrealloc(sb->data, cap);
	sb->cap = cap;
}

void
strbuf_append(struct strbuf *sb, const void *p, size_t n)
{
	strbuf_reserve(sb, n);
	if (n)
		memcpy(sb->data + sb->len, p, n);
	sb->len += n;
	sb->data[sb->len] = '\0';
}

void
strbuf_puts(struct strbuf *sb, const char *s)
{
	strbuf_append(sb, s, strlen(s));
}

void
strbuf_putc(struct strbuf *sb, char c)
{
	strbuf_append(sb, &c, 1);
}

void
strbuf_printf(struct strbuf *sb, const char *fmt, ...)
{
	va_list ap;
	int n;

	strbuf_reserve(sb, 64);
	va_start(ap, fmt);
	n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
	va_end(ap);
	if (n < 0)
		return;
	if ((size_t)n >= sb->cap - sb->len) {
		strbuf_reserve(sb, (size_t)n);
		va_start(ap, fmt);
		n = vsnprintf(sb->data + sb->len, sb->cap - sb->len, fmt, ap);
		va_end(ap);
	}
	sb->len += (size_t)n;
}

const char *
strbuf_str(struct strbuf *sb)
{
	return sb->data ? sb->data : "";
}

static void
strbuf_quote(struct strbuf *sb, const char *s, char q)
{
	strbuf_putc(sb, q);
	for (; *s; s++) {
		if (*s == q)
			strbuf_putc(sb, q);
		strbuf_putc(sb, *s);
	}
	strbuf_putc(sb, q);
}

void
strbuf_quote_ident(struct strbuf *sb, const char *name)
{
	strbuf_quote(sb, name, '"');
}

void
strbuf_quote_literal(struct strbuf *sb, const char *s)
{
	strbuf_quote(sb, s, '\'');
}

/* Length of the valid UTF-8 sequence at s (1-4), or 0 when the bytes are not one. */
static int
utf8_seq_len(const unsigned char *s)
{
	int n, i;

	if (s[0] < 0x80)
		return 1;
	if (s[0] >= 0xc2 && s[0] <= 0xdf)
		n = 2;
	else if (s[0] >= 0xe0 && s[0] <= 0xef)
		n = 3;
	else if (s[0] >= 0xf0 && s[0] <= 0xf4)
		n = 4;
	else
		return 0;
	for (i = 1; i < n; i++)
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((s[0] == 0xe0 && s[1] < 0xa0) || (s[0] == 0xed && s[1] > 0x9f) ||
	    (s[0] == 0xf0 && s[1] < 0x90) || (s[0] == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

bool
utf8_is_valid(const uint8_t *s, size_t len)
{
	size_t i = 0;
	int n;

	while (i < len) {
		if (s[i] == 0)
			return false;
		if (s[i] < 0x80) {
			i++;
			continue;
		}
		if (len - i < 4) {
			/* the sequence reader looks at up to 4 bytes */
			uint8_t tail[4] = {0};

			memcpy(tail, s + i, len - i);
			n = utf8_seq_len(tail);
		} else {
			n = utf8_seq_len(s + i);
		}
		if (n == 0 || (size_t)n > len - i)
			return false;
		i += (size_t)n;
	}
	return true;
}

void
strbuf_json_string(struct strbuf *sb, const char *s)
{
	if (s == NULL) {
		strbuf_puts(sb, "null");
		return;
	}
	strbuf_putc(sb, '"');
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '"':
			strbuf_puts(sb, "\\\"");
			break;
		case '\\':
			strbuf_puts(sb, "\\\\");
			break;
		case '\n':
			strbuf_puts(sb, "\\n");
			break;
		case '\r':
			strbuf_puts(sb, "\\r");
			break;
		case '\t':
			strbuf_puts(sb, "\\t");
			break;
		default:
			if (c < 0x20) {
				strbuf_printf(sb, "\\u%04x", c);
			} else if (c < 0x80) {
				strbuf_putc(sb, (char)c);
			} else {
				/* JSON must be UTF-8: a stray byte becomes U+FFFD */
				int n = utf8_seq_len((const unsigned char *)s);

				if (n == 0) {
					strbuf_puts(sb, "\\ufffd");
				} else {
					strbuf_append(sb, s, (size_t)n);
					s += n - 1;
				}
			}
		}
	}
	strbuf_putc(sb, '"');
}

/* Parses 1-8 hex digits ending at stop; strtoul alone would accept spaces, signs and 0x. */
static int
parse_hex32(const char *s, char stop, const char **end, uint32_t *out)
{
	uint32_t v = 0;
	int n = 0;

	for (; *s && *s != stop; s++, n++) {
		int d;

		if (*s >= '0' && *s <= '9')
			d = *s - '0';
		else if (*s >= 'a' && *s <= 'f')
			d = *s - 'a' + 10;
		else if (*s >= 'A' && *s <= 'F')
			d = *s - 'A' + 10;
		else
			return -1;
		if (n == 8)
			return -1;
		v = v << 4 | (uint32_t)d;
	}
	if (n == 0 || *s != stop)
		return -1;
	*end = s;
	*out = v;
	return 0;
}

int
lsn_parse(const char *s, uint64_t *out)
{
	const char *end;
	uint32_t hi, lo;

	if (s == NULL || parse_hex32(s, '/', &end, &hi) < 0 ||
	    parse_hex32(end + 1, '\0', &end, &lo) < 0)
		return -1;
	*out = ((uint64_t)hi << 32) | lo;
	return 0;
}

char *
lsn_format(uint64_t lsn, char *buf)
{
	snprintf(buf, LSN_BUFLEN, "%X/%X", (unsigned)(lsn >> 32), (unsigned)(lsn & 0xffffffffu));
	return buf;
}

int64_t
time_mono_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
time_real_us(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

int64_t
pg_time_now(void)
{
	return time_real_us() - PG_EPOCH_UNIX_US;
}

int
write_all(int fd, const void *buf, size_t len)
{
	const char *p = buf;

	while (len > 0) {
		ssize_t n = write(fd, p, len);

		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += n;
		len -= (size_t)n;
	}
	return 0;
}

void
secure_zero(void *p, size_t n)
{
	if (p)
		explicit_bzero(p, n);
}

int
parse_int64(const char *s, int64_t min, int64_t max, int64_t *out)
{
	char *end;
	long long v;

	if (s == NULL || !((*s >= '0' && *s <= '9') || (*s == '-' && s[1] >= '0' && s[1] <= '9')))
		return -1;
	errno = 0;
	v = strtoll(s, &end, 10);
	if (errno || end == s || *end != '\0' || v < min || v > max)
		return -1;
	*out = v;
	return 0;
}

int
parse_bool(const char *s, bool *out)
{
	static const char *const yes[] = {"true", "on", "yes", "1"};
	static const char *const no[] = {"false", "off", "no", "0"};
	size_t i;

	if (s == NULL)
		return -1;
	for (i = 0; i < ARRAY_SIZE(yes); i++) {
		if (strcasecmp(s, yes[i]) == 0) {
			*out = true;
			return 0;
		}
		if (strcasecmp(s, no[i]) == 0) {
			*out = false;
			return 0;
		}
	}
	return -1;
}

int
fsync_dir(const char *dir)
{
	int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	int r, saved;

	if (fd < 0)
		return -1;
	r = fsync(fd);
	saved = errno;
	close(fd);
	errno = saved;
	return r;
}

char *
path_dirname(const char *path)
{
	const char *slash = strrchr(path, '/');

	if (slash == NULL)
		return xstrdup(".");
	if (slash == path)
		return xstrdup("/");
	return xstrndup(path, (size_t)(slash - path));
}

int
read_text_file(const char *path, const char *what, size_t max, struct strbuf *out,
               struct strbuf *err)
{
	char buf[8192];
	size_t n;
	FILE *f = fopen(path, "r");
	bool bad;

	if (f == NULL) {
		strbuf_printf(err, "cannot open %s \"%s\": %s\n", what, path, strerror(errno));
		return -1;
	}
	while ((n = fread(buf, 1, sizeof(buf), f)) > 0 && out->len <= max)
		strbuf_append(out, buf, n);
	secure_zero(buf, sizeof(buf));
	bad = ferror(f) || out->len > max || memchr(out->data ? out->data : "", '\0', out->len);
	fclose(f);
	if (bad) {
		strbuf_printf(err, "cannot read %s \"%s\": not a text file of at most %zu bytes\n",
		              what, path, max);
		return -1;
	}
	return 0;
}
