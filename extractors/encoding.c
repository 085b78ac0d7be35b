/* extractors/encoding.c — which charset a text's bytes are in, and conversion to UTF-8
 * with glibc's iconv.  Workload: one call per text or HTML file (≤ max-file-size), so
 * detection may scan the bytes a few times; conversion is one iconv pass.
 *
 * Detection, when nothing (usable) is declared — in this order, first hit wins:
 *   1. a BOM: UTF-8, UTF-16LE, UTF-16BE;
 *   2. strictly valid UTF-8 (ASCII included);
 *   3. "mostly UTF-8": at least one valid multi-byte sequence and no more invalid bytes
 *      than valid multi-byte sequences — decoded as UTF-8, bad bytes become U+FFFD;
 *   4. Japanese: valid Shift_JIS (CP932) or EUC-JP in which full-width kana are >= 15%
 *      of the non-ASCII characters (Chinese and Korean text has almost none);
 *   5. Korean: valid EUC-KR (CP949) in which Hangul syllables (lead bytes B0-C8) are
 *      >= 60% of the non-ASCII characters and there is at least one ASCII space per
 *      20 of them (Korean separates words; Chinese and Japanese do not);
 *   6. Chinese: valid GB18030 in which level-1 hanzi (lead bytes B0-D7) are >= 50% of
 *      the non-ASCII characters (Latin-1 or Cyrillic bytes that happen to pair up
 *      land in rarely used rows);
 *   7. Cyrillic: high bytes come in runs averaging >= 2.5 (whole words) and mostly in
 *      C0-FF: CP1251 if E0-FF (its lower case) dominates, else KOI8-R;
 *   8. otherwise Western: CP1252, or ISO-8859-1 when bytes CP1252 leaves undefined
 *      (81 8D 8F 90 9D) occur.
 * Big5, EUC-TW, Greek, Hebrew, Arabic and other legacy charsets are not detected
 * (they come out as CP1252 mojibake unless declared). */
#include "extractors/priv.h"

#include <errno.h>
#include <iconv.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ------------------------------------------------------------------ labels */

struct label {
	const char *label;
	const char *name;
};

/* WHATWG-style aliases: a declared "iso-8859-1" or "us-ascii" is decoded as CP1252, as
 * browsers do; "gb2312"/"gbk" as their superset GB18030; "euc-kr" as CP949. */
