/* src/lrc.c — writing and reading .lrc context files at the session level. */
#include "src/lrc.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "engine/digest.h"
#include "engine/kv.h"

/* META is a list of fields: u32 key, u64 length, bytes (numbers as decimal text, so
 * the section stays readable with `zstd -d`).  Keys are append-only. */
enum meta_key {
	M_MODEL = 1, M_VERSION, M_CREATED, M_WINDOW, M_ANSWER, M_QUESTION, M_LINE_STEP,
	M_PREFIX, M_FIT, M_SYSTEM, M_FOCUS, M_ORDER,
	M_SOURCE,    /* one per document, window order: "SIZE MTIME_NS SHA256 PATH", or "-" */
	M_COMMAND, M_CWD,
	M_CHAT,      /* the chat format the prefix is written in ("chatml") */
	M_ROPE,      /* the RoPE scaling it was computed with: "yarn 4 32768", "none 1 0" */
};

struct mbuf {
	uint8_t *p;
	size_t n, cap;
	int oom;
};

static void put(struct mbuf *b, const void *data, size_t n)
{
	if (b->oom)
		return;
	if (b->n + n > b->cap) {
		size_t cap = b->cap ? b->cap : 256;
		uint8_t *np;
		while (cap < b->n + n)
			cap *= 2;
		if (!(np = realloc(b->p, cap))) {
			b->oom = 1;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->n, data, n);
	b->n += n;
}

static void field(struct mbuf *b, enum meta_key k, const char *s, size_t n)
{
	uint8_t h[12];

	for (int i = 0; i < 4; i++)
		h[i] = (uint8_t)((uint32_t)k >> (8 * i));
	for (int i = 0; i < 8; i++)
		h[4 + i] = (uint8_t)((uint64_t)n >> (8 * i));
	put(b, h, sizeof h);
	put(b, s, n);
}

static void field_str(struct mbuf *b, enum meta_key k, const char *s)
{
	field(b, k, s, strlen(s));
}

static void field_num(struct mbuf *b, enum meta_key k, uint64_t v)
{
	char s[24];

	snprintf(s, sizeof s, "%" PRIu64, v);
	field_str(b, k, s);
}

static int num(const uint8_t *s, uint64_t n, uint64_t *out)
{
	uint64_t v = 0;

	if (n == 0 || n > 20)
		return -1;
	for (uint64_t i = 0; i < n; i++) {
		if (s[i] < '0' || s[i] > '9' || v > (UINT64_MAX - 9) / 10)
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	*out = v;
	return 0;
}

static char *dup_n(const uint8_t *s, uint64_t n)
{
	char *d;

	if (memchr(s, 0, (size_t)n))
		return NULL;
	d = malloc((size_t)n + 1);
	if (d) {
		memcpy(d, s, (size_t)n);
		d[n] = '\0';
	}
	return d;
}

/* ------------------------------------------------------------------ sources */

static int64_t mtime_ns(const struct stat *st)
{
	return (int64_t)st->st_mtim.tv_sec * 1000000000 + st->st_mtim.tv_nsec;
}

/* The size, modification time and SHA-256 of the regular file at path, from one open
 * file.  @return 0, or an errno value. */
static int source_stat(const char *path, uint64_t *size, int64_t *mtime, uint8_t sha[32])
{
	uint8_t buf[1 << 16];
	struct lr_sha256 h;
	struct stat st;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK), e = 0;

	if (fd < 0)
		return errno;
	if (fstat(fd, &st) != 0)
		e = errno;
	else if (!S_ISREG(st.st_mode))
		e = EINVAL;
	if (e) {
		close(fd);
		return e;
	}
	*size = (uint64_t)st.st_size;
	*mtime = mtime_ns(&st);
	lr_sha256_init(&h);
	while ((n = read(fd, buf, sizeof buf)) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			e = errno;
			break;
		}
		lr_sha256_update(&h, buf, (size_t)n);
	}
	lr_sha256_final(&h, sha);
	close(fd);
	return e;
}

/* The META field of doc's source: what the file is now, and if it no longer has the
 * size it was extracted at, an impossible time and digest (so it reads as changed). */
