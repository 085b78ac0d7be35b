/* engine/ctxfile.h — the container of saved contexts (.lrc files): a fixed header
 * (magic, format version, what the window was computed with) and a table of sections,
 * each with its own codec (raw or zstd) and CRC-32C.  The format is documented in
 * docs/lrc-format.md; versions and section ids are append-only.
 *
 * Writing is atomic: sections stream into "PATH.tmp.PID", and lr_ctxw_commit writes
 * the header, fsyncs, renames over PATH and fsyncs the directory, so an interrupted
 * write never leaves a broken PATH and never touches an existing good one.
 * Reading maps the file read-only and checks everything before anything is used:
 * magic, version, header checksum, every section inside the file, aligned and not
 * overlapping, every section's checksum, every zstd section's size.  A damaged or
 * truncated file is LR_EFORMAT with a message saying what is wrong; a newer format
 * version is LR_EUNSUPPORTED. */
#ifndef LR_CTXFILE_H
#define LR_CTXFILE_H

#include <stdint.h>

#include "engine/err.h"

#define LR_CTX_VERSION      1
#define LR_CTX_MAX_SECTIONS 16
#define LR_CTX_ALIGN        4096   /* sections start on page boundaries (raw ones mmap well) */

enum lr_ctx_codec { LR_CTX_RAW = 0, LR_CTX_ZSTD = 1 };

/* Section ids (append-only). */
enum lr_ctx_section {
	LR_CTX_SEC_META = 1,       /* application metadata (model path, ...) */
	LR_CTX_SEC_MANIFEST = 2,   /* the document manifest */
	LR_CTX_SEC_TOKENS = 3,     /* the token ids of the window, int32 little-endian */
	LR_CTX_SEC_KV = 4,         /* the KV cache blocks (engine/kv.h's serialised form) */
};

/* What the window was computed with; all of it is checked against the model and
 * settings it is loaded for. */
struct lr_ctx_header {
	uint32_t version;
	uint8_t model_fp[32];      /* lr_model_fingerprint of the model */
	uint32_t kv_type;          /* enum lr_kv_type */
	uint32_t kv_layout;        /* version of the KV serialisation */
	uint32_t n_ctx;            /* the window the context was made for */
	uint32_t n_tokens;         /* tokens in the window */
	uint32_t n_layer, n_head_kv, head_dim, head_dim_v;
	uint32_t rope_dim, rope_scaling;
	float rope_base, rope_scale;
};

struct lr_ctx_secinfo {
	uint32_t id, codec;
	uint64_t offset, stored, raw;
	uint32_t crc;              /* CRC-32C of the stored bytes */
};

/* ------------------------------------------------------------------ writing */

struct lr_ctxw;

/* Whether PATH can take a context: a new path or a regular file, through a symbolic link
 * its target (the file is written beside it and renamed over it).  A directory (EISDIR),
 * device or pipe (LR_EIO) or dangling link (ENOENT) is refused.  lr_ctxw_open checks the
 * same; this lets a caller refuse before any work. */
int lr_ctxw_check(const char *path, struct lr_err *err);

/* Start writing PATH (nothing at PATH changes until lr_ctxw_commit); lr_ctxw_check's rules. */
int lr_ctxw_open(struct lr_ctxw **out, const char *path, struct lr_err *err);

/* Sections, one at a time: begin, any number of writes, end. */
int lr_ctxw_begin(struct lr_ctxw *w, enum lr_ctx_section id, enum lr_ctx_codec codec, struct lr_err *err);
int lr_ctxw_write(struct lr_ctxw *w, const void *data, uint64_t len, struct lr_err *err);
int lr_ctxw_end(struct lr_ctxw *w, struct lr_err *err);

/* Write the header, make everything durable and put the file in place.  Frees w
 * (also on failure, after removing the temporary file). */
int lr_ctxw_commit(struct lr_ctxw *w, const struct lr_ctx_header *h, struct lr_err *err);

/* Give up: remove the temporary file, free w.  Accepts NULL. */
void lr_ctxw_abort(struct lr_ctxw *w);

/* ------------------------------------------------------------------ reading */

struct lr_ctxr;

/* Open and fully validate PATH.  Errors: LR_EIO, LR_EFORMAT, LR_EUNSUPPORTED, LR_ENOMEM. */
int lr_ctxr_open(struct lr_ctxr **out, const char *path, struct lr_err *err);
void lr_ctxr_close(struct lr_ctxr *r);

const struct lr_ctx_header *lr_ctxr_header(const struct lr_ctxr *r);

/* A section's bytes: raw sections point into the read-only map, zstd sections into a
 * buffer decompressed (and checked) at open; both valid until lr_ctxr_close.
 * LR_ENOTFOUND if the file has no such section. */
int lr_ctxr_section(const struct lr_ctxr *r, enum lr_ctx_section id, const void **data, uint64_t *len,
                    struct lr_err *err);

/* The table of sections (for `inspect`-like reports and the benchmark). */
int lr_ctxr_sections(const struct lr_ctxr *r, const struct lr_ctx_secinfo **s);

#endif
