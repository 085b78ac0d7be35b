/* engine/ctxfile.c — the .lrc container: streamed, atomically committed writes;
 * mapped, fully validated reads.  Workload: a few small sections (manifest, tokens)
 * and one large one (the KV blocks: up to tens of GB), written once and read often,
 * so reading checks checksums at memory speed (CRC-32C) and maps raw data in place. */
#include "engine/ctxfile.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <inttypes.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <zstd.h>

#include "engine/crc32c.h"

/* A zstd frame expands at most ~32,768 times (an RLE block: 4 bytes for 128 KiB): a
 * section claiming more is forged, and is refused before its size reaches malloc. */
#define ZSTD_MAX_RATIO 65536u
#define MAX_WINDOW (1u << 24)   /* tokens: the largest context any model declares */

/* A fuzzing build (make fuzz-lrc) skips the checksums so that mutations reach the
 * parsing behind them; never in the product. */
#ifdef FUZZING_BUILD_MODE_UNSAFE_FOR_PRODUCTION
#define IGNORE_CRC 1
#else
#define IGNORE_CRC 0
#endif

static const uint8_t MAGIC[8] = { 'L', 'R', 'C', 'T', 'X', '\r', '\n', 0x1a };

#define HDR_BYTES   1024u     /* the encoded header; section data starts at LR_CTX_ALIGN */
#define HDR_CRC_AT  (HDR_BYTES - 4)
#define SEC_AT      104u      /* section table */
#define SEC_BYTES   40u
#define ZSTD_LEVEL  3

/* ------------------------------------------------------------------ encoding */

