/* tests/packtest.h — a corpus and a packer for the packer and citation tests: the
 * real Llama 3 tokenizer (../shared/golden/tokenizer/llama3-vocab.gguf), documents
 * from memory or from corpora/, and a pack over them. */
#ifndef LR_PACKTEST_H
#define LR_PACKTEST_H

#include "engine/chat.h"
#include "engine/gguf.h"
#include "engine/tok.h"
#include "extractors/extract.h"
#include "src/pack.h"

struct fixture {
	struct lr_gguf *g;
	struct lr_tok *tok;
	struct lr_chat chat;
	struct lr_extract *x;
	struct lr_doclist *docs;
};

/* Open the tokenizer and an empty corpus; 0, or -1 (diagnosed) when the vocabulary is
 * missing. */
int fixture_open(struct fixture *f);
void fixture_close(struct fixture *f);
/* Forget the documents. */
void fixture_reset(struct fixture *f);
/* Add a document from memory, named name. */
void fixture_add(struct fixture *f, const char *name, const char *text);
/* Add a file of corpora/ (path relative to it). */
void fixture_add_corpus(struct fixture *f, const char *path);
/* A pack of the documents with o (line_step, order, fit, focus...) and laid out for a
 * question of n_question tokens; *rc gets lr_pack_layout's result.  NULL on setup
 * failure (diagnosed). */
struct lr_pack *fixture_pack(struct fixture *f, const struct lr_pack_opts *o, uint32_t n_question, int *rc);
/* The text of ids[0..n) with special tokens spelled out (a new string). */
char *fixture_decode(const struct fixture *f, const int32_t *ids, size_t n);

/* A step of a 64-bit LCG: deterministic pseudo-random numbers for the tests. */
uint64_t fixture_rand(uint64_t *state);
/* Fill out (NUL-terminated, at most size - 1 bytes) with random pieces from bits[0..n)
 * until it holds at least want bytes (or no piece fits).  @return its length. */
size_t fixture_random_text(uint64_t *state, const char *const *bits, size_t n, size_t want, char *out,
                           size_t size);

#endif
