/* tests/fuzz_extract.c — fuzz target for libextract's in-memory extraction (HTML,
 * text, PDF chosen by the first byte).  libFuzzer build: make fuzz-extract (needs
 * clang); otherwise it replays tests/fuzz/extract (tests/fuzz_replay.h). */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "extractors/extract.h"
#include "tests/fuzz_replay.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const char *const names[] = { "f.html", "f.txt", "f.pdf", "f.c" };
	struct lr_extract *x;
	struct lr_doclist *l;
	const char *name = names[size ? data[0] % 4 : 0];

	if (lr_extract_new(&x, NULL, NULL))
		return 0;
	if (lr_doclist_new(&l, NULL) == 0) {
		if (lr_extract_buffer(x, name, size ? data + 1 : data, size ? size - 1 : 0, l, NULL) == 0) {
			for (size_t i = 0; i < l->n; i++) {
				const struct lr_doc *d = l->v[i];
				char *r;
				size_t n;
				/* invariants: text is NUL-terminated at n_bytes, anchors in range */
				if (strlen(d->text) != d->n_bytes)
					abort();
				for (size_t k = 0; k < d->n_anchors; k++)
					if (d->anchors[k].offset > d->n_bytes)
						abort();
				if (lr_doc_render(d, LR_RENDER_LINE_NUMBERS | LR_RENDER_OUTLINE, &r, &n, NULL) == 0)
					free(r);
			}
		}
		lr_doclist_free(l);
	}
	lr_extract_free(x);
	return 0;
}

#ifndef LR_LIBFUZZER
int main(int argc, char **argv)
{
	return fuzz_replay("extract", 5, argc, argv);
}
#endif
