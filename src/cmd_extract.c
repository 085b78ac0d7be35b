/* src/cmd_extract.c — `longread extract PATH... [--json]`: show exactly what the model
 * would read from PDFs, HTML pages, source trees and text files (or, with --json, the
 * documents' structure: anchors and problems), then one summary line on stderr of
 * what was read, skipped and why. */
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extractors/extract.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/corpus.h"
#include "src/json.h"
#include "src/pack.h"

#define CMD "extract"

static void usage(void)
{
	printf("Usage: longread extract [options] PATH...\n"
	       "\n"
	       "Print exactly what the model reads from each PATH (in a window packed in the\n"
	       "default order; 'plan --show-prompt' shows the whole prompt): PDF files, HTML pages,\n"
	       "text and code files, and directories (walked recursively, honouring .gitignore,\n"
	       ".ignore and .git/info/exclude).  '-' reads standard input.  A summary of what\n"
	       "was read, skipped and why goes to standard error.\n"
	       "\n"
	       "Options:\n"
	       "  --json                print the documents' structure (text, anchors, problems)\n");
	lr_corpus_help(stdout);
	printf("  --line-numbers N      number line 1 and every Nth line of text and code, as\n"
	       "                        ask and pack do (default 10; 1 = every line)\n"
	       "  --no-line-numbers     do not number the lines of text and code files\n"
	       "  -h, --help            show this help and exit\n"
	       "\n"
	       "Globs follow .gitignore rules: '*' and '?' stay within a name, '**' spans\n"
	       "directories, a glob without '/' matches a name at any depth.\n"
	       "\n"
	       "Exit status: 0 everything read (skipped binaries and ignored files are fine);\n"
	       "10 some inputs could not be read or were damaged (the rest was printed);\n"
	       "when nothing could be read: 9 password, 4 malformed, 3 I/O; 3 a PATH does not\n"
	       "exist; 2 usage.\n");
}

/* ------------------------------------------------------------------ output */

/* The documents as the model reads them in a window packed in the default order: the
 * same headers with their ids, the same line numbers (plan --show-prompt shows the
 * whole prompt, instructions and question included). */
static void print_text(const struct lr_doclist *docs, unsigned flags, uint32_t line_step)
{
	uint32_t id = 0;

	for (size_t i = 0; i < docs->n; i++) {
		struct lr_render_opts ro = { .flags = flags, .line_step = line_step };
		char *s;
		size_t n;
		ro.id = id + 1;
		if (lr_doc_render_with(docs->v[i], &ro, &s, &n, NULL))
			continue;
		if (n)   /* a document with nothing to render gets no id in a window either */
			id++;
		fwrite(s, 1, n, stdout);
		free(s);
	}
}

static void json_doc(struct json *j, const struct lr_doc *d)
{
	json_obj(j);
	json_key(j, "name"); json_str(j, d->name);
	json_key(j, "path"); json_str(j, d->path);
	json_key(j, "kind"); json_str(j, lr_doc_kind_name(d->kind));
	json_key(j, "status"); json_str(j, lr_doc_status_name(d->status));
	json_key(j, "error");
	if (d->error) json_str(j, lr_strerror(d->error)); else json_nil(j);
	json_key(j, "tree");
	if (d->tree) json_str(j, d->tree->name); else json_nil(j);
	json_key(j, "title");
	if (d->title) json_str(j, d->title); else json_nil(j);
	json_key(j, "encoding");
	if (d->encoding) json_str(j, d->encoding); else json_nil(j);
	json_key(j, "file_bytes"); json_uint(j, d->file_bytes);
	json_key(j, "bytes"); json_uint(j, d->n_bytes);
	json_key(j, "chars"); json_uint(j, d->n_chars);
	json_key(j, "lines"); json_uint(j, d->n_lines);
	json_key(j, "pages"); json_uint(j, d->n_pages);
	json_key(j, "anchors");
	json_arr(j);
	for (size_t i = 0; i < d->n_anchors; i++) {
		const struct lr_anchor *a = &d->anchors[i];
		json_obj(j);
		json_key(j, "kind"); json_str(j, lr_anchor_kind_name(a->kind));
		json_key(j, "offset"); json_uint(j, a->offset);
		json_key(j, "line"); json_uint(j, lr_doc_line_at(d, a->offset));
		if (a->kind == LR_ANCHOR_PAGE || a->kind == LR_ANCHOR_OUTLINE) {
			json_key(j, "page"); json_uint(j, a->number);
		}
		if (a->kind != LR_ANCHOR_PAGE) {
			json_key(j, "level"); json_uint(j, a->level);
		}
		json_key(j, "label");
		if (a->label) json_str(j, a->label); else json_nil(j);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "problems");
	json_arr(j);
	for (size_t i = 0; i < d->n_problems; i++) {
		const struct lr_problem *p = &d->problems[i];
		json_obj(j);
		json_key(j, "kind"); json_str(j, lr_problem_kind_name(p->kind));
		json_key(j, "severity"); json_str(j, lr_severity_name(p->severity));
		json_key(j, "page");
		if (p->page) json_uint(j, p->page); else json_nil(j);
		json_key(j, "count"); json_uint(j, p->count);
		json_key(j, "detail"); json_str(j, p->detail);
		json_obj_end(j);
	}
	json_arr_end(j);
	json_key(j, "text"); json_strn(j, d->text, d->n_bytes);
	json_obj_end(j);
}