static void put32(uint8_t *p, uint32_t v) { for (int i = 0; i < 4; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static void put64(uint8_t *p, uint64_t v) { for (int i = 0; i < 8; i++) p[i] = (uint8_t)(v >> (8 * i)); }
static uint32_t get32(const uint8_t *p) { uint32_t v = 0; for (int i = 0; i < 4; i++) v |= (uint32_t)p[i] << (8 * i); return v; }
static uint64_t get64(const uint8_t *p) { uint64_t v = 0; for (int i = 0; i < 8; i++) v |= (uint64_t)p[i] << (8 * i); return v; }
static uint32_t fbits(float f) { uint32_t u; memcpy(&u, &f, 4); return u; }
static float bitsf(uint32_t u) { float f; memcpy(&f, &u, 4); return f; }

static void encode(uint8_t *b, const struct lr_ctx_header *h, const struct lr_ctx_secinfo *s, uint32_t n)
{
	memset(b, 0, HDR_BYTES);
	memcpy(b, MAGIC, 8);
	put32(b + 8, LR_CTX_VERSION);
	put32(b + 12, HDR_BYTES);
	memcpy(b + 16, h->model_fp, 32);
	put32(b + 48, h->kv_type);
	put32(b + 52, h->kv_layout);
	put32(b + 56, h->n_ctx);
	put32(b + 60, h->n_tokens);
	put32(b + 64, h->n_layer);
	put32(b + 68, h->n_head_kv);
	put32(b + 72, h->head_dim);
	put32(b + 76, h->head_dim_v);
	put32(b + 80, h->rope_dim);
	put32(b + 84, h->rope_scaling);
	put32(b + 88, fbits(h->rope_base));
	put32(b + 92, fbits(h->rope_scale));
	put32(b + 96, n);
	for (uint32_t i = 0; i < n; i++) {
		uint8_t *e = b + SEC_AT + SEC_BYTES * i;
		put32(e, s[i].id);
		put32(e + 4, s[i].codec);
		put64(e + 8, s[i].offset);
		put64(e + 16, s[i].stored);
		put64(e + 24, s[i].raw);
		put32(e + 32, s[i].crc);
	}
	put32(b + HDR_CRC_AT, lr_crc32c(0, b, HDR_CRC_AT));
}

/* ------------------------------------------------------------------ writing */

struct lr_ctxw {
	char *path, *tmp;
	int fd;
	uint64_t pos;                      /* file offset of the next byte */
	struct lr_ctx_secinfo sec[LR_CTX_MAX_SECTIONS];
	uint32_t n_sec;
	int open_sec;                      /* a section is being written */
	ZSTD_CCtx *zc;
	uint8_t *zbuf;
	size_t zcap;
};

static int wr(struct lr_ctxw *w, const void *data, size_t len, struct lr_err *err)
{
	const uint8_t *p = data;

	while (len) {
		ssize_t k = write(w->fd, p, len > (1u << 30) ? 1u << 30 : len);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return lr_errf_sys(err, errno, "cannot write '%s'", w->tmp);
		}
		p += k;
		len -= (size_t)k;
		w->pos += (uint64_t)k;
	}
	return 0;
}

/* write stored bytes of the open section: checksum them too */
static int wr_stored(struct lr_ctxw *w, const void *data, size_t len, struct lr_err *err)
{
	struct lr_ctx_secinfo *s = &w->sec[w->n_sec];

	s->crc = lr_crc32c(s->crc, data, len);
	s->stored += len;
	return wr(w, data, len, err);
}

static int pad_to(struct lr_ctxw *w, uint64_t align, struct lr_err *err)
{
	static const uint8_t zero[4096];
	uint64_t pad = (align - w->pos % align) % align;

	while (pad) {
		size_t k = pad < sizeof zero ? (size_t)pad : sizeof zero;
		int rc = wr(w, zero, k, err);
		if (rc)
			return rc;
		pad -= k;
	}
	return 0;
}

/* Temporary files of writers that were killed (PATH.tmp.*) would stay forever: remove
 * them before starting a new one.  A live writer holds an exclusive flock on its file
 * for as long as it writes, so a file whose lock can be taken is abandoned; a PID
 * would be a guess (another PID namespace sharing the directory has other PIDs). */
static void remove_stale(const char *path)
{
	char *dir_copy = strdup(path), *base_copy = strdup(path), *dir, *base;
	DIR *d;
	struct dirent *e;
	size_t blen;

	if (!dir_copy || !base_copy)
		goto out;
	dir = dirname(dir_copy);
	base = basename(base_copy);
	blen = strlen(base);
	if (!(d = opendir(dir)))
		goto out;
	while ((e = readdir(d))) {
		char full[4096];
		int fd;
		if (strncmp(e->d_name, base, blen) != 0 || strncmp(e->d_name + blen, ".tmp.", 5) != 0)
			continue;
		snprintf(full, sizeof full, "%s/%s", dir, e->d_name);
		fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK | O_NOFOLLOW);
		if (fd < 0)
			continue;
		if (flock(fd, LOCK_EX | LOCK_NB) == 0)
			unlink(full);
		close(fd);
	}
	closedir(d);
out:
	free(dir_copy);
	free(base_copy);
}

/* The file a new context replaces: through a symbolic link its target (the link stays a
 * link); anything but a regular file is refused, since renaming over a device, a pipe or
 * a directory would put the context where that was.  *real: malloc'd. */
static int target(const char *path, char **real, struct lr_err *err)
{
	struct stat st;

	*real = NULL;
	if (stat(path, &st) != 0) {
		if (errno != ENOENT)
			return lr_errf_sys(err, errno, "cannot write '%s'", path);
		if (lstat(path, &st) == 0)     /* a dangling link: write a file where it points */
			return lr_errf_sys(err, ENOENT, "cannot write '%s' (a link to a missing file)", path);
		*real = strdup(path);
	} else if (S_ISDIR(st.st_mode)) {
		return lr_errf_sys(err, EISDIR, "cannot write '%s'", path);
	} else if (!S_ISREG(st.st_mode)) {
		return lr_errf(err, LR_EIO, "cannot write '%s': not a regular file", path);
	} else {
		*real = realpath(path, NULL);
	}
	return *real ? 0 : lr_errf(err, LR_ENOMEM, "out of memory");
}

int lr_ctxw_check(const char *path, struct lr_err *err)
{
	char *real;
	int rc = target(path, &real, err);

	free(real);
	return rc;
}

/* A new PATH.tmp.PID.RANDOM (created exclusively, 0644 less the umask), locked for as
 * long as it is open; a cleaner that took the lock between its creation and ours (and
 * so may have removed it) makes us try again.  The random part keeps writers in two PID
 * namespaces with the same PID apart.  @return the descriptor, or -1 with errno set. */
