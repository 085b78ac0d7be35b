/* tests/fuzz_lrc.c — fuzz target for saved contexts (.lrc): the container (header,
 * section table, checksums, zstd), META, the manifest of extracted documents and the
 * token list are read as untrusted; what opens is re-packed with the reader's tokenizer
 * as `ask CORPUS.lrc` does (a window the file's numbers describe, documents laid out
 * again and compared token for token).  Inputs are written to a memfd, since the reader
 * maps a file.  Built with -DLR_LIBFUZZER (make fuzz-lrc) it is a libFuzzer target;
 * otherwise it replays tests/fuzz/lrc (tests/fuzz_replay.h). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#include "engine/chat.h"
#include "engine/gguf.h"
#include "engine/tok.h"
#include "src/lrc.h"
#include "src/pack.h"
#include "tests/fuzz_replay.h"

static struct lr_tok *tok;
static struct lr_chat chat;
static int loaded;

static void load(void)
{
	const char *src = getenv("SRCDIR");
	char path[4096];
	struct lr_gguf *g = NULL;

	loaded = 1;
	snprintf(path, sizeof path, "%s/tests/models/reader.gguf", src && *src ? src : ".");
	if (lr_gguf_open(&g, path, NULL) || lr_tok_new(&tok, g, NULL) || lr_chat_init(&chat, tok, LR_CHAT_LLAMA3, NULL)) {
		fprintf(stderr, "fuzz_lrc: cannot load %s (set SRCDIR to the source tree)\n", path);
		abort();
	}
	lr_gguf_close(g);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char path[64];
	struct lr_lrc f;
	struct lr_pack *p = NULL;
	struct lr_pack_opts po;
	struct lr_err err = { 0 };
	volatile size_t sink = 0;
	int fd;

	if (!loaded)
		load();
	if ((fd = memfd_create("fuzz.lrc", MFD_CLOEXEC)) < 0)
		abort();
	if (size && write(fd, data, size) != (ssize_t)size)
		abort();
	snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	memset(&f, 0, sizeof f);
	if (lr_lrc_open(&f, path, &err) == 0) {
		for (size_t i = 0; i < f.docs->n; i++)
			sink += f.docs->v[i]->n_bytes;
		for (uint32_t i = 0; i < f.meta.n_prefix; i++)
			sink += (size_t)f.tokens[i];
		memset(&po, 0, sizeof po);
		/* windows the forged numbers describe can be huge: keep the fuzzer's memory sane */
		if (f.meta.window <= (1u << 16) && lr_lrc_repack(&f, path, f.docs, tok, &chat, &po, &p, &err) == 0)
			sink += p->ids.n;
		lr_pack_free(p);
		lr_lrc_close(&f);
	} else if (!err.msg[0]) {
		abort();   /* every failure says why */
	}
	close(fd);
	(void)sink;
	return 0;
}

#ifndef LR_LIBFUZZER
int main(int argc, char **argv)
{
	int rc = fuzz_replay("lrc", 3, argc, argv);

	lr_tok_free(tok);
	return rc;
}
#endif
