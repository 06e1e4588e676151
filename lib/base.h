/*
 * base.h - error codes and messages, checked allocation, the growable
 * buffer, atomic file output and SHA-256: what every other part stands on.
 */
#ifndef AIOPS_BASE_H
#define AIOPS_BASE_H

#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>

#define AIOPS_VERSION "0.1.0"

/* Every library call that can fail returns one of these (negative on failure). */
enum aiops_err {
	AIOPS_OK = 0,
	AIOPS_ERR_NOMEM = -1,    /* an allocation failed */
	AIOPS_ERR_IO = -2,       /* open, read, write, fsync or rename failed */
	AIOPS_ERR_DATA = -3,     /* malformed input data (CSV, labels, JSON reply) */
	AIOPS_ERR_FORMAT = -4,   /* not a valid file of its format: magic, checksum, truncation */
	AIOPS_ERR_VERSION = -5,  /* a format version newer than this reader */
	AIOPS_ERR_NET = -6,      /* a network or HTTP failure */
	AIOPS_ERR_USAGE = -7,    /* a bad argument from the caller (an option value) */
	AIOPS_ERR_NOTFOUND = -8, /* a missing file, archive member or column */
	AIOPS_ERR_LIMIT = -9     /* a size limit was exceeded */
};

/*
 * An error: its code and a message that names the place, e.g.
 * "metrics.csv:1042:7: expected a number, got \"n/a\"". Callers print
 * msg prefixed with the program name.
 */
struct aiops_error {
	int code;
	char msg[1024];
};