static void field_source(struct mbuf *b, const struct lr_doc *d)
{
	char *abs = NULL, hex[LR_SHA256_HEX], *s;
	uint8_t sha[32];
	uint64_t size = 0;
	int64_t mtime = 0;
	size_t n;

	if (d->kind == LR_DOC_TREE || strcmp(d->path, "-") == 0 || !(abs = realpath(d->path, NULL)) ||
	    source_stat(abs, &size, &mtime, sha) != 0) {
		free(abs);
		field_str(b, M_SOURCE, "-");
		return;
	}
	if (size != d->file_bytes) {
		mtime = -1;
		memset(sha, 0, sizeof sha);
	}
	lr_sha256_hex(sha, hex);
	n = strlen(abs) + 96;
	if (!(s = malloc(n))) {
		b->oom = 1;
		free(abs);
		return;
	}
	snprintf(s, n, "%" PRIu64 " %" PRId64 " %s %s", size, mtime, hex, abs);
	field_str(b, M_SOURCE, s);
	free(s);
	free(abs);
}

static int parse_source(struct lr_lrc_source *src, const uint8_t *p, uint64_t n)
{
	char *s = dup_n(p, n), *e;
	unsigned long long size;
	long long mtime;
	int rc = -1;

	memset(src, 0, sizeof *src);
	if (!s)
		return -1;
	if (strcmp(s, "-") == 0) {
		free(s);
		return 0;
	}
	errno = 0;
	size = strtoull(s, &e, 10);
	if (errno || *e != ' ')
		goto out;
	mtime = strtoll(e + 1, &e, 10);
	if (errno || *e != ' ' || strlen(e + 1) < 66 || e[65] != ' ' || e[66] != '/')
		goto out;
	for (int i = 0; i < 32; i++) {
		unsigned v;
		if (sscanf(e + 1 + 2 * i, "%2x", &v) != 1)
			goto out;
		src->sha256[i] = (uint8_t)v;
	}
	if (!(src->path = strdup(e + 66)))
		goto out;
	src->size = size;
	src->mtime_ns = mtime;
	rc = 0;
out:
	free(s);
	return rc;
}

int lr_lrc_check_sources(const struct lr_lrc_meta *meta, size_t n_docs, struct lr_lrc_stale *st,
                         struct lr_err *err)
{
	memset(st, 0, sizeof *st);
	if (meta->n_sources != n_docs || !n_docs)
		return 0;    /* an older file: nothing recorded */
	st->checked = 1;
	st->changed = malloc(n_docs * sizeof *st->changed);
	st->missing = malloc(n_docs * sizeof *st->missing);
	if (!st->changed || !st->missing) {
		lr_lrc_stale_free(st);
		return lr_errf(err, LR_ENOMEM, "out of memory");
	}
	for (size_t i = 0; i < n_docs; i++) {
		const struct lr_lrc_source *src = &meta->sources[i];
		struct stat sb;
		uint8_t sha[32];
		uint64_t size;
		int64_t mtime;
		if (!src->path)
			continue;
		st->n_files++;
		if (stat(src->path, &sb) != 0 || !S_ISREG(sb.st_mode)) {
			st->missing[st->n_missing++] = i;
			continue;
		}
		if ((uint64_t)sb.st_size == src->size && mtime_ns(&sb) == src->mtime_ns)
			continue;
		if (source_stat(src->path, &size, &mtime, sha) != 0)
			st->missing[st->n_missing++] = i;
		else if (size != src->size || memcmp(sha, src->sha256, 32) != 0)
			st->changed[st->n_changed++] = i;
	}
	return 0;
}

void lr_lrc_stale_free(struct lr_lrc_stale *st)
{
	free(st->changed);
	free(st->missing);
	memset(st, 0, sizeof *st);
}

static int put_kv(void *arg, const void *data, uint64_t len, struct lr_err *err)
{
	return lr_ctxw_write(arg, data, len, err);
}

