/* tests/fuzz_tok.c — fuzz target for the tokenizer: any bytes, as plain text and with
 * special-token parsing, through the Llama 3 pre-tokenizer (the reader's vocabulary,
 * tests/models/reader.gguf) and Qwen2's (golden/qwen2/qwen25-vocab.gguf, when
 * ../shared is there): encode, count and both decoders must agree, and valid UTF-8 must
 * come back exactly.  The first byte chooses the vocabulary and the mode.  Built with
 * -DLR_LIBFUZZER (make fuzz-tok) it is a libFuzzer target; otherwise it replays
 * tests/fuzz/tok (tests/fuzz_replay.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine/gguf.h"
#include "engine/tok.h"
#include "engine/utf8.h"
#include "tests/fuzz_replay.h"

static struct lr_tok *vocab[2];
static int n_vocab = -1;

static struct lr_tok *load(const char *path)
{
	struct lr_gguf *g = NULL;
	struct lr_tok *t = NULL;

	if (lr_gguf_open(&g, path, NULL) == 0)
		lr_tok_new(&t, g, NULL);
	lr_gguf_close(g);
	return t;
}

static void load_all(void)
{
	const char *src = getenv("SRCDIR"), *shared = getenv("SHARED");
	char path[4096];

	n_vocab = 0;
	snprintf(path, sizeof path, "%s/tests/models/reader.gguf", src && *src ? src : ".");
	if ((vocab[n_vocab] = load(path)))
		n_vocab++;
	snprintf(path, sizeof path, "%s/golden/qwen2/qwen25-vocab.gguf", shared && *shared ? shared : "../shared");
	if ((vocab[n_vocab] = load(path)))
		n_vocab++;
	if (!n_vocab) {
		fprintf(stderr, "fuzz_tok: no vocabulary (set SRCDIR to the source tree)\n");
		abort();
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct lr_tok_ids ids = { 0 };
	struct lr_tok_stream st;
	const struct lr_tok *t;
	const char *text = (const char *)data + 1;
	unsigned flags;
	char *out = NULL, *streamed;
	size_t n, len = 0, count = 0, sn = 0;

	if (n_vocab < 0)
		load_all();
	if (size < 1)
		return 0;
	t = vocab[(data[0] >> 1) % n_vocab];
	flags = data[0] & 1 ? LR_TOK_SPECIAL : 0;
	n = size - 1;
	if (lr_tok_encode(t, text, n, flags, &ids, NULL) != 0 || lr_tok_count(t, text, n, flags, &count, NULL) != 0 ||
	    count != ids.n)
		abort();
	if (lr_tok_decode(t, ids.v, ids.n, 0, &out, &len, NULL) != 0)
		abort();
	/* valid UTF-8 comes back exactly; anything else was repaired, character by character */
	if (lr_utf8_valid_prefix(text, n) == n && (len != n || memcmp(out, text, n) != 0))
		abort();
	if (!(streamed = malloc(4 * len + 16)) || lr_tok_stream_init(&st, t, 0, NULL) != 0)
		abort();
	for (size_t i = 0; i < ids.n; i++) {
		const char *piece;
		size_t pn;
		if (lr_tok_stream_push(&st, ids.v[i], &piece, &pn, NULL) != 0 || sn + pn > 4 * len + 16)
			abort();
		memcpy(streamed + sn, piece, pn);
		sn += pn;
	}
	{
		const char *piece;
		size_t pn;
		lr_tok_stream_flush(&st, &piece, &pn);
		if (sn + pn > 4 * len + 16)
			abort();
		memcpy(streamed + sn, piece, pn);
		sn += pn;
	}
	/* the stream is always valid UTF-8, and equal to the whole decode when that is */
	if (lr_utf8_valid_prefix(streamed, sn) != sn ||
	    (lr_utf8_valid_prefix(out, len) == len && (sn != len || memcmp(streamed, out, len) != 0)))
		abort();
	lr_tok_stream_release(&st);
	free(streamed);
	free(out);
	lr_tok_ids_release(&ids);
	return 0;
}

#ifndef LR_LIBFUZZER
int main(int argc, char **argv)
{
	int rc = fuzz_replay("tok", 5, argc, argv);

	for (int i = 0; i < n_vocab; i++)
		lr_tok_free(vocab[i]);
	return rc;
}
#endif
