/* src/pack.h — the packer: lays a corpus out in one context window, as token ids.
 *
 *   <|begin_of_text|> system turn (instructions) | user turn: "\n\n", a note when
 *   --fit shortened anything, "<documents>\n", each document as lr_doc_render_with
 *   writes it (header with id, name, kind, lines/pages; page markers; every Nth line
 *   numbered), "</documents>\n\n"  ‖  "Question: Q" <|eot_id|> assistant header "\n\n"
 *
 * Everything before ‖ is the prefix: it does not depend on the question, so one
 * prefill serves any number of questions (rewind the cache to lr_pack.ids.n).  Each
 * segment is tokenized on its own; every cut lies after a newline that is followed by
 * a non-space character, where the Llama 3 pre-tokenizer always splits, so the ids
 * are exactly those of tokenizing the whole prompt at once (tests check this against
 * the chat template).  docs/ask.md documents the layout and the budget rules.
 *
 * Budget: prefix + question + answer reserve <= n_ctx, counted exactly in tokens.  When
 * the documents do not fit, lr_pack_layout fails with LR_ENOFIT (the report fields are
 * still filled), or with --fit shortens deterministically: lowest priority class first
 * (documents matching --focus are the higher class); inside a class the largest
 * documents are left out one at a time until every remaining one can keep at least
 * LR_PACK_MIN_BODY tokens, then all are capped at the largest common size that fits
 * (each cut after a whole line, with a note saying what is left out).
 *
 * Workload: a few to a few thousand documents, up to some million tokens before
 * fitting; everything is tokenized once, fitting is arithmetic on per-line token
 * offsets.  Issue 8 (.lrc files) reuses the ids, the offsets and the digests.
 *
 * Counted mode (lr_pack_new_counted: the --api client without a local tokenizer): the
 * same layout and budget, with tokens counted by a function (a server's tokenizer, or
 * an estimate) instead of a vocabulary.  Each special token counts one.  The ids are
 * then LR_PACK_NO_ID placeholders, one per token counted: only their number means
 * anything, and the window leaves as text (lr_pack_user_text).  Where a document can be
 * cut is estimated in proportion to bytes; what a cut keeps is counted again exactly. */
#ifndef LR_PACK_H
#define LR_PACK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/chat.h"
#include "engine/digest.h"
#include "engine/tok.h"
#include "extractors/extract.h"
#include "src/buf.h"

#define LR_PACK_LINE_STEP     10   /* number every 10th line by default (docs/ask.md) */
#define LR_PACK_QUESTION_ROOM 256  /* tokens kept for a question not known in advance */
#define LR_PACK_MIN_BODY      512  /* a shortened document keeps at least this much text */
#define LR_PACK_NO_ID         (-1) /* a counted token (counted mode): not a real id */

/* Counted mode's tokenizer: *out = the tokens of s[0..n) (no BOS).  @return 0 or an
 * LR_E* code with err filled. */
struct lr_pack_counter {
	int (*count)(void *ctx, const char *s, size_t n, size_t *out, struct lr_err *err);
	void *ctx;
};

enum lr_pack_order {
	LR_PACK_ORDER_GIVEN,   /* as extracted: arguments in order, trees depth first */
	LR_PACK_ORDER_NAME,    /* listings first, then by name (byte order) */
	LR_PACK_ORDER_SIZE,    /* listings first, then smallest first (largest last) */
	LR_PACK_ORDER_MTIME,   /* listings first, then least recently modified first */
};

/* "given", "name", "size", "mtime".  parse: 0 or LR_EINVAL. */
const char *lr_pack_order_name(enum lr_pack_order o);
int lr_pack_order_parse(const char *s, enum lr_pack_order *out);

enum lr_pack_fate {
	LR_PACK_WHOLE,       /* in the window, complete */
	LR_PACK_SHORTENED,   /* lines 1..n_lines_kept in the window, then a note */
	LR_PACK_DROPPED,     /* left out by --fit */
	LR_PACK_ABSENT,      /* renders to nothing (a skipped file inside a tree: the tree's
	                        listing says so) */
};

const char *lr_pack_fate_name(enum lr_pack_fate f);  /* "whole", "shortened", ... */

struct lr_pack_opts {
	uint32_t n_ctx;              /* the window, in tokens */
	uint32_t answer_tokens;      /* kept free for the answer */
	const char *system;          /* the system prompt; NULL = the default; "" = none.
	                                Borrowed until lr_pack_free. */
	uint32_t line_step;          /* 0 = LR_PACK_LINE_STEP; 1 = every line */
	enum lr_pack_order order;
	int fit;                     /* shorten instead of failing */
	const char *const *focus;    /* [n_focus] globs: matching documents are kept first */
	size_t n_focus;
};

struct lr_pack_doc {
	const struct lr_doc *doc;    /* borrowed from the document list */
	uint32_t id;                 /* its number in headers (1-based), 0 when ABSENT */
	int focus;                   /* matched a --focus glob */
	enum lr_pack_fate fate;
	uint32_t n_full;             /* tokens of the whole rendered document */
	uint32_t n_tok;              /* tokens in the window (0 when DROPPED or ABSENT) */
	uint32_t tok_off;            /* where its first token sits in the window */
	uint64_t n_lines_kept;       /* lines in the window (d->n_lines when WHOLE) */
	uint8_t digest[LR_SHA256_BYTES]; /* SHA-256 of its text in the window */
	/* private */
	char *text;                  /* the whole rendering */
	size_t len;
	struct lr_tok_ids ids;       /* its tokens */
	uint64_t *cut_line;          /* [n_cuts] lines k where the rendering can be cut after */
	uint32_t *cut_tok;           /* [n_cuts] tokens before that cut (increasing) */
	uint64_t *cut_byte;          /* [n_cuts] bytes before that cut */
	size_t n_cuts;
	uint32_t body_tok;           /* tokens of header and notes (before line 1) */
	uint32_t note_max;           /* tokens of the longest cut note it could get */
	uint32_t n_min;              /* its smallest size in the window (n_full if it cannot
	                                be shortened to LR_PACK_MIN_BODY tokens of text) */
	size_t cut_min;              /* the cut giving n_min */
	size_t cut;                  /* the cut chosen when SHORTENED */
};

