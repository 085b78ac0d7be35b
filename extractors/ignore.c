/* extractors/ignore.c — gitignore-style globs and rule stacks for directory walks:
 * .gitignore (nested), .ignore, .git/info/exclude, and the --include/--exclude globs.
 * Workload: every directory entry of a walk is checked against every rule of every
 * enclosing directory (tens of rules, a few levels), so matching must be cheap and —
 * because a repository's ignore files are untrusted — never exponential.
 *
 * Semantics follow gitignore(5): blank lines and "#" comments are skipped; "\#",
 * "\!" and "\ " escape; trailing unescaped spaces are dropped; "!" re-includes; a
 * trailing "/" matches directories only; a pattern with a "/" at the start or in the
 * middle is relative to its file's directory, otherwise it matches a name at any
 * depth below; "**" components match any number of directories.  The last matching
 * rule wins, deeper files over shallower ones. */
#include "extractors/priv.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------------ globs */

/* Length of the UTF-8 character at s (1 for bytes that do not start one). */
static size_t char_len(const char *s, size_t n)
{
	uint32_t cp;
	size_t k = lr_utf8_decode((const unsigned char *)s, n, &cp);

	return k ? k : 1;
}

/* Match one character of str against the class at pat[*pi] ('[' already seen at
 * pat[*pi - 1]).  Advances *pi past ']'.  Bytes compare; ranges are byte ranges.
 * @return 1 match, 0 no match, -1 malformed class (treat '[' literally). */
static int match_class(const char *pat, size_t plen, size_t *pi, unsigned char c)
{
	size_t p = *pi;
	int neg = 0, hit = 0, first = 1;

	if (p < plen && (pat[p] == '!' || pat[p] == '^')) {
		neg = 1;
		p++;
	}
	while (p < plen && (pat[p] != ']' || first)) {
		unsigned char lo = (unsigned char)pat[p], hi;
		first = 0;
		if (lo == '\\' && p + 1 < plen)
			lo = (unsigned char)pat[++p];
		p++;
		hi = lo;
		if (p + 1 < plen && pat[p] == '-' && pat[p + 1] != ']') {
			hi = (unsigned char)pat[p + 1];
			if (hi == '\\' && p + 2 < plen)
				hi = (unsigned char)pat[p + 2], p++;
			p += 2;
		}
		if (c >= lo && c <= hi)
			hit = 1;
	}
	if (p >= plen)
		return -1;
	*pi = p + 1;
	return hit != neg;
}

/* Match one path component against one pattern component (no '/' in either).
 * Classic greedy matching with one backtrack point: O(plen * slen) worst case. */
static int match_component(const char *pat, size_t plen, const char *s, size_t slen)
{
	size_t p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

	while (i < slen) {
		if (p < plen && pat[p] == '*') {
			while (p < plen && pat[p] == '*')
				p++;
			star_p = p;
			star_i = i;
			continue;
		}
		if (p < plen) {
			size_t np = p + 1;
			int ok;

			if (pat[p] == '?') {
				ok = 1;
			} else if (pat[p] == '[') {
				ok = match_class(pat, plen, &np, (unsigned char)s[i]);
				if (ok < 0) {
					np = p + 1;
					ok = s[i] == '[';
				}
			} else if (pat[p] == '\\' && p + 1 < plen) {
				np = p + 2;
				ok = s[i] == pat[p + 1];
			} else {
				ok = s[i] == pat[p];
			}
			if (ok) {
				i += pat[p] == '?' ? char_len(s + i, slen - i) : 1;
				p = np;
				continue;
			}
		}
		if (star_p == SIZE_MAX)
			return 0;
		p = star_p;
		i = ++star_i;
	}
	while (p < plen && pat[p] == '*')
		p++;
	return p == plen;
}

/* Split "a/b/c" into components; @return the count (at most max). */
static size_t split(const char *s, size_t n, const char **part, size_t *plen, size_t max)
{
	size_t k = 0, start = 0;

	for (size_t i = 0; i <= n && k < max; i++) {
		if (i == n || s[i] == '/') {
			part[k] = s + start;
			plen[k] = i - start;
			k++;
			start = i + 1;
		}
	}
	return k;
}

#define MAX_PARTS 256

int lr_glob_match(const char *pat, size_t plen, const char *path, size_t len)
{
	const char *pp[MAX_PARTS + 1], *sp[MAX_PARTS];
	size_t pl[MAX_PARTS + 1], sl[MAX_PARTS];
	size_t np, ns, p = 0, i = 0, star_p = SIZE_MAX, star_i = 0;

	np = split(pat, plen, pp, pl, MAX_PARTS);
	ns = split(path, len, sp, sl, MAX_PARTS);
	if (np == MAX_PARTS || ns == MAX_PARTS)
		return 0;   /* absurdly deep: never matches (the walk limits depth anyway) */
	/* A trailing "**" matches one or more components: make it "*" then "**". */
	if (np >= 2 && pl[np - 1] == 2 && memcmp(pp[np - 1], "**", 2) == 0) {
		pp[np] = pp[np - 1];
		pl[np] = 2;
		pp[np - 1] = "*";
		pl[np - 1] = 1;
		np++;
	}
	/* Components as units, "**" as a star over them: the same greedy scheme as
	 * match_component, which is exact when every other unit matches exactly one. */
	while (i < ns) {
		if (p < np && pl[p] == 2 && memcmp(pp[p], "**", 2) == 0) {
			p++;
			star_p = p;
			star_i = i;
			continue;
		}
		if (p < np && match_component(pp[p], pl[p], sp[i], sl[i])) {
			p++;
			i++;
			continue;
		}
		if (star_p == SIZE_MAX)
			return 0;
		p = star_p;
		i = ++star_i;
	}
	while (p < np && pl[p] == 2 && memcmp(pp[p], "**", 2) == 0)
		p++;
	return p == np;
}