static const struct label labels[] = {
	{ "utf-8", "UTF-8" }, { "utf8", "UTF-8" }, { "unicode-1-1-utf-8", "UTF-8" },
	{ "us-ascii", "CP1252" }, { "ascii", "CP1252" }, { "iso-8859-1", "CP1252" },
	{ "iso8859-1", "CP1252" }, { "iso_8859-1", "CP1252" }, { "latin1", "CP1252" },
	{ "l1", "CP1252" }, { "windows-1252", "CP1252" }, { "cp1252", "CP1252" },
	{ "x-cp1252", "CP1252" }, { "cp819", "CP1252" },
	{ "shift_jis", "CP932" }, { "shift-jis", "CP932" }, { "sjis", "CP932" },
	{ "x-sjis", "CP932" }, { "ms_kanji", "CP932" }, { "windows-31j", "CP932" },
	{ "cp932", "CP932" }, { "csshiftjis", "CP932" },
	{ "euc-jp", "EUC-JP" }, { "x-euc-jp", "EUC-JP" }, { "eucjp", "EUC-JP" },
	{ "euc-kr", "CP949" }, { "cp949", "CP949" }, { "windows-949", "CP949" },
	{ "ks_c_5601-1987", "CP949" }, { "ksc5601", "CP949" }, { "korean", "CP949" },
	{ "gb2312", "GB18030" }, { "gbk", "GB18030" }, { "gb18030", "GB18030" },
	{ "cp936", "GB18030" }, { "x-gbk", "GB18030" }, { "chinese", "GB18030" },
	{ "csgb2312", "GB18030" }, { "euc-cn", "GB18030" },
	{ "big5", "BIG5-HKSCS" }, { "big5-hkscs", "BIG5-HKSCS" },
	{ "koi8-r", "KOI8-R" }, { "koi8-u", "KOI8-U" },
	{ "windows-1250", "CP1250" }, { "cp1250", "CP1250" },
	{ "windows-1251", "CP1251" }, { "cp1251", "CP1251" },
	{ "windows-1253", "CP1253" }, { "windows-1254", "CP1254" },
	{ "windows-1255", "CP1255" }, { "windows-1256", "CP1256" },
	{ "windows-1257", "CP1257" }, { "windows-1258", "CP1258" },
	{ "iso-8859-2", "ISO-8859-2" }, { "iso-8859-3", "ISO-8859-3" },
	{ "iso-8859-4", "ISO-8859-4" }, { "iso-8859-5", "ISO-8859-5" },
	{ "iso-8859-6", "ISO-8859-6" }, { "iso-8859-7", "ISO-8859-7" },
	{ "iso-8859-8", "ISO-8859-8" }, { "iso-8859-9", "CP1254" },
	{ "iso-8859-10", "ISO-8859-10" }, { "iso-8859-13", "ISO-8859-13" },
	{ "iso-8859-14", "ISO-8859-14" }, { "iso-8859-15", "ISO-8859-15" },
	{ "iso-8859-16", "ISO-8859-16" }, { "latin2", "ISO-8859-2" },
	{ "tis-620", "CP874" }, { "windows-874", "CP874" },
	/* A page that says UTF-16 but reached us as ASCII-compatible bytes is UTF-8
	 * (the HTML standard's rule); real UTF-16 is found by its BOM. */
	{ "utf-16", "UTF-8" }, { "utf-16le", "UTF-8" }, { "utf-16be", "UTF-8" },
};

const char *lr_enc_canonical(const char *label)
{
	char buf[48];
	size_t n = 0;

	while (*label == ' ' || *label == '\t' || *label == '"' || *label == '\'')
		label++;
	for (; *label && n + 1 < sizeof buf; label++) {
		char c = *label;
		if (c == ' ' || c == '\t' || c == '"' || c == '\'' || c == ';')
			break;
		buf[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
	}
	buf[n] = '\0';
	for (size_t i = 0; i < sizeof labels / sizeof labels[0]; i++)
		if (strcmp(buf, labels[i].label) == 0)
			return labels[i].name;
	return NULL;
}

/* ------------------------------------------------------------------ statistics */

struct utf8_stats {
	uint64_t multi;    /* valid multi-byte sequences */
	uint64_t invalid;  /* bytes not part of a valid sequence */
};

static void utf8_scan(const unsigned char *s, size_t n, struct utf8_stats *st)
{
	uint32_t cp;

	memset(st, 0, sizeof *st);
	for (size_t i = 0; i < n;) {
		size_t len;

		if (s[i] < 0x80) {
			i++;
			continue;
		}
		len = lr_utf8_decode(s + i, n - i, &cp);
		if (len) {
			st->multi++;
			i += len;
		} else {
			st->invalid++;
			i++;
		}
	}
}

/* Does iconv accept every byte as charset cs? */
static int iconv_valid(const char *cs, const char *buf, size_t len)
{
	char out[4096];
	iconv_t cd = iconv_open("UTF-8", cs);
	char *in = (char *)buf;
	size_t left = len;
	int ok = 1;

	if (cd == (iconv_t)-1)
		return 0;
	while (left > 0) {
		char *o = out;
		size_t room = sizeof out;
		if (iconv(cd, &in, &left, &o, &room) == (size_t)-1 && errno != E2BIG) {
			ok = 0;
			break;
		}
	}
	iconv_close(cd);
	return ok;
}

/* Japanese kana share in Shift_JIS: hiragana 82 9F-F1, katakana 83 40-96.  Half-width
 * katakana (A1-DF) do not count: real text rarely uses them, and KOI8-R's lower-case
 * Cyrillic letters occupy exactly those bytes.  Returns kana per 1000 non-ASCII
 * characters. */
static unsigned sjis_kana(const unsigned char *s, size_t n)
{
	uint64_t chars = 0, kana = 0;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			i++;
			continue;
		}
		chars++;
		if (c >= 0xa1 && c <= 0xdf) {
			i++;
		} else if (i + 1 < n) {
			unsigned t = s[i + 1];
			kana += (c == 0x82 && t >= 0x9f && t <= 0xf1) || (c == 0x83 && t >= 0x40 && t <= 0x96);
			i += 2;
		} else {
			i++;
		}
	}
	return chars ? (unsigned)(kana * 1000 / chars) : 0;
}