int lr_lrc_write(const char *path, const struct lr_pack *p, uint32_t n_question, const char *model_path,
                 const uint8_t fingerprint[32], const struct lr_ctx *ctx, enum lr_ctx_codec kv_codec,
                 const char *command, struct lr_err *err)
{
	const struct lr_model *m = lr_ctx_model(ctx);
	const struct lr_hparams *hp = &m->hp;
	const struct lr_doc **docs = NULL;
	struct lr_ctx_header h;
	struct lr_ctxw *w = NULL;
	struct mbuf meta = { 0 };
	char *abs = NULL, *man = NULL;
	size_t man_len = 0;
	uint32_t n_prefix = (uint32_t)p->ids.n;
	int rc;

	/* META */
	abs = realpath(model_path, NULL);
	field_str(&meta, M_MODEL, abs ? abs : model_path);
	field_str(&meta, M_VERSION, PACKAGE_VERSION);
	field_num(&meta, M_CREATED, (uint64_t)time(NULL));
	field_num(&meta, M_WINDOW, p->o.n_ctx);
	field_num(&meta, M_ANSWER, p->o.answer_tokens);
	field_num(&meta, M_QUESTION, n_question);
	field_num(&meta, M_LINE_STEP, p->o.line_step);
	field_num(&meta, M_PREFIX, n_prefix);
	field_num(&meta, M_FIT, (uint64_t)p->o.fit);
	if (p->o.system)
		field_str(&meta, M_SYSTEM, p->o.system);
	for (size_t i = 0; i < p->o.n_focus; i++)
		field_str(&meta, M_FOCUS, p->o.focus[i]);
	field_str(&meta, M_ORDER, lr_pack_order_name(p->o.order));
	if (command) {
		char *cwd = getcwd(NULL, 0);
		field_str(&meta, M_COMMAND, command);
		if (cwd)
			field_str(&meta, M_CWD, cwd);
		free(cwd);
	}
	if (p->chat)
		field_str(&meta, M_CHAT, lr_chat_format_name(p->chat->format));
	{
		char rope[64];
		snprintf(rope, sizeof rope, "%s %g %" PRIu32, lr_rope_scaling_name(hp->rope_scaling), hp->rope_scale,
		         hp->rope_orig_ctx);
		field_str(&meta, M_ROPE, rope);
	}
	for (size_t i = 0; i < p->n_docs; i++)
		field_source(&meta, p->docs[i].doc);
	if (meta.oom) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	/* MANIFEST: the documents in window order */
	docs = malloc((p->n_docs ? p->n_docs : 1) * sizeof *docs);
	if (!docs) {
		rc = lr_errf(err, LR_ENOMEM, "out of memory");
		goto out;
	}
	for (size_t i = 0; i < p->n_docs; i++)
		docs[i] = p->docs[i].doc;
	if ((rc = lr_doclist_save(docs, p->n_docs, &man, &man_len, err)))
		goto out;

	memset(&h, 0, sizeof h);
	memcpy(h.model_fp, fingerprint, 32);
	h.kv_type = lr_ctx_kv(ctx)->type;
	h.kv_layout = lr_ctx_kv_layout(ctx);
	h.n_ctx = lr_ctx_n_ctx(ctx);
	h.n_tokens = n_prefix;
	h.n_layer = hp->n_layer;
	h.n_head_kv = hp->n_head_kv;
	h.head_dim = hp->head_dim;
	h.head_dim_v = hp->head_dim_v;
	h.rope_dim = hp->rope_dim;
	h.rope_scaling = hp->rope_scaling;
	h.rope_base = hp->rope_base;
	h.rope_scale = hp->rope_scale;

	if ((rc = lr_ctxw_open(&w, path, err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_META, LR_CTX_ZSTD, err)) ||
	    (rc = lr_ctxw_write(w, meta.p, meta.n, err)) || (rc = lr_ctxw_end(w, err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_MANIFEST, LR_CTX_ZSTD, err)) ||
	    (rc = lr_ctxw_write(w, man, man_len, err)) || (rc = lr_ctxw_end(w, err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_TOKENS, LR_CTX_ZSTD, err)) ||
	    (rc = lr_ctxw_write(w, p->ids.v, (uint64_t)n_prefix * sizeof(int32_t), err)) ||
	    (rc = lr_ctxw_end(w, err)) ||
	    (rc = lr_ctxw_begin(w, LR_CTX_SEC_KV, kv_codec, err)) ||
	    (rc = lr_ctx_kv_save(ctx, n_prefix, put_kv, w, err)) || (rc = lr_ctxw_end(w, err)))
		goto out;
	rc = lr_ctxw_commit(w, &h, err);
	w = NULL;
out:
	lr_ctxw_abort(w);
	free(meta.p);
	free(man);
	free(docs);
	free(abs);
	return rc;
}

/* ------------------------------------------------------------------ reading */

