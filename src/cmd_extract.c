/* src/cmd_extract.c — `longread extract PATH... [--json]`: show exactly what the model
 * would read from PDFs, HTML pages, source trees and text files (or, with --json, the
 * documents' structure: anchors and problems), then one summary line on stderr of
 * what was read, skipped and why. */
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extractors/extract.h"
#include "src/cli.h"
#include "src/commands.h"
#include "src/json.h"

#define CMD "extract"
#define MAX_GLOBS 256
#define STDIN_LIMIT ((uint64_t)1 << 30)

static void usage(void)
{
	printf("Usage: longread extract [options] PATH...\n"
	       "\n"
	       "Print exactly what the model would read from each PATH: PDF files, HTML pages,\n"
	       "text and code files, and directories (walked recursively, honouring .gitignore,\n"
	       ".ignore and .git/info/exclude).  '-' reads standard input.  A summary of what\n"
	       "was read, skipped and why goes to standard error.\n"
	       "\n"
	       "Options:\n"
	       "  --json                print the documents' structure (text, anchors, problems)\n"
	       "  --password P          password for encrypted PDFs (default: the environment\n"
	       "                        variable LONGREAD_PDF_PASSWORD)\n"
	       "  --include GLOB        in directories, read only files matching GLOB (repeatable)\n"
	       "  --exclude GLOB        in directories, leave out entries matching GLOB (repeatable)\n"
	       "  --max-file-size N     skip text, code and HTML files over N bytes (K, M, G\n"
	       "                        suffixes; default 1M); PDFs are not limited\n"
	       "  --follow-symlinks     follow symbolic links inside directories (loops are caught)\n"
	       "  --no-ignore           do not read .gitignore, .ignore or .git/info/exclude\n"
	       "  --no-default-excludes enter .git, node_modules, build, dist, vendor, ... too\n"
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

/* "1048576", "512K", "1M", "2G" -> bytes. */
static int parse_size(const char *s, uint64_t *out)
{
	char *end;
	unsigned long long v;
	uint64_t mul = 1;

	errno = 0;
	if (*s < '0' || *s > '9')
		return -1;
	v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	if (*end == 'K' || *end == 'k')
		mul = 1024, end++;
	else if (*end == 'M' || *end == 'm')
		mul = 1024 * 1024, end++;
	else if (*end == 'G' || *end == 'g')
		mul = 1024ull * 1024 * 1024, end++;
	if (*end == 'i' || *end == 'B')
		end += end[0] == 'i' && end[1] == 'B' ? 2 : 1;
	if (*end || v == 0 || v > UINT64_MAX / mul)
		return -1;
	*out = v * mul;
	return 0;
}

/* ------------------------------------------------------------------ output */

static void print_text(const struct lr_doclist *docs, unsigned flags)
{
	int first = 1;

	for (size_t i = 0; i < docs->n; i++) {
		char *s;
		size_t n;
		if (lr_doc_render(docs->v[i], flags, &s, &n, NULL))
			continue;
		if (n) {
			if (!first)
				putchar('\n');
			fwrite(s, 1, n, stdout);
			first = 0;
		}
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
	if (d->error) json_str(j, lr_strerror(d->error)); else json_null(j);
	json_key(j, "tree");
	if (d->tree) json_str(j, d->tree->name); else json_null(j);
	json_key(j, "title");
	if (d->title) json_str(j, d->title); else json_null(j);
	json_key(j, "encoding");
	if (d->encoding) json_str(j, d->encoding); else json_null(j);
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
		if (a->label) json_str(j, a->label); else json_null(j);
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
		if (p->page) json_uint(j, p->page); else json_null(j);
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

/* "12 read (1 partial), 3 skipped (2 binary, 1 too-large), ..." on stderr. */
static void print_summary(const struct lr_extract_stats *st, uint64_t missing)
{
	char line[1024];
	size_t n = 0;

#define ADD(...) do { int k_ = snprintf(line + n, sizeof line - n, __VA_ARGS__); \
		if (k_ > 0 && (size_t)k_ < sizeof line - n) n += (size_t)k_; } while (0)
	ADD("%" PRIu64 " file%s read", st->files_read, st->files_read == 1 ? "" : "s");
	if (st->files_partial)
		ADD(" (%" PRIu64 " damaged)", st->files_partial);
	for (int pass = 0; pass < 2; pass++) {
		uint64_t total = pass ? st->files_failed : st->files_skipped;
		int first = 1;
		if (!total)
			continue;
		ADD(", %" PRIu64 " %s (", total, pass ? "failed" : "skipped");
		for (int k = 0; k < LR_PROB_COUNT; k++) {
			int is_fail = k == LR_PROB_ENCRYPTED || k == LR_PROB_FORMAT || k == LR_PROB_IO ||
			              k == LR_PROB_DAMAGED || k == LR_PROB_PAGE_LOST;
			if (!st->skipped_by[k] || is_fail != pass)
				continue;
			ADD("%s%" PRIu64 " %s", first ? "" : ", ", st->skipped_by[k],
			    lr_problem_kind_name((enum lr_problem_kind)k));
			first = 0;
		}
		ADD(")");
	}
	if (st->ignored)
		ADD(", %" PRIu64 " ignored by ignore files", st->ignored);
	if (st->excluded)
		ADD(", %" PRIu64 " excluded by globs", st->excluded);
	if (missing)
		ADD(", %" PRIu64 " missing", missing);
	if (st->pages)
		ADD("; %" PRIu64 " PDF page%s", st->pages, st->pages == 1 ? "" : "s");
	if (st->pages_ocr)
		ADD(", %" PRIu64 " need%s OCR", st->pages_ocr, st->pages_ocr == 1 ? "s" : "");
	if (st->pages_lost)
		ADD(", %" PRIu64 " lost", st->pages_lost);
#undef ADD
	fflush(stdout);
	fprintf(stderr, "longread: extract: %s\n", line);
}

/* One line on stderr per input that failed or lost content. */
static void report_failures(const struct lr_doclist *docs, size_t from)
{
	for (size_t i = from; i < docs->n; i++) {
		const struct lr_doc *d = docs->v[i];
		if (d->status != LR_DOC_FAILED && d->status != LR_DOC_PARTIAL)
			continue;
		for (size_t k = 0; k < d->n_problems; k++)
			if (d->problems[k].severity == LR_SEV_ERROR) {
				if (d->status == LR_DOC_FAILED)
					cli_error("'%s': %s", d->path, d->problems[k].detail);
				else
					cli_warn("'%s': %s", d->path, d->problems[k].detail);
				break;
			}
	}
}

static int read_stdin(char **out, size_t *len)
{
	size_t cap = 65536, n = 0;
	char *buf = malloc(cap);

	if (!buf)
		return -1;
	for (;;) {
		size_t r;
		if (n == cap) {
			char *p;
			if (cap >= STDIN_LIMIT || !(p = realloc(buf, cap * 2))) {
				free(buf);
				return -1;
			}
			buf = p;
			cap *= 2;
		}
		r = fread(buf + n, 1, cap - n, stdin);
		n += r;
		if (r == 0)
			break;
	}
	if (ferror(stdin)) {
		free(buf);
		return -1;
	}
	*out = buf;
	*len = n;
	return 0;
}

/* ------------------------------------------------------------------ command */

int cmd_extract(int argc, char **argv)
{
	enum { O_JSON = 256, O_PASSWORD, O_INCLUDE, O_EXCLUDE, O_MAXSIZE, O_FOLLOW, O_NOIGNORE,
	       O_NODEFAULT, O_NOLINES };
	static const struct option opts[] = {
		{ "json", no_argument, NULL, O_JSON },
		{ "password", required_argument, NULL, O_PASSWORD },
		{ "include", required_argument, NULL, O_INCLUDE },
		{ "exclude", required_argument, NULL, O_EXCLUDE },
		{ "max-file-size", required_argument, NULL, O_MAXSIZE },
		{ "follow-symlinks", no_argument, NULL, O_FOLLOW },
		{ "no-ignore", no_argument, NULL, O_NOIGNORE },
		{ "no-default-excludes", no_argument, NULL, O_NODEFAULT },
		{ "no-line-numbers", no_argument, NULL, O_NOLINES },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	const char *include[MAX_GLOBS], *exclude[MAX_GLOBS];
	struct lr_extract_opts o = { .include = include, .exclude = exclude };
	struct lr_extract *x = NULL;
	struct lr_doclist *docs = NULL;
	struct lr_err err = { 0 };
	unsigned render = LR_RENDER_LINE_NUMBERS | LR_RENDER_OUTLINE;
	uint64_t missing = 0;
	int json = 0, c, rc = LR_EXIT_OK, first_fail = 0, stdin_used = 0;

	while ((c = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (c) {
		case O_JSON: json = 1; break;
		case O_PASSWORD: o.password = optarg; break;
		case O_INCLUDE:
		case O_EXCLUDE:
			if ((c == O_INCLUDE ? o.n_include : o.n_exclude) >= MAX_GLOBS)
				return cli_usage(CMD, "too many globs (at most %d of each)", MAX_GLOBS);
			if (!*optarg)
				return cli_usage(CMD, "empty glob for --%s", c == O_INCLUDE ? "include" : "exclude");
			if (c == O_INCLUDE)
				include[o.n_include++] = optarg;
			else
				exclude[o.n_exclude++] = optarg;
			break;
		case O_MAXSIZE:
			if (parse_size(optarg, &o.max_file_size))
				return cli_usage(CMD, "invalid value '%s' for --max-file-size (expected bytes, "
					"e.g. 1048576, 512K or 2M)", optarg);
			break;
		case O_FOLLOW: o.flags |= LR_EXTRACT_FOLLOW_SYMLINKS; break;
		case O_NOIGNORE: o.flags |= LR_EXTRACT_NO_IGNORE_FILES; break;
		case O_NODEFAULT: o.flags |= LR_EXTRACT_NO_DEFAULT_EXCLUDES; break;
		case O_NOLINES: render &= ~(unsigned)LR_RENDER_LINE_NUMBERS; break;
		case 'h': usage(); return LR_EXIT_OK;
		default: return cli_opt_error(CMD, c, argv);
		}
	}
	if (optind == argc)
		return cli_usage(CMD, "missing PATH (a file, a directory, or '-' for standard input)");
	if (!o.password) {
		const char *env = getenv("LONGREAD_PDF_PASSWORD");
		if (env && *env)
			o.password = env;
	}
	if (lr_extract_new(&x, &o, &err) || lr_doclist_new(&docs, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	for (int i = optind; i < argc; i++) {
		size_t before = docs->n;
		int r;

		if (strcmp(argv[i], "-") == 0) {
			char *buf;
			size_t len;
			if (stdin_used++) {
				rc = cli_usage(CMD, "standard input ('-') given twice");
				goto out;
			}
			if (read_stdin(&buf, &len)) {
				cli_error("cannot read standard input: %s", strerror(errno ? errno : EIO));
				missing++;
				continue;
			}
			r = lr_extract_buffer(x, "-", buf, len, docs, &err);
			free(buf);
		} else {
			r = lr_extract_path(x, argv[i], docs, &err);
		}
		if (r == LR_ENOMEM) {
			rc = cli_fail(&err);
			goto out;
		}
		if (r) {
			cli_error("%s", err.msg);
			missing++;
		}
		report_failures(docs, before);
	}
	if (json)
		print_json(docs, lr_extract_stats(x));
	else
		print_text(docs, render);
	print_summary(lr_extract_stats(x), missing);

	/* the exit status */
	{
		const struct lr_extract_stats *st = lr_extract_stats(x);
		for (size_t i = 0; i < docs->n && !first_fail; i++)
			if (docs->v[i]->status == LR_DOC_FAILED)
				first_fail = docs->v[i]->error;
		if (missing)
			rc = LR_EXIT_IO;
		else if (st->files_failed && st->files_read == 0)
			rc = cli_exit_code(first_fail ? first_fail : LR_EFORMAT);
		else if (st->files_failed || st->files_partial)
			rc = LR_EXIT_PARTIAL;
	}
out:
	lr_doclist_free(docs);
	lr_extract_free(x);
	return rc;
}
