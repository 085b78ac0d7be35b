/* src/lrc.h — longread context files (.lrc) as `pack` writes them and `ask CORPUS.lrc`
 * reads them: the container (engine/ctxfile.h) filled with what a session needs to
 * answer without prefilling again — the packing options and model path (META), the
 * documents themselves (MANIFEST: lr_doclist_save's bytes, in window order, so
 * citations are checked without the original files), the prefix token ids (TOKENS)
 * and the KV cache of those tokens (KV).  docs/lrc-format.md describes it all. */
#ifndef LR_LRC_H
#define LR_LRC_H

#include <stdint.h>

#include "engine/ctxfile.h"
#include "engine/forward.h"
#include "extractors/extract.h"
#include "src/pack.h"

/* A document's source file as it was when packed (META records one per document, in
 * window order): what `ask CORPUS.lrc` checks to tell that the documents changed. */
struct lr_lrc_source {
	char *path;          /* absolute; NULL: no file to check (standard input, a directory
	                        listing) */
	uint64_t size;
	int64_t mtime_ns;
	uint8_t sha256[32];  /* of the file's bytes */
};

/* The META section. */
struct lr_lrc_meta {
	char *model_path;        /* the model file, absolute, when packed */
	char *version;           /* the longread that wrote the file */
	uint64_t created;        /* Unix time */
	uint32_t window;         /* the packing window (lr_pack_opts.n_ctx) */
	uint32_t answer_tokens;  /* the answer reserve it was packed with */
	uint32_t n_question;     /* the question room the layout used */
	uint32_t line_step;
	uint32_t n_prefix;       /* tokens of the prefix (documents); == the TOKENS count */
	int fit;
	char *system;            /* the system prompt as given; NULL = the default */
	char **focus;            /* [n_focus] --focus globs */
	size_t n_focus;
	char *order;             /* the --order it was packed with (the saved documents are
	                            already in window order) */
	char *command;           /* the pack command line (shell-quoted), or NULL (older files) */
	char *cwd;               /* the directory it ran in, or NULL */
	char *chat;              /* the chat format of the prefix ("llama3"), or NULL (older files) */
	char *rope;              /* its RoPE scaling, "yarn 4 32768", or NULL (older files) */
	struct lr_lrc_source *sources;   /* [n_sources]: one per document, or none (older files) */
	size_t n_sources;
};

/* What lr_lrc_check_sources found: indices (window order) of documents whose file
 * changed, and of those whose file is gone or cannot be read. */
struct lr_lrc_stale {
	int checked;                 /* the file records its sources */
	size_t n_files;              /* documents with a file to check */
	size_t *changed, n_changed;
	size_t *missing, n_missing;
};

struct lr_lrc {
	struct lr_ctxr *r;
	struct lr_lrc_meta meta;
	struct lr_doclist *docs;         /* the documents in window order (owned) */
	const int32_t *tokens;           /* [n_prefix], in the file (borrowed) */
	const void *kv;                  /* the KV section (borrowed) */
	uint64_t kv_len;
};

/* Write path atomically from a packed session: the pack p (its prefix ids, options,
 * documents in window order), the model path and fingerprint, and ctx's KV cache of
 * the p->ids.n prefix tokens.  kv_codec: LR_CTX_RAW (default) or LR_CTX_ZSTD.  command:
 * the pack command line to record (or NULL).  Each document's source file is recorded
 * (size, modification time, SHA-256 of its bytes); a file that no longer has the size
 * it was extracted at is recorded as changed. */
int lr_lrc_write(const char *path, const struct lr_pack *p, uint32_t n_question, const char *model_path,
                 const uint8_t fingerprint[32], const struct lr_ctx *ctx, enum lr_ctx_codec kv_codec,
                 const char *command, struct lr_err *err);

/* Open and validate path (container, META, MANIFEST, TOKENS present and consistent).
 * The model is checked separately (lr_lrc_check).  Release with lr_lrc_close. */
int lr_lrc_open(struct lr_lrc *f, const char *path, struct lr_err *err);
void lr_lrc_close(struct lr_lrc *f);

/* Compare the recorded sources with the files now: size and modification time first,
 * the SHA-256 of the bytes when either differs (so a file touched but not changed is
 * not stale).  docs: the file's documents in window order (names for the caller).
 * Release with lr_lrc_stale_free.  @return 0 or LR_ENOMEM. */
int lr_lrc_check_sources(const struct lr_lrc_meta *meta, size_t n_docs, struct lr_lrc_stale *st,
                         struct lr_err *err);
void lr_lrc_stale_free(struct lr_lrc_stale *st);

/* Does the file belong to model m (fingerprint fp) and can it be loaded with KV type
 * kv_type and a window of n_ctx tokens?  LR_EMISMATCH (message says what differs:
 * another model, another KV type, other rope settings) or LR_ERANGE. */
int lr_lrc_check(const struct lr_lrc *f, const struct lr_model *m, const uint8_t fp[32],
                 enum lr_kv_type kv_type, uint32_t n_ctx, struct lr_err *err);

/* Rebuild the saved window for asking: po gets the packing options of META (window,
 * answer reserve, line step, --fit, system prompt, focus; order "given": the documents
 * are saved in window order), docs (the MANIFEST's, borrowed by the pack) are packed
 * with tok and chat and laid out for the saved question room, and the prefix must
 * reproduce TOKENS token for token (else LR_EMISMATCH naming path).  *out: free with
 * lr_pack_free (also after a failure).  Used by ask CORPUS.lrc and by serve. */
int lr_lrc_repack(const struct lr_lrc *f, const char *path, const struct lr_doclist *docs,
                  const struct lr_tok *tok, const struct lr_chat *chat, struct lr_pack_opts *po,
                  struct lr_pack **out, struct lr_err *err);

#endif