/* ------------------------------------------------------------------ rule sets */

struct rule {
	char *pat;          /* without "!", leading "/" and trailing "/" */
	size_t len;
	unsigned neg : 1, dir_only : 1, anchored : 1;
};

struct set {
	char *base;         /* directory the rules are relative to: "" or "a/b" */
	size_t base_len;
	struct rule *r;
	size_t n;
};

struct lr_ignore {
	struct set *s;
	size_t n, cap;
};

int lr_ignore_new(struct lr_ignore **out)
{
	*out = calloc(1, sizeof **out);
	return *out ? 0 : LR_ENOMEM;
}

static void set_release(struct set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->r[i].pat);
	free(s->r);
	free(s->base);
}

void lr_ignore_free(struct lr_ignore *ig)
{
	if (!ig)
		return;
	for (size_t i = 0; i < ig->n; i++)
		set_release(&ig->s[i]);
	free(ig->s);
	free(ig);
}

/* Parse one line into r; @return 1 a rule, 0 nothing (blank/comment), -1 no memory. */
static int parse_line(const char *l, size_t n, struct rule *r)
{
	size_t start = 0;

	memset(r, 0, sizeof *r);
	if (n && l[n - 1] == '\r')
		n--;
	/* trailing spaces unless escaped */
	while (n > 0 && l[n - 1] == ' ' && !(n >= 2 && l[n - 2] == '\\'))
		n--;
	if (n == 0 || l[0] == '#')
		return 0;
	if (l[0] == '!') {
		r->neg = 1;
		start = 1;
	} else if (l[0] == '\\' && n > 1 && (l[1] == '#' || l[1] == '!')) {
		start = 1;
	}
	if (n > start && l[n - 1] == '/') {
		r->dir_only = 1;
		n--;
	}
	if (n <= start)
		return 0;
	if (memchr(l + start, '/', n - start))
		r->anchored = 1;
	if (l[start] == '/')
		start++;
	if (n <= start)
		return 0;
	r->len = n - start;
	r->pat = malloc(r->len + 1);
	if (!r->pat)
		return -1;
	memcpy(r->pat, l + start, r->len);
	r->pat[r->len] = '\0';
	return 1;
}

int lr_ignore_push(struct lr_ignore *ig, const char *base, const char *text, size_t len,
                   const char *source)
{
	struct set s = { 0 };
	size_t cap = 0;

	(void)source;
	if (ig->n == ig->cap) {
		size_t c = ig->cap ? ig->cap * 2 : 8;
		struct set *v = realloc(ig->s, c * sizeof *v);
		if (!v)
			return LR_ENOMEM;
		ig->s = v;
		ig->cap = c;
	}
	s.base = strdup(base);
	if (!s.base)
		return LR_ENOMEM;
	s.base_len = strlen(base);
	for (size_t i = 0; i < len;) {
		const char *nl = memchr(text + i, '\n', len - i);
		size_t e = nl ? (size_t)(nl - text) : len;
		struct rule r;
		int k = parse_line(text + i, e - i, &r);

		i = e + 1;
		if (k < 0)
			goto oom;
		if (k == 0)
			continue;
		if (s.n == cap) {
			size_t c = cap ? cap * 2 : 16;
			struct rule *v = realloc(s.r, c * sizeof *v);
			if (!v) {
				free(r.pat);
				goto oom;
			}
			s.r = v;
			cap = c;
		}
		s.r[s.n++] = r;
	}
	ig->s[ig->n++] = s;
	return 0;
oom:
	set_release(&s);
	return LR_ENOMEM;
}

int lr_ignore_load(struct lr_ignore *ig, const char *base, const char *file)
{
	enum { MAX_IGNORE_FILE = 1 << 20 };  /* more than any sane ignore file */
	char *buf;
	size_t n;
	FILE *f = fopen(file, "rb");
	int rc;

	if (!f)
		return 0;
	buf = malloc(MAX_IGNORE_FILE);
	if (!buf) {
		fclose(f);
		return LR_ENOMEM;
	}
	n = fread(buf, 1, MAX_IGNORE_FILE, f);
	fclose(f);
	rc = lr_ignore_push(ig, base, buf, n, file);
	free(buf);
	return rc;
}

void lr_ignore_pop(struct lr_ignore *ig, const char *base)
{
	while (ig->n > 0 && strcmp(ig->s[ig->n - 1].base, base) == 0)
		set_release(&ig->s[--ig->n]);
}

int lr_ignore_check(const struct lr_ignore *ig, const char *rel, int is_dir)
{
	size_t rlen = strlen(rel);
	const char *slash = strrchr(rel, '/');
	const char *name = slash ? slash + 1 : rel;
	size_t nlen = strlen(name);

	for (size_t k = ig->n; k-- > 0;) {
		const struct set *s = &ig->s[k];
		const char *sub = rel;
		size_t slen = rlen;

		if (s->base_len) {
			if (rlen <= s->base_len || strncmp(rel, s->base, s->base_len) != 0 ||
			    rel[s->base_len] != '/')
				continue;
			sub = rel + s->base_len + 1;
			slen = rlen - s->base_len - 1;
		}
		for (size_t i = s->n; i-- > 0;) {
			const struct rule *r = &s->r[i];
			int m;

			if (r->dir_only && !is_dir)
				continue;
			m = r->anchored ? lr_glob_match(r->pat, r->len, sub, slen)
			                : lr_glob_match(r->pat, r->len, name, nlen);
			if (m)
				return r->neg ? -1 : 1;
		}
	}
	return 0;
}
