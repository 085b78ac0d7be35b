/* engine/chat.h — the Llama 3 chat format, built as token ids.
 *
 *   <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>...
 *   <|start_header_id|>assistant<|end_header_id|>\n\n      (the generation prompt)
 *
 * Special tokens come only from here; roles and contents are always tokenized as plain
 * text, so a document or question that contains "<|eot_id|>" cannot end its turn or
 * start another.  Contents are trimmed of surrounding whitespace, as the official
 * template does; the ids equal llama.cpp's for the same conversation. */
#ifndef LR_CHAT_H
#define LR_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/tok.h"

struct lr_chat {
	const struct lr_tok *tok;     /* borrowed */
	int32_t bos, start_header, end_header, eot, eom, eos;
};

/* Look up the special tokens.  Errors: LR_EUNSUPPORTED if the vocabulary lacks
 * <|start_header_id|>, <|end_header_id|> or <|eot_id|> (not a Llama 3 chat model). */
int lr_chat_init(struct lr_chat *c, const struct lr_tok *tok, struct lr_err *err);

/* Append <|begin_of_text|>. */
int lr_chat_begin(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err);

/* Append one whole message: header, content, <|eot_id|>. */
int lr_chat_message(const struct lr_chat *c, const char *role, const char *content, size_t len,
                    struct lr_tok_ids *ids, struct lr_err *err);

/* A message in parts: the header; then its content ("\n\n" + the trimmed text, in
 * one piece: call lr_chat_text once per message); then <|eot_id|>.  The generation
 * prompt is lr_chat_header(c, "assistant") followed by lr_chat_text(c, "", 0). */
int lr_chat_header(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err);
int lr_chat_text(const struct lr_chat *c, const char *text, size_t len, struct lr_tok_ids *ids,
                 struct lr_err *err);
int lr_chat_end(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err);

/* 1 if id ends the assistant's turn (<|eot_id|>, <|eom_id|>, <|end_of_text|>). */
int lr_chat_is_stop(const struct lr_chat *c, int32_t id);

#endif
