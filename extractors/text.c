/* extractors/text.c — plain text, Markdown and source code: decoded to UTF-8 (see
 * encoding.c), cleaned of control characters, kept otherwise as is, with a line
 * table for citations like [src/net/retry.c:120].  Workload: one call per file of at
 * most max-file-size bytes; two linear passes. */
#include "extractors/priv.h"

#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* Decode buf, record what the decoding did as problems on d, and append the cleaned
 * UTF-8 to b.  Shared with html.c (which passes the declared charset). */
int lr_text_decode(struct lr_doc *d, const char *buf, size_t len, const char *declared,
                   struct lr_sb *b)
{
	struct lr_decoded dec;
	uint64_t replaced = 0, control = 0;
	int rc;

	if ((rc = lr_enc_decode(buf, len, declared, &dec)))
		return rc;
	lr_text_clean(b, dec.text, dec.len, &replaced, &control);
	free(dec.text);
	if (lr_sb_failed(b))
		return LR_ENOMEM;
	d->encoding = dec.charset;
	replaced += dec.n_replaced;
	rc = 0;
	if (dec.declared_unknown)
		rc = lr_doc_problem(d, LR_PROB_CHARSET, LR_SEV_WARN, 0, 0,
			"declared charset '%s' is unknown; detected %s", declared, dec.charset);
	else if (dec.declared_wrong)
		rc = lr_doc_problem(d, LR_PROB_CHARSET, LR_SEV_WARN, 0, 0,
			"declared charset '%s' does not fit the bytes; detected %s", declared,
			dec.charset);
	if (!rc && dec.converted)
		rc = lr_doc_problem(d, LR_PROB_CONVERTED, LR_SEV_INFO, 0, 0,
			"converted from %s", dec.charset);
	if (!rc && replaced)
		rc = lr_doc_problem(d, LR_PROB_REPLACED, LR_SEV_WARN, 0, replaced,
			"%llu invalid byte sequences replaced by U+FFFD", (unsigned long long)replaced);
	if (!rc && control)
		rc = lr_doc_problem(d, LR_PROB_CONTROL, LR_SEV_INFO, 0, control,
			"%llu control characters removed", (unsigned long long)control);
	return rc;
}

int lr_text_extract(struct lr_extract *x, struct lr_doc *d, const char *buf, size_t len)
{
	struct lr_sb b = { 0 };
	int rc;

	(void)x;
	if ((rc = lr_text_decode(d, buf, len, NULL, &b)) == 0)
		rc = lr_doc_set_text(d, &b);
	lr_sb_release(&b);
	if (!rc && len == 0)
		rc = lr_doc_problem(d, LR_PROB_EMPTY, LR_SEV_INFO, 0, 0, "empty file");
	return rc;
}

/* Code by file name: extensions of programming, build and config languages, and
 * well-known extension-less build files.  Everything else text-like is text. */
int lr_is_code_name(const char *name)
{
	static const char *const ext[] = {
		"c", "h", "cc", "cpp", "cxx", "hh", "hpp", "hxx", "inl", "m", "mm", "cs", "java",
		"kt", "kts", "scala", "go", "rs", "swift", "py", "pyi", "rb", "pl", "pm", "php",
		"js", "mjs", "cjs", "jsx", "ts", "tsx", "vue", "svelte", "lua", "r", "jl", "hs",
		"ml", "mli", "ex", "exs", "erl", "hrl", "clj", "cljs", "el", "lisp", "scm", "f",
		"f90", "f95", "for", "d", "zig", "nim", "dart", "v", "sv", "vhd", "vhdl", "asm",
		"s", "sh", "bash", "zsh", "fish", "ps1", "bat", "cmd", "sql", "proto", "thrift",
		"graphql", "gql", "cmake", "mk", "mak", "am", "ac", "m4", "in", "gradle", "y",
		"l", "css", "scss", "sass", "less", "json", "jsonc", "yaml", "yml", "toml", "ini",
		"cfg", "conf", "xml", "xsl", "xsd", "tex", "sty", "cls", "awk", "sed", "tcl",
		"groovy", "nix", "tf", "hcl", "glsl", "hlsl", "cu", "cuh", "metal", "wgsl",
	};
	static const char *const names[] = {
		"Makefile", "GNUmakefile", "makefile", "CMakeLists.txt", "Dockerfile",
		"Containerfile", "Rakefile", "Gemfile", "Vagrantfile", "Jenkinsfile", "meson.build",
		"SConstruct", "SConscript", "BUILD", "WORKSPACE", "configure", "bootstrap",
		"Kconfig", "Justfile", "justfile", ".gitignore", ".gitattributes", ".editorconfig",
		".clang-format", ".bashrc", ".profile",
	};
	const char *base = strrchr(name, '/');
	const char *dot;

	base = base ? base + 1 : name;
	for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
		if (strcmp(base, names[i]) == 0)
			return 1;
	dot = strrchr(base, '.');
	if (!dot || dot == base)
		return 0;
	for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++)
		if (strcasecmp(dot + 1, ext[i]) == 0)
			return 1;
	return 0;
}
