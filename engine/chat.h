/* engine/chat.h — chat formats, built as token ids.
 *
 *   llama3       <|begin_of_text|><|start_header_id|>ROLE<|end_header_id|>\n\nCONTENT<|eot_id|>
 *                ... <|start_header_id|>assistant<|end_header_id|>\n\n
 *   chatml       <|im_start|>ROLE\nCONTENT<|im_end|>\n ... <|im_start|>assistant\n   (Qwen2.5)
 *   deepseek-r1  <｜begin▁of▁sentence｜>SYSTEM<｜User｜>CONTENT<｜Assistant｜>CONTENT<｜end▁of▁sentence｜>
 *                ... <｜Assistant｜><think>\n   (DeepSeek-R1-Distill)
 *   mistral      <s>[INST] SYSTEM\n\nCONTENT[/INST] CONTENT</s>[INST] ...
 *
 * Special tokens come only from here; roles and contents are always tokenized as plain
 * text, so a document or question that contains "<|eot_id|>" cannot end its turn or
 * start another.  Contents are trimmed of surrounding whitespace, as the templates do.
 * The format is chosen from the model's tokenizer.chat_template by what the template
 * does (the markers it writes), not by its exact text; not a Jinja engine. */
#ifndef LR_CHAT_H
#define LR_CHAT_H

#include <stddef.h>
#include <stdint.h>

#include "engine/err.h"
#include "engine/tok.h"

enum lr_chat_format {
	LR_CHAT_NONE = 0,          /* not recognised */
	LR_CHAT_LLAMA3,
	LR_CHAT_CHATML,
	LR_CHAT_DEEPSEEK_R1,
	LR_CHAT_MISTRAL,
};

#define LR_CHAT_MAX_STOP 12

struct lr_chat {
	const struct lr_tok *tok;     /* borrowed */
	enum lr_chat_format format;
	int32_t bos;                  /* what begins the conversation, -1 for none (ChatML) */
	int32_t eot;                  /* what ends a turn: <|eot_id|>, <|im_end|>, ... */
	int32_t open, close;          /* the role markers: <|start_header_id|> and
	                                 <|end_header_id|>; <|im_start|>; <｜User｜> and
	                                 <｜Assistant｜>; [INST] and [/INST] (-1: text) */
	const char *lead;             /* text before every content: "\n\n" for llama3 */
	int32_t stop[LR_CHAT_MAX_STOP];  /* every end-of-generation token of the vocabulary */
	int n_stop;
};

/* "llama3", "chatml", "deepseek-r1", "mistral" (NULL for LR_CHAT_NONE). */
const char *lr_chat_format_name(enum lr_chat_format f);
/* The format called name (also "qwen" and "llama-3" for the first two), or LR_CHAT_NONE. */
enum lr_chat_format lr_chat_format_parse(const char *name);
/* The names, for messages: "llama3, chatml, deepseek-r1, mistral". */
const char *lr_chat_format_list(void);

/* The format a Jinja chat template writes, recognised by its markers; LR_CHAT_NONE when
 * it is none of them. */
enum lr_chat_format lr_chat_detect(const char *tmpl, size_t len);
/* The format a vocabulary without a template can speak (its special tokens), or NONE. */
enum lr_chat_format lr_chat_detect_vocab(const struct lr_tok *tok);

/* Look up the format's special tokens and the vocabulary's stop tokens.  Errors:
 * LR_EUNSUPPORTED if the vocabulary lacks a token the format needs (the message names
 * it). */
int lr_chat_init(struct lr_chat *c, const struct lr_tok *tok, enum lr_chat_format f, struct lr_err *err);

/* Append what begins a conversation (<|begin_of_text|>; nothing for ChatML). */
int lr_chat_begin(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err);

/* Append one whole message: header, content, end. */
int lr_chat_message(const struct lr_chat *c, const char *role, const char *content, size_t len,
                    struct lr_tok_ids *ids, struct lr_err *err);

/* A message in parts: the header (which may look at ids: a Mistral user turn after a
 * system message continues its [INST]); its content (c->lead + the trimmed text, in one
 * piece: call lr_chat_text once per message); its end.  Callers that write a content in
 * several pieces write c->lead first. */
int lr_chat_header(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err);
int lr_chat_text(const struct lr_chat *c, const char *text, size_t len, struct lr_tok_ids *ids,
                 struct lr_err *err);
int lr_chat_end(const struct lr_chat *c, const char *role, struct lr_tok_ids *ids, struct lr_err *err);

/* Append the generation prompt: the assistant's header and whatever the template puts
 * before its answer ("\n\n" for llama3, "<think>\n" for deepseek-r1). */
int lr_chat_prompt(const struct lr_chat *c, struct lr_tok_ids *ids, struct lr_err *err);

/* 1 if id ends the assistant's turn: one of c->stop. */
int lr_chat_is_stop(const struct lr_chat *c, int32_t id);

#endif
