/* engine/tok.h — the Llama 3 and Qwen2 tokenizers: byte-level BPE over a GGUF vocabulary.
 *
 * Built from the GGUF keys tokenizer.ggml.{model,pre,tokens,token_type,merges,
 * bos_token_id,eos_token_id,eot_token_id,add_bos_token}.  Only tokenizer.ggml.model =
 * "gpt2" is accepted, with the Llama 3 pre-tokenizer (pre = "llama-bpe", or its aliases
 * "llama3", "llama-v3") or Qwen2's ("qwen2"); anything else is LR_EUNSUPPORTED, naming
 * what was found.
 *
 * Encoding: input bytes are checked as UTF-8 and each maximal invalid subpart becomes
 * U+FFFD (WHATWG rule, see engine/utf8.h); the text is split by the Llama 3 regex
 * (PCRE2); each piece is looked up whole (Llama 3 only), else merged by rank.  Document
 * text is plain text: "<|eot_id|>" in a document becomes ordinary text tokens.  Only
 * LR_TOK_SPECIAL makes the text of control (and unknown) tokens into those tokens;
 * user-defined tokens (Qwen2.5's <tool_call>, never a control token) are matched in any
 * text, as llama.cpp does.  No BOS or EOS is ever added: callers add lr_tok_bos() themselves.
 * docs/tokenizer.md describes the algorithm and every known difference from the
 * reference implementation (llama.cpp).
 *
 * Threads: an lr_tok is immutable once built; any number of threads may encode and
 * decode with one lr_tok at once (each call keeps its own scratch and word cache).
 * Untrusted input: vocabularies are validated when built (malformed metadata is
 * LR_EFORMAT with a message naming the key and entry); any bytes at all may be
 * encoded. */
#ifndef LR_TOK_H
#define LR_TOK_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/gguf.h"
#include "engine/utf8.h"

/* Flags for lr_tok_encode / lr_tok_count. */
#define LR_TOK_SPECIAL      0x1u  /* parse the text of special tokens ("<|eot_id|>") */
/* Flags for lr_tok_decode / lr_tok_stream_init. */
#define LR_TOK_SKIP_SPECIAL 0x2u  /* control, unknown and unused tokens decode to nothing */

/* Token types, as stored in tokenizer.ggml.token_type (llama.cpp's numbering). */
enum lr_tok_type {
	LR_TOK_UNDEFINED = 0,     /* treated as NORMAL */
	LR_TOK_NORMAL = 1,
	LR_TOK_UNKNOWN = 2,
	LR_TOK_CONTROL = 3,       /* <|begin_of_text|>, <|eot_id|>, reserved ... */
	LR_TOK_USER_DEFINED = 4,
	LR_TOK_UNUSED = 5,
	LR_TOK_BYTE = 6,          /* treated as NORMAL */
};

struct lr_tok;

/* Pre-tokenizers (tokenizer.ggml.pre): Llama 3's ("llama-bpe", "llama3", "llama-v3";
 * words looked up whole before merging) and Qwen2's ("qwen2": digits one by one, merged
 * by rank only). */
enum lr_tok_pre {
	LR_TOK_PRE_LLAMA3 = 0,
	LR_TOK_PRE_QWEN2,
};

/* A growable array of token ids, owned by the caller.  Zero-initialised is a valid
 * empty array; release with lr_tok_ids_release. */
struct lr_tok_ids {
	int32_t *v;
	size_t n, cap;
};

void lr_tok_ids_init(struct lr_tok_ids *ids);
void lr_tok_ids_release(struct lr_tok_ids *ids);
/* Append one id (e.g. the BOS the caller wants first).  LR_ENOMEM on failure. */
int lr_tok_ids_push(struct lr_tok_ids *ids, int32_t id, struct lr_err *err);

/* ------------------------------------------------------------------ building */

/* Build the tokenizer of an open GGUF file.  Everything needed is copied, so g may be
 * closed afterwards.  On success *out is a new object; free it with lr_tok_free.
 * Errors: LR_ENOTFOUND (no tokenizer.ggml.model: the file has no tokenizer),
 * LR_EUNSUPPORTED (another tokenizer model or pre-tokenizer), LR_EFORMAT (missing or
 * malformed tokens, token_type, merges; a merge naming or making a string that is not a
 * token; a byte with no token; a special-token id out of range), LR_ENOMEM. */
int lr_tok_new(struct lr_tok **out, const struct lr_gguf *g, struct lr_err *err);

/* Free everything.  Accepts NULL. */
void lr_tok_free(struct lr_tok *tok);

/* ------------------------------------------------------------------ encoding */

