/* src/json.h — a small streaming JSON writer for --json output.
 * Strings are written as valid JSON whatever bytes they hold: invalid UTF-8 becomes
 * U+FFFD, control characters are escaped.  Pretty (indented) or compact (one line). */
#ifndef LR_JSON_H
#define LR_JSON_H

#include <stdint.h>
#include <stdio.h>

#define JSON_MAX_DEPTH 32

struct json {
	FILE *f;
	int pretty;
	int depth;
	int count[JSON_MAX_DEPTH];  /* values written at each depth */
	int after_key;
};

void json_init(struct json *j, FILE *f, int pretty);
void json_obj(struct json *j);           /* { */
void json_obj_end(struct json *j);       /* } */
void json_arr(struct json *j);           /* [ */
void json_arr_end(struct json *j);       /* ] */
void json_key(struct json *j, const char *key);
void json_str(struct json *j, const char *s);
void json_strn(struct json *j, const char *s, size_t n);
void json_int(struct json *j, int64_t v);
void json_uint(struct json *j, uint64_t v);
void json_num(struct json *j, double v);  /* non-finite values become null */
void json_f32(struct json *j, float v);   /* a float32 value, 7 significant digits */
void json_bool(struct json *j, int v);
/* null (not json_null: that is jansson's, and a program's own symbol of that name
 * would shadow the library's for every caller in the program) */
void json_nil(struct json *j);
/* Ends the document (a newline). */
void json_end(struct json *j);

#endif
