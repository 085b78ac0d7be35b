/* tests/test_cite.c — the citation checker on hand-written answers: every citation
 * form (line, line range, page, page label, section, whole document, several in one
 * bracket), name resolution (exact, unique tail, ambiguous, unknown), quotes (found
 * at the place, elsewhere, missing, across line breaks, curly, elided; in another
 * document than the one cited), line-number
 * tolerance, places outside the document or outside the window, and bracketed text
 * that is not a citation. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "src/cite.h"
#include "tests/packtest.h"
#include "tests/tap.h"

static struct fixture fx;

/* Check answer and compare the citations' statuses (space-separated names) and, for
 * the first citation, its found line (0 = do not care). */
static void expect(const struct lr_pack *p, const char *answer, const char *statuses, uint64_t line,
                   const char *what)
{
	struct lr_cites cs = { 0 };
	char got[512] = "";
	size_t k = 0;

	if (lr_cite_check(p, answer, strlen(answer), &cs, NULL)) {
		tap_ok(0, "%s: checked", what);
		return;
	}
	for (size_t i = 0; i < cs.n; i++)
		k += (size_t)snprintf(got + k, sizeof got - k, "%s%s", i ? " " : "", lr_cite_status_name(cs.v[i].status));
	if (tap_is_str(got, statuses, "%s", what) && line)
		tap_is_int((int64_t)cs.v[0].found_line, (int64_t)line, "%s: the quote's line", what);
	for (size_t i = 0; i < cs.n; i++)
		if (cs.v[i].status != LR_CITE_VERIFIED && strcmp(got, statuses) != 0)
			tap_diag("  %s: %s", cs.v[i].text, cs.v[i].detail);
	lr_cites_release(&cs);
}

static struct lr_pack *pack(uint32_t line_step, uint32_t n_ctx, int fit)
{
	struct lr_pack_opts o = { .n_ctx = n_ctx, .answer_tokens = 64, .line_step = line_step, .fit = fit };
	int rc;
	struct lr_pack *p = fixture_pack(&fx, &o, 32, &rc);

	if (!p || rc) {
		tap_diag("pack: %d", rc);
		exit(1);
	}
	return p;
}

static void corpus(void)
{
	char notes[4096];
	size_t k = 0;

	for (int i = 1; i <= 30; i++) {
		const char *t = i == 2 ? "beta gamma delta" :
		                i == 20 ? "the renewal term is one year," :
		                i == 21 ? "unless either party objects in writing." :
		                i == 25 ? "the supplier\xe2\x80\x99s liability is capped" : "filler";
		if (strcmp(t, "filler") == 0)
			k += (size_t)snprintf(notes + k, sizeof notes - k, "filler %d\n", i);
		else
			k += (size_t)snprintf(notes + k, sizeof notes - k, "%s\n", t);
	}
	fixture_add(&fx, "notes.txt", notes);
	fixture_add(&fx, "src/net/retry.c", "#include <stdio.h>\n\nstatic int backoff(int n)\n{\n"
	            "\tint retries = 5;\n\treturn n * retries;\n}\n");
	fixture_add(&fx, "a/x.c", "int a;\n");
	fixture_add(&fx, "b/x.c", "int b;\n");
	fixture_add_corpus(&fx, "pdf/apssamp.pdf");
	fixture_add_corpus(&fx, "html/install-en.html");
}