/* EUC-family pair statistics: per 1000 non-ASCII characters, the share whose lead byte
 * is in [lo, hi] (trail A1-FE); also ASCII spaces per 1000 non-ASCII characters. */
static unsigned euc_share(const unsigned char *s, size_t n, unsigned lo, unsigned hi,
                          unsigned *spaces)
{
	uint64_t chars = 0, hit = 0, sp = 0;

	for (size_t i = 0; i < n;) {
		unsigned c = s[i];
		if (c < 0x80) {
			sp += c == ' ';
			i++;
			continue;
		}
		chars++;
		if (i + 1 < n && s[i + 1] >= 0x80) {
			unsigned t = s[i + 1];
			hit += c >= lo && c <= hi && t >= 0xa1 && t <= 0xfe;
			/* a GB18030 four-byte sequence: byte 2 is a digit */
			i += 2;
		} else if (i + 1 < n) {
			i += 2;   /* GBK / UHC trail in the ASCII range */
		} else {
			i++;
		}
	}
	if (spaces)
		*spaces = chars ? (unsigned)(sp * 1000 / chars) : 0;
	return chars ? (unsigned)(hit * 1000 / chars) : 0;
}

static const char *detect_single_byte(const unsigned char *s, size_t n)
{
	uint64_t high = 0, runs = 0, upper = 0, lower = 0, c1 = 0;
	int in_run = 0;

	for (size_t i = 0; i < n; i++) {
		unsigned c = s[i];
		if (c >= 0x80) {
			high++;
			if (!in_run)
				runs++;
			in_run = 1;
			if (c >= 0xe0)
				lower++;
			else if (c >= 0xc0)
				upper++;
			c1 += c == 0x81 || c == 0x8d || c == 0x8f || c == 0x90 || c == 0x9d;
		} else {
			in_run = 0;
		}
	}
	if (runs && high * 10 >= runs * 25 && (upper + lower) * 10 >= high * 7)
		return lower >= upper ? "CP1251" : "KOI8-R";
	return c1 ? "ISO-8859-1" : "CP1252";
}

const char *lr_enc_detect(const char *buf, size_t len)
{
	const unsigned char *s = (const unsigned char *)buf;
	struct utf8_stats u;
	unsigned spaces;

	if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
		return "UTF-8";
	if (len >= 2 && s[0] == 0xff && s[1] == 0xfe)
		return "UTF-16LE";
	if (len >= 2 && s[0] == 0xfe && s[1] == 0xff)
		return "UTF-16BE";
	utf8_scan(s, len, &u);
	if (u.invalid == 0 || (u.multi > 0 && u.invalid <= u.multi))
		return "UTF-8";
	if (iconv_valid("CP932", buf, len) && sjis_kana(s, len) >= 150)
		return "CP932";
	if (iconv_valid("EUC-JP", buf, len) && euc_share(s, len, 0xa4, 0xa5, NULL) >= 150)
		return "EUC-JP";
	if (iconv_valid("CP949", buf, len) && euc_share(s, len, 0xb0, 0xc8, &spaces) >= 600 &&
	    spaces >= 50)
		return "CP949";
	if (iconv_valid("GB18030", buf, len) && euc_share(s, len, 0xb0, 0xd7, NULL) >= 500)
		return "GB18030";
	return detect_single_byte(s, len);
}