static int create_tmp(const char *path, char *tmp, size_t n)
{
	struct timespec ts;
	uint64_t r;

	clock_gettime(CLOCK_REALTIME, &ts);
	r = (uint64_t)ts.tv_nsec * 0x9E3779B97F4A7C15ull ^ (uint64_t)ts.tv_sec ^ ((uint64_t)(uintptr_t)tmp << 17);
	for (int tries = 0; tries < 16; tries++) {
		struct stat a, b;
		int fd;
		r = r * 6364136223846793005ull + 1442695040888963407ull;
		snprintf(tmp, n, "%s.tmp.%ld.%08" PRIx32, path, (long)getpid(), (uint32_t)(r >> 32));
		if ((fd = open(tmp, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0644)) < 0) {
			if (errno == EEXIST)
				continue;
			return -1;
		}
		if (flock(fd, LOCK_EX) == 0 && fstat(fd, &a) == 0 && stat(tmp, &b) == 0 && a.st_ino == b.st_ino &&
		    a.st_dev == b.st_dev)
			return fd;
		close(fd);
	}
	errno = EEXIST;
	return -1;
}

int lr_ctxw_open(struct lr_ctxw **out, const char *path, struct lr_err *err)
{
	struct lr_ctxw *w;
	char *real;
	size_t n;
	int rc;

	*out = NULL;
	if ((rc = target(path, &real, err)))
		return rc;
	path = real;
	n = strlen(path) + 32;
	w = calloc(1, sizeof *w);
	if (!w || !(w->tmp = malloc(n))) {
		free(real);
		free(w);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	w->path = real;
	remove_stale(path);
	if ((w->fd = create_tmp(path, w->tmp, n)) < 0) {
		rc = lr_errf_sys(err, errno, "cannot create a temporary file beside '%s'", path);
		free(w->path);
		free(w->tmp);
		free(w);
		return rc;
	}
	/* room for the header, written last */
	if ((rc = pad_to(w, LR_CTX_ALIGN, err)) || (rc = wr(w, (uint8_t[1]){ 0 }, 1, err)) ||
	    (rc = pad_to(w, LR_CTX_ALIGN, err))) {
		lr_ctxw_abort(w);
		return rc;
	}
	*out = w;
	return 0;
}

int lr_ctxw_begin(struct lr_ctxw *w, enum lr_ctx_section id, enum lr_ctx_codec codec, struct lr_err *err)
{
	struct lr_ctx_secinfo *s;
	int rc;

	if (w->open_sec || w->n_sec == LR_CTX_MAX_SECTIONS)
		return lr_errf(err, LR_EINVAL, "context file: section %d cannot start here", (int)id);
	if ((rc = pad_to(w, LR_CTX_ALIGN, err)))
		return rc;
	s = &w->sec[w->n_sec];
	memset(s, 0, sizeof *s);
	s->id = id;
	s->codec = codec;
	s->offset = w->pos;
	if (codec == LR_CTX_ZSTD) {
		if (!w->zc) {
			w->zc = ZSTD_createCCtx();
			w->zcap = ZSTD_CStreamOutSize();
			w->zbuf = malloc(w->zcap);
			if (!w->zc || !w->zbuf)
				return lr_errf(err, LR_ENOMEM, "out of memory for the zstd compressor");
		}
		ZSTD_CCtx_reset(w->zc, ZSTD_reset_session_only);
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_compressionLevel, ZSTD_LEVEL);
		ZSTD_CCtx_setParameter(w->zc, ZSTD_c_checksumFlag, 0);
	}
	w->open_sec = 1;
	return 0;
}

static int zstream(struct lr_ctxw *w, const void *data, size_t len, ZSTD_EndDirective mode, struct lr_err *err)
{
	ZSTD_inBuffer in = { data, len, 0 };
	size_t left;

	do {
		ZSTD_outBuffer o = { w->zbuf, w->zcap, 0 };
		int rc;
		left = ZSTD_compressStream2(w->zc, &o, &in, mode);
		if (ZSTD_isError(left))
			return lr_errf(err, LR_ENOMEM, "zstd: %s", ZSTD_getErrorName(left));
		if (o.pos && (rc = wr_stored(w, w->zbuf, o.pos, err)))
			return rc;
	} while (mode == ZSTD_e_end ? left != 0 : in.pos < in.size);
	return 0;
}