static void lines(void)
{
	struct lr_pack *p = pack(10, 131072, 0);

	expect(p, "It says \"beta gamma\" [notes.txt:2].", "verified", 2, "a quote on the cited line");
	expect(p, "No quote here [notes.txt:2].", "verified", 0, "a line that exists, no quote");
	expect(p, "Nothing [notes.txt:31].", "no-place", 0, "a line past the end");
	expect(p, "Nothing [notes.txt:0].", "no-place", 0, "line 0");
	expect(p, "\"the renewal term is one year\" [notes.txt:20-21]", "verified", 20, "a line range");
	expect(p, "\"one year, unless either party\" [notes.txt:20]", "verified", 20,
	       "a quote across a line break (whitespace compared loosely)");
	expect(p, "\"unless either party objects\" [notes.txt:11]", "quote-elsewhere", 21,
	       "numbers every 10 lines: a quote 10 lines off is not there...");
	expect(p, "\"unless either party objects\" [notes.txt:12]", "verified", 21,
	       "...but 9 lines off it is (the model counts from the nearest number)");
	expect(p, "\"unless either party objects\" [notes.txt:1]", "quote-elsewhere", 21,
	       "a quote far from the cited line is found elsewhere");
	expect(p, "\"terminated for convenience\" [notes.txt:20]", "quote-missing", 0, "a quote that is nowhere");
	expect(p, "\xe2\x80\x9cthe supplier's liability\xe2\x80\x9d [notes.txt:25]", "verified", 25,
	       "curly quotes around, a straight apostrophe against a curly one");
	expect(p, "\"the renewal term ... in writing\" [notes.txt:20]", "verified", 20, "an elided quote");
	expect(p, "\"the renewal term ... by email\" [notes.txt:20]", "quote-missing", 0,
	       "an elided quote whose second part is not there");
	expect(p, "\"retries = 5\" [retry.c:5]", "verified", 5, "a unique tail of a path names the document");
	expect(p, "\"retries = 5\" [src/net/retry.c:5]", "verified", 5, "the full name");
	expect(p, "[x.c:1]", "no-document", 0, "a tail two documents share is ambiguous");
	expect(p, "[nothere.txt:3]", "no-document", 0, "an unknown document with a line");
	expect(p, "See [notes.txt:2; retry.c:5] and [notes.txt].", "verified verified verified", 0,
	       "several citations in one bracket, and a whole document");
	expect(p, "\"beta gamma\" [notes.txt]", "verified", 2, "a quote anywhere in a cited document");
	expect(p, "a[i] = b[2]; see [1] and [x] and [todo: later]", "", 0,
	       "brackets that name no document are not citations");
	expect(p, "[notes.txt p.2]", "no-place", 0, "a page of a text file");
	lr_pack_free(p);

	p = pack(1, 131072, 0);
	expect(p, "\"unless either party objects\" [notes.txt:20]", "quote-elsewhere", 21,
	       "with every line numbered the quote must be on the cited lines");
	expect(p, "\"unless either party objects\" [notes.txt:20-21]", "verified", 21,
	       "with every line numbered, a range that holds it");
	lr_pack_free(p);
}

static void pages_and_sections(void)
{
	struct lr_pack *p = pack(10, 131072, 0);

	expect(p, "\"may contain letters, numbers, the dash (-) character\" [apssamp.pdf p.2]", "verified", 0,
	       "a quote on the cited PDF page, across a line break");
	expect(p, "\"may contain letters, numbers\" [apssamp.pdf, page 2]", "verified", 0, "the ', page N' form");
	expect(p, "\"may contain letters, numbers\" [apssamp.pdf pp.1-2]", "verified", 0, "a page range");
	expect(p, "\"may contain letters, numbers\" [apssamp.pdf p.5]", "quote-elsewhere", 0,
	       "a quote from another page is found elsewhere");
	expect(p, "[apssamp.pdf p.8]", "no-place", 0, "a page past the end");
	expect(p, "\"laptops are normal PCs\" [install-en.html \xc2\xa7 2.1.3. Laptops]", "verified", 0,
	       "a quote in the cited section of a web page");
	expect(p, "\"laptops are normal PCs\" [install-en.html \xc2\xa7 2.1.2. CPU Support]", "quote-elsewhere", 0,
	       "a quote from another section");
	expect(p, "[install-en.html \xc2\xa7 Installing Windows]", "no-place", 0, "a heading that does not exist");
	{
		struct lr_cites cs = { 0 };
		const char *a = "\"may contain letters, numbers\" [apssamp.pdf p.5]";
		lr_cite_check(p, a, strlen(a), &cs, NULL);
		tap_ok(cs.n == 1 && cs.v[0].found_page == 2 && strstr(cs.v[0].detail, "page 2"),
		       "the detail names the page the quote is on: %s", cs.n ? cs.v[0].detail : "");
		lr_cites_release(&cs);
	}
	lr_pack_free(p);
}

/* A window that cannot hold everything: a left-out document and lines after a cut. */
static void outside_the_window(void)
{
	struct lr_pack *p;
	const struct lr_pack_doc *shortened = NULL;
	char answer[256];

	fixture_reset(&fx);
	corpus();
	fixture_add_corpus(&fx, "text/GPL-3.txt");
	p = pack(10, 9000, 1);
	for (size_t i = 0; i < p->n_docs; i++)
		if (p->docs[i].fate == LR_PACK_SHORTENED)
			shortened = &p->docs[i];
	if (!tap_ok(shortened != NULL, "a 9000-token window shortens a document")) {
		lr_pack_free(p);
		return;
	}
	snprintf(answer, sizeof answer, "[%s:%llu] [%s:%llu]", shortened->doc->name,
	         (unsigned long long)shortened->n_lines_kept, shortened->doc->name,
	         (unsigned long long)shortened->n_lines_kept + 1);
	expect(p, answer, "verified not-in-window", 0, "the last line kept is cited; the next one was cut");
	lr_pack_free(p);
	p = pack(10, 2000, 1);
	for (size_t i = 0; i < p->n_docs; i++)
		if (p->docs[i].fate == LR_PACK_DROPPED) {
			snprintf(answer, sizeof answer, "[%s]", p->docs[i].doc->name);
			expect(p, answer, "not-in-window", 0, "a document --fit left out");
			break;
		}
	lr_pack_free(p);
}