static void json_stats(struct json *j, const struct lr_extract_stats *st)
{
	json_obj(j);
	json_key(j, "files_read"); json_uint(j, st->files_read);
	json_key(j, "files_partial"); json_uint(j, st->files_partial);
	json_key(j, "files_skipped"); json_uint(j, st->files_skipped);
	json_key(j, "files_failed"); json_uint(j, st->files_failed);
	json_key(j, "not_read_by_reason");
	json_obj(j);
	for (int k = 0; k < LR_PROB_COUNT; k++)
		if (st->skipped_by[k]) {
			json_key(j, lr_problem_kind_name((enum lr_problem_kind)k));
			json_uint(j, st->skipped_by[k]);
		}
	json_obj_end(j);
	json_key(j, "ignored"); json_uint(j, st->ignored);
	json_key(j, "excluded"); json_uint(j, st->excluded);
	json_key(j, "pages"); json_uint(j, st->pages);
	json_key(j, "pages_need_ocr"); json_uint(j, st->pages_ocr);
	json_key(j, "pages_lost"); json_uint(j, st->pages_lost);
	json_key(j, "bytes_in"); json_uint(j, st->bytes_in);
	json_key(j, "bytes_out"); json_uint(j, st->bytes_out);
	json_obj_end(j);
}

static void print_json(const struct lr_doclist *docs, const struct lr_extract_stats *st)
{
	struct json j;

	json_init(&j, stdout, 1);
	json_obj(&j);
	json_key(&j, "documents");
	json_arr(&j);
	for (size_t i = 0; i < docs->n; i++)
		json_doc(&j, docs->v[i]);
	json_arr_end(&j);
	json_key(&j, "summary");
	json_stats(&j, st);
	json_obj_end(&j);
	json_end(&j);
}

/* ------------------------------------------------------------------ command */

int cmd_extract(int argc, char **argv)
{
	enum { O_JSON = 256, O_NOLINES, O_LINES };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		LR_CORPUS_OPTIONS,
		{ "no-line-numbers", no_argument, NULL, O_NOLINES },
		{ "line-numbers", required_argument, NULL, O_LINES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	struct lr_corpus cp;
	struct lr_err err = { 0 };
	unsigned render = LR_RENDER_LINE_NUMBERS | LR_RENDER_OUTLINE;
	uint32_t line_step = LR_PACK_LINE_STEP;
	uint64_t v;
	int json = 0, c, rc;

	lr_corpus_init(&cp);
	cli_options(opts);
	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: json = 1; break;
		case O_NOLINES: render &= ~(unsigned)LR_RENDER_LINE_NUMBERS; break;
		case O_LINES:
			if ((rc = cli_parse_u64(CMD, "--line-numbers", optarg, 1, 1000, &v)))
				return rc;
			line_step = (uint32_t)v;
			break;
		case 'h': usage(); return LR_EXIT_OK;
		default:
			if ((rc = lr_corpus_opt(&cp, CMD, c, optarg)) == -1)
				return cli_opt_error(CMD, c, argv);
			if (rc)
				return rc;
		}
	}
	if ((rc = lr_corpus_args(CMD, argv + optind, argc - optind)))
		return rc;
	if ((rc = lr_corpus_extract(&cp, argv + optind, argc - optind, CMD, 0, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (json)
		print_json(cp.docs, lr_extract_stats(cp.x));
	else
		print_text(cp.docs, render, line_step);
	lr_corpus_summary(&cp);
	rc = lr_corpus_status(&cp);
out:
	lr_corpus_release(&cp);
	return rc;
}
