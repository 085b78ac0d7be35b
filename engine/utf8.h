/* engine/utf8.h — strict UTF-8 checking and repair, the WHATWG "UTF-8 decode" rules.
 *
 * Valid UTF-8 here is the Unicode definition: shortest form only, no surrogates
 * (U+D800..U+DFFF), nothing above U+10FFFF.  Repair replaces each maximal invalid
 * subpart with U+FFFD (EF BF BD), exactly as the WHATWG Encoding Standard's decoder
 * (and Python's errors="replace") does: "E2 82 20" gives U+FFFD then a space, "C0 AF"
 * gives two U+FFFD, "F4 90 80 80" four.  Used by the tokenizer before pre-tokenizing
 * and by its streaming decoder.  No allocation, no state outside the structs. */
#ifndef LR_UTF8_H
#define LR_UTF8_H

#include <stddef.h>
#include <stdint.h>

/* The length of the longest prefix of s[0..n) that is valid UTF-8 and does not end
 * inside a character: n if all of it is valid. */
size_t lr_utf8_valid_prefix(const char *s, size_t n);

/* An incremental decoder: bytes in, valid UTF-8 out.  A character split across calls
 * is held back (at most 3 bytes) until it is complete or proves invalid. */
struct lr_utf8_dec {
	unsigned char pend[4];   /* bytes of the character in progress */
	unsigned n_pend;         /* how many of them */
	unsigned need;           /* total length of that character, 0 when idle */
	unsigned char lo, hi;    /* allowed range of the next continuation byte */
};

#define LR_UTF8_REPLACEMENT "\xEF\xBF\xBD"

/* Start (or restart) a decoder. */
void lr_utf8_dec_init(struct lr_utf8_dec *d);

/* Feed n bytes; writes the decoded, repaired bytes to out and returns how many.
 * out must have room for lr_utf8_dec_bound(n) bytes. */
size_t lr_utf8_dec_push(struct lr_utf8_dec *d, const char *s, size_t n, char *out);

/* End of input: a character still in progress becomes one U+FFFD.  Writes at most
 * 3 bytes to out and returns how many; the decoder is idle again afterwards. */
size_t lr_utf8_dec_flush(struct lr_utf8_dec *d, char *out);

/* Output room needed for pushing n bytes (each byte can become U+FFFD, and up to 3
 * held-back bytes can come out too).  Saturates instead of overflowing. */
static inline size_t lr_utf8_dec_bound(size_t n)
{
	return n > (SIZE_MAX - 12) / 3 ? SIZE_MAX : 3 * n + 12;
}

/* Repair a whole buffer at once: out (room for lr_utf8_dec_bound(n)) receives s with
 * every maximal invalid subpart replaced by U+FFFD.  Returns the output length. */
size_t lr_utf8_repair(const char *s, size_t n, char *out);

/* Length of the UTF-8 character starting with lead byte c (1..4), assuming valid
 * input; 1 for a byte that cannot start a character. */
static inline unsigned lr_utf8_len(unsigned char c)
{
	return c < 0xC0 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : c < 0xF8 ? 4 : 1;
}

#endif