/* Answers made of citation-like pieces in random order: every one is checked without
 * a crash (the sanitizer build runs this) and every citation gets a status. */
static void garbage(void)
{
	static const char *const bits[] = {
		"[", "]", "\"", "\xe2\x80\x9c", "\xe2\x80\x9d", ":", "-", "\xe2\x80\x93", ";", " p.", " pp.", ", page ",
		" \xc2\xa7 ", "notes.txt", "retry.c", "x.c", "apssamp.pdf", "install-en.html", "12", "0", "2-1",
		"99999999999999999999", "...", "\xe2\x80\xa6", "\n", "\n\n", "beta gamma", " ", "2.1.3. Laptops", "\xe2\x80",
		"\xc2", "(", "iii",
	};
	struct lr_pack *p = pack(10, 131072, 0);
	uint64_t rng = 12345;
	int ok = 1;

	for (int n = 0; n < 3000 && ok; n++) {
		char answer[600];
		struct lr_cites cs = { 0 };
		size_t k = fixture_random_text(&rng, bits, sizeof bits / sizeof bits[0], 1 + n % 400, answer,
		                               sizeof answer);
		ok = lr_cite_check(p, answer, k, &cs, NULL) == 0;
		for (size_t i = 0; i < cs.n; i++)
			ok &= cs.v[i].status <= LR_CITE_QUOTE_MISSING && cs.v[i].detail[0] && cs.v[i].text[0] == '[';
		lr_cites_release(&cs);
	}
	tap_ok(ok, "3000 answers of random citation-like pieces are checked, each citation with a status");
	lr_pack_free(p);
}

/* A quote that is not where the citation says, looked for in the other documents:
 * found_doc and found_line say where it is, the status stays what it was */
static void elsewhere(void)
{
	struct lr_pack *p = pack(10, 131072, 0);
	static const struct {
		const char *answer, *status, *doc;
		uint64_t line;
		const char *what;
	} cases[] = {
		{ "\"the renewal term is one year\" [nothere.txt:3]", "no-document", "notes.txt", 20,
		  "an unknown document: the quote is in notes.txt" },
		{ "\"static int backoff(int n)\" [notes.txt:3]", "quote-missing", "src/net/retry.c", 3,
		  "the wrong document: the quote is in retry.c" },
		{ "\"unless either party objects\" [notes.txt:1]", "quote-elsewhere", "notes.txt", 21,
		  "the right document, another line: found there, not elsewhere" },
		{ "\"int a;\" [notes.txt:1]", "quote-missing", NULL, 0,
		  "a quote too short to be looked for elsewhere" },
		{ "\"terminated for convenience\" [nothere.txt:1]", "no-document", NULL, 0,
		  "a quote that is nowhere" },
	};

	for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
		struct lr_cites cs = { 0 };
		if (lr_cite_check(p, cases[i].answer, strlen(cases[i].answer), &cs, NULL) || cs.n != 1) {
			tap_ok(0, "%s: one citation checked", cases[i].what);
			lr_cites_release(&cs);
			continue;
		}
		const struct lr_cite *c = &cs.v[0];
		const char *doc = c->found_doc ? c->found_doc->doc->name : NULL;
		tap_ok(strcmp(lr_cite_status_name(c->status), cases[i].status) == 0 &&
		       (doc && cases[i].doc ? strcmp(doc, cases[i].doc) == 0 : doc == cases[i].doc) &&
		       c->found_line == cases[i].line &&
		       (!cases[i].doc || c->found_doc == c->doc || strstr(c->detail, cases[i].doc)),
		       "%s (%s: %s)", cases[i].what, lr_cite_status_name(c->status), c->detail);
		lr_cites_release(&cs);
	}
	lr_pack_free(p);
}

int main(void)
{
	if (fixture_open(&fx))
		return tap_skip_all("no Llama 3 vocabulary in ../shared/golden");
	corpus();
	lines();
	pages_and_sections();
	garbage();
	outside_the_window();
	elsewhere();
	fixture_close(&fx);
	return tap_done();
}
