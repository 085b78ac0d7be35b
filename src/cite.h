/* src/cite.h — the citation checker: find the anchors an answer cites and check each
 * against the corpus as it was packed.
 *
 * A citation is a bracketed reference whose text starts with a document's name (or a
 * unique tail of it after a '/'): [NAME], [NAME:LINE], [NAME:FIRST-LAST], [NAME p.N],
 * [NAME pp.N-M], [NAME p.N "label"], [NAME § HEADING]; several may share brackets,
 * separated by ';'.  Words in double quotes ("..." or “...”) just before the bracket
 * are its quote; "..." inside a quote skips text.  A citation is verified when its
 * document was in the window, the place exists there (line, page, heading), and the
 * quote, if any, occurs at that place: word for word, with runs of whitespace and
 * curly quotes compared loosely, within line_step - 1 lines either side of the cited
 * lines (only every line_step-th line carries a number).  Bracketed text that names no
 * document and has no locator ("[1]", "[x]") is not a citation.  docs/ask.md. */
#ifndef LR_CITE_H
#define LR_CITE_H

#include <stddef.h>
#include <stdint.h>

#include "src/pack.h"

enum lr_cite_kind {
	LR_CITE_DOC,       /* [NAME] */
	LR_CITE_LINE,      /* [NAME:LINE] */
	LR_CITE_PAGE,      /* [NAME p.N] */
	LR_CITE_SECTION,   /* [NAME § HEADING] */
};

enum lr_cite_status {
	LR_CITE_VERIFIED,         /* the place exists (and holds the quote, if any) */
	LR_CITE_NO_DOCUMENT,      /* no document has that name */
	LR_CITE_NO_PLACE,         /* the document has no such line, page or heading */
	LR_CITE_NOT_IN_WINDOW,    /* it exists but was not in the window (--fit, unread) */
	LR_CITE_QUOTE_ELSEWHERE,  /* the quote is in the document, not at the place cited */
	LR_CITE_QUOTE_MISSING,    /* the quote is nowhere in the document's window text */
};

struct lr_cite {
	char *text;                   /* the citation as written, with its brackets */
	size_t offset;                /* of its '[' in the answer */
	const struct lr_pack_doc *doc;/* the document it names, or NULL */
	enum lr_cite_kind kind;
	uint64_t first, last;         /* the lines or pages cited */
	char *section;                /* the heading cited, or NULL */
	char *quote;                  /* the quoted words before it, or NULL */
	enum lr_cite_status status;
	uint64_t found_line;          /* 1-based line where the quote starts, 0 if not found */
	uint32_t found_page;          /* its PDF page, 0 if none */
	const struct lr_pack_doc *found_doc; /* the document holding the quote, where found:
	                                 doc, or another one in the window when doc has no such
	                                 document or not the quote (NO_DOCUMENT, QUOTE_MISSING) */
	char detail[200];             /* one line saying what was checked or what is wrong */
};

struct lr_cites {
	struct lr_cite *v;
	size_t n, cap;
	size_t n_verified;
};

/* Find and check the citations in answer[0..len) against p's corpus (after
 * lr_pack_layout).  out must be zeroed or released; it is filled in answer order.
 * @return 0 or LR_ENOMEM. */
int lr_cite_check(const struct lr_pack *p, const char *answer, size_t len, struct lr_cites *out,
                  struct lr_err *err);
void lr_cites_release(struct lr_cites *c);

/* "verified", "no-document", "no-place", "not-in-window", "quote-elsewhere",
 * "quote-missing"; and "document", "line", "page", "section". */
const char *lr_cite_status_name(enum lr_cite_status s);
const char *lr_cite_kind_name(enum lr_cite_kind k);

#endif