int lr_ctxw_write(struct lr_ctxw *w, const void *data, uint64_t len, struct lr_err *err)
{
	struct lr_ctx_secinfo *s = &w->sec[w->n_sec];

	if (!w->open_sec)
		return lr_errf(err, LR_EINVAL, "context file: write outside a section");
	s->raw += len;
	if (s->codec == LR_CTX_ZSTD)
		return zstream(w, data, (size_t)len, ZSTD_e_continue, err);
	return wr_stored(w, data, (size_t)len, err);
}

int lr_ctxw_end(struct lr_ctxw *w, struct lr_err *err)
{
	int rc;

	if (!w->open_sec)
		return lr_errf(err, LR_EINVAL, "context file: no section to end");
	if (w->sec[w->n_sec].codec == LR_CTX_ZSTD && (rc = zstream(w, NULL, 0, ZSTD_e_end, err)))
		return rc;
	w->open_sec = 0;
	w->n_sec++;
	return 0;
}

static void fsync_dir(const char *path)
{
	char *copy = strdup(path);
	int fd;

	if (!copy)
		return;
	fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (fd >= 0) {
		fsync(fd);
		close(fd);
	}
	free(copy);
}

int lr_ctxw_commit(struct lr_ctxw *w, const struct lr_ctx_header *h, struct lr_err *err)
{
	uint8_t hdr[HDR_BYTES];
	int rc = 0;

	if (w->open_sec) {
		rc = lr_errf(err, LR_EINVAL, "context file: a section is still open");
		goto fail;
	}
	encode(hdr, h, w->sec, w->n_sec);
	if (pwrite(w->fd, hdr, HDR_BYTES, 0) != (ssize_t)HDR_BYTES) {
		rc = lr_errf_sys(err, errno, "cannot write '%s'", w->tmp);
		goto fail;
	}
	if (fsync(w->fd) != 0) {
		rc = lr_errf_sys(err, errno, "cannot write '%s'", w->tmp);
		goto fail;
	}
	if (close(w->fd) != 0) {
		w->fd = -1;
		rc = lr_errf_sys(err, errno, "cannot write '%s'", w->tmp);
		goto fail;
	}
	w->fd = -1;
	if (rename(w->tmp, w->path) != 0) {
		rc = lr_errf_sys(err, errno, "cannot rename '%s' to '%s'", w->tmp, w->path);
		goto fail;
	}
	fsync_dir(w->path);
	free(w->tmp);
	w->tmp = NULL;
fail:
	lr_ctxw_abort(w);
	return rc;
}

void lr_ctxw_abort(struct lr_ctxw *w)
{
	if (!w)
		return;
	if (w->fd >= 0)
		close(w->fd);
	if (w->tmp)
		unlink(w->tmp);
	ZSTD_freeCCtx(w->zc);
	free(w->zbuf);
	free(w->tmp);
	free(w->path);
	free(w);
}

/* ------------------------------------------------------------------ reading */

struct lr_ctxr {
	const uint8_t *map;
	uint64_t size;
	struct lr_ctx_header h;
	struct lr_ctx_secinfo sec[LR_CTX_MAX_SECTIONS];
	void *plain[LR_CTX_MAX_SECTIONS];   /* decompressed zstd sections */
	uint32_t n_sec;
};

static int cmp_off(const void *a, const void *b)
{
	const struct lr_ctx_secinfo *x = *(const struct lr_ctx_secinfo *const *)a, *y = *(const struct lr_ctx_secinfo *const *)b;

	return x->offset < y->offset ? -1 : x->offset > y->offset;
}