struct lr_pack {
	const struct lr_tok *tok;    /* borrowed; NULL in counted mode */
	const struct lr_chat *chat;  /* borrowed; NULL in counted mode */
	const struct lr_pack_counter *counter;  /* borrowed; counted mode, else NULL */
	struct lr_pack_opts o;
	char *system;                /* the system prompt in effect ("" = no system turn) */
	struct lr_pack_doc *docs;    /* [n_docs] in window order */
	size_t n_docs;

	/* after lr_pack_layout */
	struct lr_tok_ids ids;       /* the prefix: BOS up to the end of the documents */
	uint32_t n_question;         /* the question's tokens the budget allowed for */
	uint32_t n_fixed;            /* prefix tokens that are not documents */
	uint32_t n_doc_tokens;       /* document tokens in the window */
	uint32_t n_need;             /* tokens needed with every document whole */
	uint32_t n_shortened, n_dropped;
	int fits;                    /* 1 when prefix + question + answer <= n_ctx */
	int too_small;               /* the window cannot hold even the instructions, the
	                                question and the answer reserve */
	uint8_t digest[LR_SHA256_BYTES]; /* SHA-256 of the prefix ids (int32 little-endian);
	                                    zero in counted mode */

	/* private */
	struct lr_tok_ids sys_ids;   /* BOS, system turn, user header, "\n\n" */
	struct lr_tok_ids open_ids;  /* "<documents>\n" */
	struct lr_tok_ids end_ids;   /* "</documents>\n\n" */
	uint32_t close_tok;          /* tokens of "</document>\n" */
	uint32_t note_max;           /* tokens of the longest --fit note */
};

/* Order, render and tokenize docs (borrowed: they must outlive the pack) for a window of
 * o->n_ctx tokens.  *out is new; free with lr_pack_free.  Errors: LR_ENOMEM,
 * LR_EINVAL (n_ctx 0), and those of the tokenizer. */
int lr_pack_new(struct lr_pack **out, const struct lr_tok *tok, const struct lr_chat *chat,
                const struct lr_doclist *docs, const struct lr_pack_opts *o, struct lr_err *err);
void lr_pack_free(struct lr_pack *p);

/* The same in counted mode: tokens counted by counter (borrowed: it must outlive the
 * pack), no vocabulary.  Errors: as lr_pack_new, and those of the counter. */
int lr_pack_new_counted(struct lr_pack **out, const struct lr_pack_counter *counter,
                        const struct lr_doclist *docs, const struct lr_pack_opts *o, struct lr_err *err);

/* Append the text of the prefix's user turn, as laid out (after lr_pack_layout built
 * it): the --fit note, "<documents>\n", each document whole or cut with its note,
 * "</documents>\n\n".  With the system prompt and the question's text this is the
 * window as text: what a server's chat template turns into the same tokens.  Errors:
 * LR_ENOMEM. */
int lr_pack_user_text(const struct lr_pack *p, struct lr_buf *b, struct lr_err *err);

/* Append the question's text as the window holds it: "Question: " and the question,
 * surrounding whitespace trimmed.  Errors: LR_EINVAL (empty), LR_ENOMEM. */
int lr_pack_question_text(const char *q, size_t len, struct lr_buf *b, struct lr_err *err);

/* Append the question's segment to ids: "Question: " and the question (surrounding
 * whitespace trimmed), the end of the user's turn and the generation prompt
 * (<|eot_id|>, the assistant header and "\n\n" in Llama 3's format).  Errors: LR_EINVAL
 * for an empty question, LR_ENOMEM. */
int lr_pack_question(const struct lr_pack *p, const char *q, size_t len, struct lr_tok_ids *ids,
                     struct lr_err *err);

/* A follow-up question of a conversation that continues after an answer: the
 * assistant's turn ended (<|eot_id|>), a new user turn with "Question: " and the
 * question, and the generation prompt.  Not in counted mode (LR_EINVAL). */
int lr_pack_followup(const struct lr_pack *p, const char *q, size_t len, struct lr_tok_ids *ids,
                     struct lr_err *err);

/* Decide what goes in the window for a question of n_question tokens (segment included,
 * as lr_pack_question makes it) and build the prefix.  @return 0 when it fits (possibly
 * after --fit shortened documents); LR_ENOFIT when the documents do not fit and --fit is
 * off (every document is left WHOLE and the prefix is not built), or when even the
 * system prompt, the question and the answer reserve alone exceed the window (message
 * says which); LR_ENOMEM.  Can be called again with another n_question. */
int lr_pack_layout(struct lr_pack *p, uint32_t n_question, struct lr_err *err);

/* Tokens the context must hold for this layout: prefix + question + answer reserve. */
uint32_t lr_pack_total(const struct lr_pack *p);

/* The default system prompt for a line step (a new string; free it). */
char *lr_pack_default_system(uint32_t line_step);

#endif
