/* src/report.h — the budget report of a packed window, for plan and ask (and later
 * pack): the per-document token table, the totals, what --fit did, and the manifest
 * as JSON. */
#ifndef LR_REPORT_H
#define LR_REPORT_H

#include <stddef.h>
#include <stdio.h>

#include "src/json.h"
#include "src/pack.h"

/* The per-document table, in window order.  With max_rows > 0 and more documents than
 * that, only the max_rows largest are listed, then a line saying how many are not. */
void lr_report_table(FILE *f, const struct lr_pack *p, size_t max_rows);

/* The totals: documents, instructions, question (known: its exact size; else the room
 * kept), answer reserve, total against the window, and whether it fits. */
void lr_report_totals(FILE *f, const struct lr_pack *p, int question_known);

/* One "longread: --fit: ..." line on stderr per shortened or left-out document. */
void lr_report_fit(const struct lr_pack *p);

/* "longread: 43,339 of 131,072 tokens (33%): 12 documents, question 14, answer <= 1,024"
 * on stderr. */
void lr_report_fits_line(const struct lr_pack *p);

/* The manifest: an array of documents (id, name, path, kind, status, fate, tokens,
 * tokens in window, offset, lines, lines kept, pages, focus, digest). */
void lr_report_json_documents(struct json *j, const struct lr_pack *p);

/* The budget as a JSON object: window, documents, instructions, question, answer,
 * total, fits, shortened, dropped, prefix digest. */
void lr_report_json_budget(struct json *j, const struct lr_pack *p);

#endif