/* ------------------------------------------------------------------ conversion */

/* Convert with iconv; invalid or incomplete sequences become U+FFFD (one per byte
 * skipped).  @return 0 or LR_ENOMEM; -1 if iconv does not know cs. */
static int convert(const char *cs, const char *buf, size_t len, struct lr_sb *b,
                   uint64_t *n_replaced)
{
	iconv_t cd = iconv_open("UTF-8", cs);
	char *in = (char *)buf;
	size_t left = len;

	if (cd == (iconv_t)-1)
		return -1;
	while (left > 0) {
		char tmp[8192];
		char *o = tmp;
		size_t room = sizeof tmp;
		size_t r = iconv(cd, &in, &left, &o, &room);

		lr_sb_putn(b, tmp, (size_t)(o - tmp));
		if (r == (size_t)-1 && errno != E2BIG) {
			/* EILSEQ or EINVAL (truncated at the end): skip a byte */
			lr_sb_put_cp(b, 0xfffd);
			(*n_replaced)++;
			in++;
			left--;
			iconv(cd, NULL, NULL, NULL, NULL);
		}
	}
	iconv_close(cd);
	return lr_sb_failed(b) ? LR_ENOMEM : 0;
}

int lr_enc_decode(const char *buf, size_t len, const char *declared, struct lr_decoded *out)
{
	const unsigned char *s = (const unsigned char *)buf;
	struct lr_sb b = { 0 };
	const char *cs = NULL;
	size_t skip = 0;
	int rc, high = 0;

	memset(out, 0, sizeof *out);
	for (size_t i = 0; i < len && !high; i++)
		high = s[i] >= 0x80;
	if (!high)
		cs = "UTF-8";   /* ASCII reads the same in every charset we convert from */
	else if (declared) {
		const char *d = lr_enc_canonical(declared);
		struct utf8_stats u;

		if (!d) {
			out->declared_unknown = 1;
		} else {
			utf8_scan(s, len, &u);
			if (strcmp(d, "UTF-8") == 0) {
				if (u.invalid == 0 || u.invalid <= u.multi)
					cs = d;
			} else if (u.invalid == 0 && u.multi > 0 &&
			           (strncmp(d, "CP125", 5) == 0 || strncmp(d, "ISO-8859", 8) == 0)) {
				/* declared a single-byte charset, but the bytes are UTF-8 with
				 * non-ASCII characters: by far the likelier truth */
				cs = NULL;
			} else if (iconv_valid(d, buf, len)) {
				cs = d;
			}
			if (!cs)
				out->declared_wrong = 1;
		}
	}
	if (declared && !high && !lr_enc_canonical(declared))
		out->declared_unknown = 1;
	if (!cs)
		cs = lr_enc_detect(buf, len);
	if (strcmp(cs, "UTF-8") == 0) {
		if (len >= 3 && s[0] == 0xef && s[1] == 0xbb && s[2] == 0xbf)
			skip = 3;
		/* invalid bytes are replaced later, by lr_text_clean */
		lr_sb_putn(&b, buf + skip, len - skip);
		rc = lr_sb_failed(&b) ? LR_ENOMEM : 0;
	} else {
		if (strncmp(cs, "UTF-16", 6) == 0 && len >= 2)
			skip = 2;
		rc = convert(cs, buf + skip, len - skip, &b, &out->n_replaced);
		if (rc < 0 && rc != LR_ENOMEM) {
			/* iconv lacks the charset (a minimal libc): keep the bytes */
			lr_sb_release(&b);
			lr_sb_putn(&b, buf, len);
			cs = "UTF-8";
			rc = lr_sb_failed(&b) ? LR_ENOMEM : 0;
		}
		out->converted = strcmp(cs, "UTF-8") != 0;
	}
	if (rc) {
		lr_sb_release(&b);
		return LR_ENOMEM;
	}
	out->charset = cs;
	out->len = b.n;
	out->text = lr_sb_take(&b);
	return out->text ? 0 : LR_ENOMEM;
}
