/* tests/packtest.c — the packer and citation tests' shared corpus and tokenizer. */
#include "tests/packtest.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/tap.h"

int fixture_open(struct fixture *f)
{
	char path[1024];
	struct lr_err err = { 0 };

	memset(f, 0, sizeof *f);
	snprintf(path, sizeof path, "%s/golden/tokenizer/llama3-vocab.gguf", tap_shared());
	if (lr_gguf_open(&f->g, path, &err) || lr_tok_new(&f->tok, f->g, &err) ||
	    lr_chat_init(&f->chat, f->tok, LR_CHAT_LLAMA3, &err) || lr_extract_new(&f->x, NULL, &err) ||
	    lr_doclist_new(&f->docs, &err)) {
		tap_diag("setup: %s", err.msg);
		fixture_close(f);
		return -1;
	}
	return 0;
}

void fixture_close(struct fixture *f)
{
	lr_doclist_free(f->docs);
	lr_extract_free(f->x);
	lr_tok_free(f->tok);
	lr_gguf_close(f->g);
	memset(f, 0, sizeof *f);
}

void fixture_reset(struct fixture *f)
{
	lr_doclist_free(f->docs);
	f->docs = NULL;
	if (lr_doclist_new(&f->docs, NULL))
		exit(1);
}

void fixture_add(struct fixture *f, const char *name, const char *text)
{
	if (lr_extract_buffer(f->x, name, text, strlen(text), f->docs, NULL))
		exit(1);
}

void fixture_add_corpus(struct fixture *f, const char *path)
{
	const char *src = getenv("SRCDIR");
	char full[1024];
	struct lr_err err = { 0 };

	snprintf(full, sizeof full, "%s/corpora/%s", src && *src ? src : ".", path);
	if (lr_extract_path(f->x, full, f->docs, &err)) {
		tap_diag("%s", err.msg);
		exit(1);
	}
}

struct lr_pack *fixture_pack(struct fixture *f, const struct lr_pack_opts *o, uint32_t n_question, int *rc)
{
	struct lr_pack *p = NULL;
	struct lr_err err = { 0 };

	if (lr_pack_new(&p, f->tok, &f->chat, f->docs, o, &err)) {
		tap_diag("lr_pack_new: %s", err.msg);
		return NULL;
	}
	*rc = lr_pack_layout(p, n_question, &err);
	return p;
}

char *fixture_decode(const struct fixture *f, const int32_t *ids, size_t n)
{
	char *s = NULL;
	size_t len;

	if (lr_tok_decode(f->tok, ids, n, 0, &s, &len, NULL))
		exit(1);
	return s;
}

uint64_t fixture_rand(uint64_t *state)
{
	*state = *state * 6364136223846793005ull + 1442695040888963407ull;
	return *state >> 33;
}

size_t fixture_random_text(uint64_t *state, const char *const *bits, size_t n, size_t want, char *out,
                           size_t size)
{
	size_t k = 0;

	while (k < want) {
		const char *b = bits[fixture_rand(state) % n];
		size_t len = strlen(b);
		if (k + len + 1 > size)
			break;
		memcpy(out + k, b, len);
		k += len;
	}
	out[k] = '\0';
	return k;
}