/* Fill e (may be NULL) with code and a printf-style message; returns code. */
int aiops_error_set(struct aiops_error *e, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* Prepend "prefix: " to the message already in e; returns e->code. */
int aiops_error_prefix(struct aiops_error *e, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* A short English name for a code ("out of memory", ...). */
const char *aiops_strerror(int code);
/*
 * Bytes s[0..n) for a message into buf (bsz > 5): at most max of them (and
 * what fits), control and non-ASCII bytes as '?', "..." when some are left out.
 */
const char *aiops_excerpt(const char *s, size_t n, size_t max, char *buf, size_t bsz);
/* Map an error code to the documented exit status (1 for any failure). */
int aiops_exit_status(int code);

/*
 * Checked allocation. These return NULL on failure like their libc
 * counterparts (reallocarray also on overflow); callers turn that into
 * AIOPS_ERR_NOMEM. When the environment variable AIOPS_FAIL_ALLOC=N is set,
 * the N-th allocation (1-based) and every later one fail: the torture mode.
 */
void *aiops_malloc(size_t n);
void *aiops_calloc(size_t n, size_t size);
void *aiops_realloc(void *p, size_t n);
void *aiops_reallocarray(void *p, size_t n, size_t size);
char *aiops_strdup(const char *s);
char *aiops_strndup(const char *s, size_t n);
void aiops_free(void *p);
/*
 * How many allocations have failed so far. jansson reports a failed
 * allocation in its lexer as a syntax error; a caller that compares this
 * count before and after a load tells the two apart.
 */
unsigned long aiops_alloc_failures(void);
/* AIOPS_ERR_NOMEM with e set when an allocation failed since the count
 * nfail was taken, else AIOPS_OK. */
int aiops_nomem_since(unsigned long nfail, struct aiops_error *e);
/* fn(a) on this thread and fn(b) beside it on a thread of its own when threaded
 * (and one can be had), else after it; returns when both are done. */
void aiops_run_pair(void *(*fn)(void *), void *a, void *b, int threaded);
/*
 * A helper thread that runs one piece of work at a time beside this one:
 * aiops_helper_run() hands fn(arg) over (after the one before is done),
 * aiops_helper_wait() waits for it. With no helper (NULL: none could be
 * started) the work is done at once, in aiops_helper_run().
 */
struct aiops_helper;
struct aiops_helper *aiops_helper_start(void);
void aiops_helper_run(struct aiops_helper *h, void *(*fn)(void *), void *arg);
void aiops_helper_wait(struct aiops_helper *h);
void aiops_helper_stop(struct aiops_helper *h);
/* Route jansson's allocations through the functions above; idempotent. */
void aiops_alloc_init(void);

/*
 * The growable buffer, in the manner of git's strbuf. buf is always
 * NUL-terminated once anything was added; len excludes the NUL. Initialise
 * with AIOPS_BUF_INIT; release with aiops_buf_release(). Adding functions
 * return AIOPS_OK or AIOPS_ERR_NOMEM (the buffer is unchanged on failure).
 */
struct aiops_buf {
	char *buf;
	size_t len;
	size_t alloc;
};
#define AIOPS_BUF_INIT { NULL, 0, 0 }

int aiops_buf_grow(struct aiops_buf *b, size_t extra);
int aiops_buf_add(struct aiops_buf *b, const void *data, size_t n);
int aiops_buf_addstr(struct aiops_buf *b, const char *s);
int aiops_buf_addch(struct aiops_buf *b, int c);
/* s as one CSV field (RFC 4180): quoted, quotes doubled, when it holds , " or a line end. */
int aiops_buf_addcsv(struct aiops_buf *b, const char *s);
/* s as XML character data, also fit for a quoted attribute: & < > " ' escaped, tab and
 * line ends a space, and what XML 1.0 cannot carry (a control character, a byte that is
 * not UTF-8) U+FFFD. At most maxcp characters (0: all), then an ellipsis. */
int aiops_buf_addxml(struct aiops_buf *b, const char *s, size_t maxcp);
int aiops_buf_addf(struct aiops_buf *b, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
int aiops_buf_vaddf(struct aiops_buf *b, const char *fmt, va_list ap);
void aiops_buf_reset(struct aiops_buf *b);
void aiops_buf_release(struct aiops_buf *b);
/* Hand the string to the caller (who frees it with aiops_free); b is reset. */
char *aiops_buf_detach(struct aiops_buf *b, size_t *len);

/*
 * Output that appears whole or not at all. aiops_out_open() with a path
 * writes to a temporary file beside it; aiops_out_commit() flushes, fsyncs
 * and renames it into place; aiops_out_abort() removes it. A NULL path or
 * "-" writes to standard output (commit then only flushes). name is what
 * messages call the output.
 */
struct aiops_out {
	int fd;
	char *path;      /* final path, or NULL for stdout */
	char *tmp;       /* temporary path while open, or NULL */
	const char *name;
	unsigned char *buf;
	size_t len, cap;
	uint64_t off;    /* bytes handed to write() so far */
	uint64_t synced; /* a temporary file's bytes whose writeback has been started */
	int slot;        /* cleanup registry slot, -1 if none */
	int direct;      /* a device or FIFO written in place */
	int unbuffered;  /* set by the caller: every aiops_out_write() is flushed at once */
};

int aiops_out_open(struct aiops_out *o, const char *path, struct aiops_error *e);
int aiops_out_write(struct aiops_out *o, const void *p, size_t n, struct aiops_error *e);
int aiops_out_flush(struct aiops_out *o, struct aiops_error *e);
/* Overwrite bytes at offset off (must be already written); files only. */
int aiops_out_pwrite(struct aiops_out *o, uint64_t off, const void *p, size_t n,
    struct aiops_error *e);
/* True when the output is a regular temporary file (pwrite works). */
int aiops_out_seekable(const struct aiops_out *o);
int aiops_out_commit(struct aiops_out *o, struct aiops_error *e);
/* Open path and write n bytes p to it, not yet committed; nothing is left on failure. */
int aiops_out_stage(struct aiops_out *o, const char *path, const void *p, size_t n,
    struct aiops_error *e);
/* Write n bytes p as the whole of path (or stdout for NULL): stage, commit. */
int aiops_out_put(const char *path, const void *p, size_t n, struct aiops_error *e);
void aiops_out_abort(struct aiops_out *o);
/*
 * Commit n outputs as one: all appear or none does. Every output is flushed
 * first (a full disk shows before any rename); a failure takes back the
 * renames already done and removes the rest; a terminating signal waits
 * until the renames are over. Every output is closed on return.
 */
int aiops_out_commit_all(struct aiops_out *o, size_t n, struct aiops_error *e);
/* Unlink every temporary file still open; async-signal-safe. */
void aiops_out_cleanup_signal(void);
/*
 * Several outputs that must all appear: between hold() and release() a
 * signal handler calls aiops_out_defer_signal(sig), which returns 1 when
 * the signal is to wait (the handler returns) and 0 when it is not;
 * release() raises a deferred signal again. Handlers may run in any thread.
 */
void aiops_out_hold(void);
void aiops_out_release(void);
int aiops_out_defer_signal(int sig);

/* SHA-256 through libcrypto. */
struct aiops_sha256 {
	void *ctx; /* EVP_MD_CTX */
};
int aiops_sha256_init(struct aiops_sha256 *h);
int aiops_sha256_update(struct aiops_sha256 *h, const void *p, size_t n);
/* Writes 32 bytes to out and releases h. */
int aiops_sha256_final(struct aiops_sha256 *h, unsigned char out[32]);
/*
 * The SHA-256 and size of what fd reads to its end, through buf[bufsz]:
 * AIOPS_OK, AIOPS_ERR_NOMEM, or AIOPS_ERR_IO with errno set by read(2).
 */
int aiops_sha256_fd(int fd, void *buf, size_t bufsz, unsigned char out[32], uint64_t *size);
void aiops_sha256_release(struct aiops_sha256 *h);
/* Lowercase hex of n bytes into out (2n+1 bytes). */
void aiops_hex(const unsigned char *p, size_t n, char *out);

/*
 * A seeded pseudo-random generator (xoshiro256**, seeded by splitmix64):
 * the same seed gives the same stream on every machine. Not for secrets.
 */
struct aiops_rng {
	uint64_t s[4];
};
void aiops_rng_seed(struct aiops_rng *r, uint64_t seed);
uint64_t aiops_rng_next(struct aiops_rng *r);
/* Uniform in [0, 1) with 53 random bits. */
double aiops_rng_uniform(struct aiops_rng *r);
/* Uniform integer in [0, n), n > 0, without modulo bias. */
uint64_t aiops_rng_below(struct aiops_rng *r, uint64_t n);
/* Standard normal (Box-Muller). */
double aiops_rng_normal(struct aiops_rng *r);

/* Little-endian loads and stores, independent of the host's byte order. */
static inline void aiops_put_u16(unsigned char *p, uint16_t v)
{ p[0] = (unsigned char)v; p[1] = (unsigned char)(v >> 8); }
static inline void aiops_put_u32(unsigned char *p, uint32_t v)
{ for (int i = 0; i < 4; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static inline void aiops_put_u64(unsigned char *p, uint64_t v)
{ for (int i = 0; i < 8; i++) p[i] = (unsigned char)(v >> (8 * i)); }
static inline uint16_t aiops_get_u16(const unsigned char *p)
{ return (uint16_t)(p[0] | (p[1] << 8)); }
static inline uint32_t aiops_get_u32(const unsigned char *p)
{ uint32_t v = 0; for (int i = 3; i >= 0; i--) v = (v << 8) | p[i]; return v; }
static inline uint64_t aiops_get_u64(const unsigned char *p)
{ uint64_t v = 0; for (int i = 7; i >= 0; i--) v = (v << 8) | p[i]; return v; }

#endif