static int validate(struct lr_ctxr *r, struct lr_err *err)
{
	const uint8_t *b = r->map;
	const struct lr_ctx_secinfo *order[LR_CTX_MAX_SECTIONS];

	if (r->size < 8 || memcmp(b, MAGIC, 8) != 0)
		return lr_errf(err, LR_EFORMAT, "not a longread context file (bad magic)");
	if (r->size < LR_CTX_ALIGN)
		return lr_errf(err, LR_EFORMAT, "truncated context file (%" PRIu64 " bytes; the header alone is %u)",
			r->size, LR_CTX_ALIGN);
	r->h.version = get32(b + 8);
	if (r->h.version > LR_CTX_VERSION)
		return lr_errf(err, LR_EUNSUPPORTED, "context file format version %" PRIu32 " is newer than this "
			"longread reads (%d); pack it again or upgrade", r->h.version, LR_CTX_VERSION);
	if ((!IGNORE_CRC && get32(b + HDR_CRC_AT) != lr_crc32c(0, b, HDR_CRC_AT)) || get32(b + 12) != HDR_BYTES ||
	    r->h.version == 0)
		return lr_errf(err, LR_EFORMAT, "context file header is damaged (checksum mismatch)");
	memcpy(r->h.model_fp, b + 16, 32);
	r->h.kv_type = get32(b + 48);
	r->h.kv_layout = get32(b + 52);
	r->h.n_ctx = get32(b + 56);
	r->h.n_tokens = get32(b + 60);
	r->h.n_layer = get32(b + 64);
	r->h.n_head_kv = get32(b + 68);
	r->h.head_dim = get32(b + 72);
	r->h.head_dim_v = get32(b + 76);
	r->h.rope_dim = get32(b + 80);
	r->h.rope_scaling = get32(b + 84);
	r->h.rope_base = bitsf(get32(b + 88));
	r->h.rope_scale = bitsf(get32(b + 92));
	r->n_sec = get32(b + 96);
	if (r->n_sec > LR_CTX_MAX_SECTIONS)
		return lr_errf(err, LR_EFORMAT, "context file lists %" PRIu32 " sections (at most %d)", r->n_sec,
			LR_CTX_MAX_SECTIONS);
	if (r->h.n_tokens > r->h.n_ctx)
		return lr_errf(err, LR_EFORMAT, "context file holds %" PRIu32 " tokens in a window of %" PRIu32,
			r->h.n_tokens, r->h.n_ctx);
	if (r->h.n_ctx > MAX_WINDOW)
		return lr_errf(err, LR_EFORMAT, "context file says its window is %" PRIu32 " tokens (at most %u: "
			"damaged)", r->h.n_ctx, MAX_WINDOW);
	for (uint32_t i = 0; i < r->n_sec; i++) {
		const uint8_t *e = b + SEC_AT + SEC_BYTES * i;
		struct lr_ctx_secinfo *s = &r->sec[i];
		s->id = get32(e);
		s->codec = get32(e + 4);
		s->offset = get64(e + 8);
		s->stored = get64(e + 16);
		s->raw = get64(e + 24);
		s->crc = get32(e + 32);
		if (s->codec > LR_CTX_ZSTD || (s->codec == LR_CTX_RAW && s->raw != s->stored) ||
		    (s->codec == LR_CTX_ZSTD && s->raw / ZSTD_MAX_RATIO > s->stored))
			return lr_errf(err, LR_EFORMAT, "context file section %" PRIu32 " has a bad codec or size", s->id);
		if (s->offset % LR_CTX_ALIGN || s->offset < LR_CTX_ALIGN || s->offset > r->size ||
		    s->stored > r->size - s->offset)
			return lr_errf(err, LR_EFORMAT, "truncated context file: section %" PRIu32 " (%" PRIu64
				" bytes at %" PRIu64 ") runs past its end (%" PRIu64 " bytes)", s->id, s->stored, s->offset, r->size);
		for (uint32_t k = 0; k < i; k++)
			if (r->sec[k].id == s->id)
				return lr_errf(err, LR_EFORMAT, "context file has section %" PRIu32 " twice", s->id);
		order[i] = s;
	}
	qsort(order, r->n_sec, sizeof *order, cmp_off);
	for (uint32_t i = 1; i < r->n_sec; i++)
		if (order[i - 1]->offset + order[i - 1]->stored > order[i]->offset)
			return lr_errf(err, LR_EFORMAT, "context file sections overlap (damaged file)");
	for (uint32_t i = 0; i < r->n_sec; i++) {
		struct lr_ctx_secinfo *s = &r->sec[i];
		if (!IGNORE_CRC && lr_crc32c(0, b + s->offset, s->stored) != s->crc)
			return lr_errf(err, LR_EFORMAT, "context file section %" PRIu32 " is damaged (checksum mismatch)", s->id);
		if (s->codec == LR_CTX_ZSTD) {
			unsigned long long fsz = ZSTD_getFrameContentSize(b + s->offset, s->stored);
			size_t got;
			/* streamed frames do not declare their size: then the decompressed length
			 * is what is checked */
			if (fsz == ZSTD_CONTENTSIZE_ERROR || (fsz != ZSTD_CONTENTSIZE_UNKNOWN && fsz != s->raw))
				return lr_errf(err, LR_EFORMAT, "context file section %" PRIu32 " has a bad size", s->id);
			r->plain[i] = malloc(s->raw ? s->raw : 1);
			if (!r->plain[i])
				return lr_errf(err, LR_ENOMEM, "out of memory for %" PRIu64 " bytes of section %" PRIu32,
					s->raw, s->id);
			got = ZSTD_decompress(r->plain[i], s->raw, b + s->offset, s->stored);
			if (ZSTD_isError(got) || got != s->raw)
				return lr_errf(err, LR_EFORMAT, "context file section %" PRIu32 " does not decompress", s->id);
		}
	}
	return 0;
}