/* Tokenize text[0..len) (any bytes; need not be NUL-terminated) and append the ids to
 * out.  flags: 0 or LR_TOK_SPECIAL.  On failure out keeps its earlier ids (and maybe
 * some of the new ones).  Time is linear in len except inside a pre-token ("word"),
 * which costs O(n log n) and ~30 bytes of scratch per byte: fine for any real text, a
 * few seconds and a GB for a single 30 MB word.  Errors: LR_ENOMEM, LR_EINVAL (text
 * NULL with len > 0), LR_ERANGE (PCRE2 gave up on the text; not expected). */
int lr_tok_encode(const struct lr_tok *tok, const char *text, size_t len, unsigned flags,
                  struct lr_tok_ids *out, struct lr_err *err);

/* The number of ids lr_tok_encode would append, without storing them. */
int lr_tok_count(const struct lr_tok *tok, const char *text, size_t len, unsigned flags,
                 size_t *n, struct lr_err *err);

/* ------------------------------------------------------------------ the vocabulary */

uint32_t lr_tok_n_vocab(const struct lr_tok *tok);

/* The bytes token id stands for: the decoded bytes of a normal token (GPT-2 byte
 * mapping undone: "Ġthe" -> " the"), the text of any other token ("<|eot_id|>").
 * Borrowed, valid until lr_tok_free; may contain any bytes, including NUL, and a
 * normal token may hold only part of a UTF-8 character.  NULL (and *len = 0) if id is
 * out of range.  len may be NULL. */
const char *lr_tok_piece(const struct lr_tok *tok, int32_t id, size_t *len);

/* The type of token id; LR_TOK_UNDEFINED if id is out of range. */
enum lr_tok_type lr_tok_token_type(const struct lr_tok *tok, int32_t id);

/* Special ids, or -1 if the vocabulary has none.  eot is tokenizer.ggml.eot_token_id,
 * else the token "<|eot_id|>". */
int32_t lr_tok_bos(const struct lr_tok *tok);
int32_t lr_tok_eos(const struct lr_tok *tok);
int32_t lr_tok_eot(const struct lr_tok *tok);
/* tokenizer.ggml.add_bos_token: 0 when the file says the model takes no BOS (Qwen2). */
int lr_tok_add_bos(const struct lr_tok *tok);
enum lr_tok_pre lr_tok_pre(const struct lr_tok *tok);

/* The id of the control, user-defined or unknown token whose text is exactly text
 * (NUL-terminated), or -1.  Linear in the number of such tokens (256 for Llama 3):
 * look ids up once, not per token. */
int32_t lr_tok_find_special(const struct lr_tok *tok, const char *text);

/* ------------------------------------------------------------------ decoding */

/* The concatenated pieces of ids[0..n) (no UTF-8 repair: for valid UTF-8 input,
 * decode(encode(x)) == x).  *out is a new NUL-terminated buffer (free it with free());
 * *out_len excludes the NUL.  flags: 0 or LR_TOK_SKIP_SPECIAL.  Errors: LR_EINVAL (an
 * id out of range), LR_ENOMEM. */
int lr_tok_decode(const struct lr_tok *tok, const int32_t *ids, size_t n, unsigned flags,
                  char **out, size_t *out_len, struct lr_err *err);

/* A streaming decoder for generated tokens: what it returns is always valid UTF-8 and
 * never ends inside a character.  A character split across tokens comes out with the
 * token that completes it; bytes that can never form a character come out as U+FFFD
 * (WHATWG rule).  Embedded in the caller's struct; init allocates one buffer, sized
 * from the vocabulary. */
struct lr_tok_stream {
	const struct lr_tok *tok;   /* borrowed */
	unsigned flags;
	struct lr_utf8_dec dec;     /* private: held-back bytes of a split character */
	char *buf;                  /* private: output of the last call */
	size_t cap;
};

/* Start a stream.  flags: 0 or LR_TOK_SKIP_SPECIAL (a skipped token is invisible: a
 * character split around it is still joined).  Errors: LR_ENOMEM. */
int lr_tok_stream_init(struct lr_tok_stream *s, const struct lr_tok *tok, unsigned flags,
                       struct lr_err *err);
/* Release the buffer.  Accepts a zeroed struct. */
void lr_tok_stream_release(struct lr_tok_stream *s);

/* Add one token.  *text / *len receive the bytes now ready (possibly none); borrowed,
 * valid until the next call on s.  Errors: LR_EINVAL (id out of range; the stream is
 * unchanged). */
int lr_tok_stream_push(struct lr_tok_stream *s, int32_t id, const char **text, size_t *len,
                       struct lr_err *err);

/* End of the stream: an unfinished character comes out as U+FFFD.  The stream can be
 * used again afterwards, as if new. */
void lr_tok_stream_flush(struct lr_tok_stream *s, const char **text, size_t *len);

#endif
