/* bench/bench_extract.c — extraction speed on the corpora: pages/s for PDF, MB/s of
 * input for HTML and for a source tree (this repository's own sources), with
 * pdftotext on the same PDFs measured in the same run as the reference.  Not a test:
 * it prints figures and asserts nothing.  Run with `make bench-extract`.
 * Usage: bench_extract [SECONDS per measurement, default 2] */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "extractors/extract.h"

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

struct result {
	double seconds;
	int runs;
	uint64_t pages, bytes_in, bytes_out;
};

/* Extract all paths repeatedly for at least min_s seconds. */
static int measure(const char *const *paths, int n, double min_s, struct result *r)
{
	double t0 = now();

	memset(r, 0, sizeof *r);
	do {
		struct lr_extract *x;
		struct lr_doclist *l;
		if (lr_extract_new(&x, NULL, NULL) || lr_doclist_new(&l, NULL))
			return -1;
		for (int i = 0; i < n; i++)
			if (lr_extract_path(x, paths[i], l, NULL))
				fprintf(stderr, "bench: cannot read %s\n", paths[i]);
		r->pages += lr_extract_stats(x)->pages;
		r->bytes_in += lr_extract_stats(x)->bytes_in;
		r->bytes_out += lr_extract_stats(x)->bytes_out;
		lr_doclist_free(l);
		lr_extract_free(x);
		r->runs++;
		r->seconds = now() - t0;
	} while (r->seconds < min_s);
	return 0;
}

/* pdftotext on each path (to /dev/null), repeated for at least min_s seconds.
 * @return seconds per round, or -1 when pdftotext is not installed. */
static double pdftotext_round(const char *const *paths, int n, double min_s, int *rounds)
{
	double t0 = now(), t;
	int k = 0;

	do {
		for (int i = 0; i < n; i++) {
			pid_t pid = fork();
			int st;
			if (pid == 0) {
				execlp("pdftotext", "pdftotext", "-q", paths[i], "/dev/null", (char *)NULL);
				_exit(127);
			}
			if (pid < 0 || waitpid(pid, &st, 0) < 0 || !WIFEXITED(st) || WEXITSTATUS(st) == 127)
				return -1;
		}
		k++;
		t = now() - t0;
	} while (t < min_s);
	*rounds = k;
	return t / k;
}

int main(int argc, char **argv)
{
	const char *src = getenv("SRCDIR");
	double min_s = argc > 1 ? atof(argv[1]) : 2.0;
	char pdf[6][1024], html[20][1024], tree[4][1024];
	const char *pdfs[6], *htmls[20], *trees[4];
	static const char *const pdf_names[] = {
		"apssamp.pdf", "debian-faq.pdf", "gpl-licence.pdf", "table-page.pdf",
		"install-ru.pdf", "install-ja.pdf",
	};
	static const char *const html_names[] = {
		"install-en.html", "install-de.html", "install-ru.html", "install-ja.html",
		"install-zh.html", "install-ko.html", "policy-sphinx.html", "policy-readme.html",
		"reference-xhtml.html", "install-de-latin1-nodecl.html", "install-ja-sjis-nodecl.html",
		"install-ko-euckr-nodecl.html", "install-zh-gbk-nodecl.html",
	};
	static const char *const tree_names[] = { "engine", "extractors", "src", "tests" };
	int n_html = (int)(sizeof html_names / sizeof html_names[0]);
	struct result r;
	double per_round;
	int rounds;
	uint64_t pages_per_round;

	if (!src || !*src)
		src = ".";
	if (min_s <= 0)
		min_s = 2.0;
	for (int i = 0; i < 6; i++) {
		snprintf(pdf[i], sizeof pdf[i], "%s/corpora/pdf/%s", src, pdf_names[i]);
		pdfs[i] = pdf[i];
	}
	for (int i = 0; i < n_html; i++) {
		snprintf(html[i], sizeof html[i], "%s/corpora/html/%s", src, html_names[i]);
		htmls[i] = html[i];
	}
	for (int i = 0; i < 4; i++) {
		snprintf(tree[i], sizeof tree[i], "%s/%s", src, tree_names[i]);
		trees[i] = tree[i];
	}

	printf("bench_extract: at least %.1f s per measurement; one thread\n\n", min_s);
	if (measure(pdfs, 6, min_s, &r))
		return 1;
	pages_per_round = r.pages / (uint64_t)r.runs;
	printf("PDF   %3d files %4llu pages  longread  %8.1f pages/s  (%d rounds, %.2f s)\n", 6,
	       (unsigned long long)pages_per_round, (double)r.pages / r.seconds, r.runs, r.seconds);
	per_round = pdftotext_round(pdfs, 6, min_s, &rounds);
	if (per_round > 0)
		printf("PDF   %3d files %4llu pages  pdftotext %8.1f pages/s  (%d rounds, one process "
		       "per file, reference)\n", 6, (unsigned long long)pages_per_round,
		       (double)pages_per_round / per_round, rounds);
	else
		printf("PDF   pdftotext not installed: no reference figure\n");

	/* the long manual alone: the figure that compares best with pdftotext's */
	if (measure(pdfs + 1, 1, min_s, &r))
		return 1;
	printf("PDF   debian-faq.pdf (73 pages) longread  %8.1f pages/s\n", (double)r.pages / r.seconds);
	per_round = pdftotext_round(pdfs + 1, 1, min_s, &rounds);
	if (per_round > 0)
		printf("PDF   debian-faq.pdf (73 pages) pdftotext %8.1f pages/s\n", 73 / per_round);

	if (measure(htmls, n_html, min_s, &r))
		return 1;
	printf("HTML  %3d files %7.1f KiB  longread  %8.2f MB/s of input\n", n_html,
	       (double)r.bytes_in / r.runs / 1024, (double)r.bytes_in / r.seconds / 1e6);

	if (measure(trees, 4, min_s, &r))
		return 1;
	printf("tree  engine/ extractors/ src/ tests/  %7.1f KiB  longread  %8.2f MB/s of input\n",
	       (double)r.bytes_in / r.runs / 1024, (double)r.bytes_in / r.seconds / 1e6);
	return 0;
}