static int parse_meta(struct lr_lrc_meta *m, const uint8_t *p, uint64_t len, struct lr_err *err)
{
	uint64_t have = 0;

	while (len) {
		uint32_t k = 0;
		uint64_t n = 0, v = 0;
		if (len < 12)
			return lr_errf(err, LR_EFORMAT, "damaged context file (META is cut short)");
		for (int i = 0; i < 4; i++)
			k |= (uint32_t)p[i] << (8 * i);
		for (int i = 0; i < 8; i++)
			n |= (uint64_t)p[4 + i] << (8 * i);
		p += 12;
		len -= 12;
		if (n > len)
			return lr_errf(err, LR_EFORMAT, "damaged context file (a META field runs past its end)");
		switch (k) {
		case M_SOURCE: {
			struct lr_lrc_source *sv = realloc(m->sources, (m->n_sources + 1) * sizeof *sv);
			if (!sv)
				return lr_errf(err, LR_ENOMEM, "out of memory");
			m->sources = sv;
			if (parse_source(&sv[m->n_sources], p, n))
				return lr_errf(err, LR_EFORMAT, "damaged context file (a document's source record)");
			m->n_sources++;
			break;
		}
		case M_MODEL: case M_VERSION: case M_SYSTEM: case M_ORDER: case M_FOCUS: case M_COMMAND: case M_CWD:
		case M_CHAT: case M_ROPE: {
			char *s = dup_n(p, n);
			if (!s)
				return lr_errf(err, LR_EFORMAT, "damaged context file (a META string holds NUL)");
			if (k == M_FOCUS) {
				char **f = realloc(m->focus, (m->n_focus + 1) * sizeof *f);
				if (!f) {
					free(s);
					return lr_errf(err, LR_ENOMEM, "out of memory");
				}
				m->focus = f;
				m->focus[m->n_focus++] = s;
				break;
			}
			char **dst = k == M_MODEL ? &m->model_path : k == M_VERSION ? &m->version :
			             k == M_SYSTEM ? &m->system : k == M_COMMAND ? &m->command :
			             k == M_CWD ? &m->cwd : k == M_CHAT ? &m->chat : k == M_ROPE ? &m->rope : &m->order;
			free(*dst);
			*dst = s;
			break;
		}
		case M_CREATED: case M_WINDOW: case M_ANSWER: case M_QUESTION: case M_LINE_STEP:
		case M_PREFIX: case M_FIT:
			if (num(p, n, &v) || (k != M_CREATED && v > UINT32_MAX))
				return lr_errf(err, LR_EFORMAT, "damaged context file (META field %" PRIu32 ")", k);
			if (k == M_CREATED) m->created = v;
			else if (k == M_WINDOW) m->window = (uint32_t)v;
			else if (k == M_ANSWER) m->answer_tokens = (uint32_t)v;
			else if (k == M_QUESTION) m->n_question = (uint32_t)v;
			else if (k == M_LINE_STEP) m->line_step = (uint32_t)v;
			else if (k == M_PREFIX) m->n_prefix = (uint32_t)v;
			else m->fit = v != 0;
			break;
		default:
			break;   /* a field from a later version: ignore */
		}
		have |= 1ull << (k < 63 ? k : 63);
		p += n;
		len -= n;
	}
	if (!(have & (1ull << M_MODEL)) || !(have & (1ull << M_WINDOW)) || !(have & (1ull << M_PREFIX)) ||
	    !(have & (1ull << M_QUESTION)))
		return lr_errf(err, LR_EFORMAT, "damaged context file (META lacks required fields)");
	return 0;
}

int lr_lrc_open(struct lr_lrc *f, const char *path, struct lr_err *err)
{
	const void *data;
	uint64_t len;
	int rc;

	memset(f, 0, sizeof *f);
	if ((rc = lr_ctxr_open(&f->r, path, err)))
		return rc;
	if ((rc = lr_ctxr_section(f->r, LR_CTX_SEC_META, &data, &len, err)) ||
	    (rc = parse_meta(&f->meta, data, len, err)) ||
	    (rc = lr_ctxr_section(f->r, LR_CTX_SEC_MANIFEST, &data, &len, err)) ||
	    (rc = lr_doclist_load(&f->docs, data, (size_t)len, err)) ||
	    (rc = lr_ctxr_section(f->r, LR_CTX_SEC_TOKENS, &data, &len, err)) ||
	    (rc = lr_ctxr_section(f->r, LR_CTX_SEC_KV, &f->kv, &f->kv_len, err)))
		goto fail;
	f->tokens = data;
	if (f->meta.n_sources && f->meta.n_sources != f->docs->n) {
		rc = lr_errf(err, LR_EFORMAT, "damaged context file (%zu source records for %zu documents)",
		             f->meta.n_sources, f->docs->n);
		goto fail;
	}
	if (len != (uint64_t)f->meta.n_prefix * sizeof(int32_t) || f->meta.n_prefix != lr_ctxr_header(f->r)->n_tokens ||
	    f->meta.n_prefix == 0) {
		rc = lr_errf(err, LR_EFORMAT, "damaged context file (token count mismatch)");
		goto fail;
	}
	if (lr_ctxr_header(f->r)->kv_type >= LR_KV_TYPE_COUNT) {
		rc = lr_errf(err, LR_EFORMAT, "damaged context file (KV cache type %" PRIu32 " is none longread writes)",
			lr_ctxr_header(f->r)->kv_type);
		goto fail;
	}
	return 0;
fail:
	if (rc == LR_ENOTFOUND)
		rc = lr_errf(err, LR_EFORMAT, "damaged context file (%s)", err ? err->msg : "a section is missing");
	lr_err_prefix(err, "'%s': ", path);
	lr_lrc_close(f);
	return rc;
}