int lr_ctxr_open(struct lr_ctxr **out, const char *path, struct lr_err *err)
{
	struct lr_ctxr *r;
	struct stat st;
	int fd, rc;

	*out = NULL;
	fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);   /* a FIFO must not block: refused below */
	if (fd < 0)
		return lr_errf_sys(err, errno, "cannot open '%s'", path);
	if (fstat(fd, &st) != 0) {
		rc = lr_errf_sys(err, errno, "cannot stat '%s'", path);
		close(fd);
		return rc;
	}
	if (!S_ISREG(st.st_mode)) {
		rc = S_ISDIR(st.st_mode) ? lr_errf_sys(err, EISDIR, "cannot read '%s'", path)
		                         : lr_errf(err, LR_EFORMAT, "'%s' is not a regular file", path);
		close(fd);
		return rc;
	}
	r = calloc(1, sizeof *r);
	if (!r) {
		close(fd);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	r->size = (uint64_t)st.st_size;
	if (r->size == 0) {
		close(fd);
		free(r);
		return lr_errf(err, LR_EFORMAT, "'%s': empty file, not a longread context", path);
	}
	r->map = mmap(NULL, (size_t)r->size, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (r->map == MAP_FAILED) {
		free(r);
		return lr_errf_sys(err, errno, "cannot map '%s'", path);
	}
	if ((rc = validate(r, err))) {
		lr_err_prefix(err, "'%s': ", path);
		lr_ctxr_close(r);
		return rc;
	}
	*out = r;
	return 0;
}

void lr_ctxr_close(struct lr_ctxr *r)
{
	if (!r)
		return;
	for (uint32_t i = 0; i < LR_CTX_MAX_SECTIONS; i++)
		free(r->plain[i]);
	if (r->map && r->map != MAP_FAILED)
		munmap((void *)r->map, (size_t)r->size);
	free(r);
}

const struct lr_ctx_header *lr_ctxr_header(const struct lr_ctxr *r)
{
	return &r->h;
}

int lr_ctxr_section(const struct lr_ctxr *r, enum lr_ctx_section id, const void **data, uint64_t *len,
                    struct lr_err *err)
{
	for (uint32_t i = 0; i < r->n_sec; i++) {
		if (r->sec[i].id != (uint32_t)id)
			continue;
		*data = r->sec[i].codec == LR_CTX_ZSTD ? r->plain[i] : (const void *)(r->map + r->sec[i].offset);
		*len = r->sec[i].raw;
		return 0;
	}
	return lr_errf(err, LR_ENOTFOUND, "the context file has no section %d", (int)id);
}

int lr_ctxr_sections(const struct lr_ctxr *r, const struct lr_ctx_secinfo **s)
{
	*s = r->sec;
	return (int)r->n_sec;
}