void lr_lrc_close(struct lr_lrc *f)
{
	free(f->meta.model_path);
	free(f->meta.version);
	free(f->meta.system);
	free(f->meta.order);
	for (size_t i = 0; i < f->meta.n_focus; i++)
		free(f->meta.focus[i]);
	free(f->meta.focus);
	free(f->meta.command);
	free(f->meta.cwd);
	free(f->meta.chat);
	free(f->meta.rope);
	for (size_t i = 0; i < f->meta.n_sources; i++)
		free(f->meta.sources[i].path);
	free(f->meta.sources);
	lr_doclist_free(f->docs);
	lr_ctxr_close(f->r);
	memset(f, 0, sizeof *f);
}

int lr_lrc_check(const struct lr_lrc *f, const struct lr_model *m, const uint8_t fp[32],
                 enum lr_kv_type kv_type, uint32_t n_ctx, struct lr_err *err)
{
	const struct lr_ctx_header *h = lr_ctxr_header(f->r);
	const struct lr_hparams *hp = &m->hp;

	if (memcmp(h->model_fp, fp, 32) != 0)
		return lr_errf(err, LR_EMISMATCH, "the context was packed with another model (%s); pack it "
			"again for this one", f->meta.model_path);
	if (h->n_layer != hp->n_layer || h->n_head_kv != hp->n_head_kv || h->head_dim != hp->head_dim ||
	    h->head_dim_v != hp->head_dim_v || h->rope_dim != hp->rope_dim || h->rope_base != hp->rope_base ||
	    h->rope_scaling != (uint32_t)hp->rope_scaling || h->rope_scale != hp->rope_scale)
		return lr_errf(err, LR_EMISMATCH, "the context's shape or rope settings differ from the model's");
	if (h->kv_type != (uint32_t)kv_type)
		return lr_errf(err, LR_EMISMATCH, "the context holds a %s KV cache, not %s (omit --kv, or pack "
			"again with --kv %s)", lr_kv_type_name((enum lr_kv_type)h->kv_type), lr_kv_type_name(kv_type),
			lr_kv_type_name(kv_type));
	if (h->n_tokens > n_ctx || n_ctx > hp->n_ctx_train)
		return lr_errf(err, LR_ERANGE, "a window of %" PRIu32 " tokens cannot hold the context's %" PRIu32
			" (the model allows %" PRIu32 ")", n_ctx, h->n_tokens, hp->n_ctx_train);
	return 0;
}

int lr_lrc_repack(const struct lr_lrc *f, const char *path, const struct lr_doclist *docs,
                  const struct lr_tok *tok, const struct lr_chat *chat, struct lr_pack_opts *po,
                  struct lr_pack **out, struct lr_err *err)
{
	const struct lr_lrc_meta *meta = &f->meta;
	int rc;

	*out = NULL;
	po->n_ctx = meta->window;
	po->answer_tokens = meta->answer_tokens;
	po->line_step = meta->line_step;
	po->fit = meta->fit;
	po->system = meta->system;
	po->order = LR_PACK_ORDER_GIVEN;   /* the saved documents are in window order */
	po->focus = (const char *const *)meta->focus;
	po->n_focus = meta->n_focus;
	if ((rc = lr_pack_new(out, tok, chat, docs, po, err)) || (rc = lr_pack_layout(*out, meta->n_question, err)))
		return rc;
	if ((*out)->ids.n != meta->n_prefix ||
	    memcmp((*out)->ids.v, f->tokens, (size_t)meta->n_prefix * sizeof(int32_t)) != 0)
		return lr_errf(err, LR_EMISMATCH, "'%s' does not reproduce its saved window with this model's "
		               "tokenizer (pack it again)", path);
	return 0;
}
