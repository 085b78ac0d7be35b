/* tests/test_encoding.c — charset detection and conversion (extractors/encoding.c) and
 * text cleaning: real pages converted to legacy charsets (corpora/html, made from the
 * UTF-8 originals by make-variants.sh) must be detected as what they are, and the
 * edge cases (mostly-UTF-8, BOMs, wrong declarations) handled as documented. */
#include <iconv.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "extractors/priv.h"
#include "tests/tap.h"

static char *corpus(const char *name, size_t *len)
{
	char path[1024];
	const char *src = getenv("SRCDIR");

	snprintf(path, sizeof path, "%s/corpora/html/%s", src && *src ? src : ".", name);
	return tap_slurp(path, len);
}

static void detect_file(const char *name, const char *want)
{
	size_t len;
	char *buf = corpus(name, &len);

	if (!tap_ok(buf != NULL, "read %s", name))
		return;
	tap_is_str(lr_enc_detect(buf, len), want, "%s is detected as %s", name, want);
	free(buf);
}

/* Convert UTF-8 s to charset cs with iconv (test helper). */
static char *to(const char *cs, const char *s, size_t *len)
{
	iconv_t cd = iconv_open(cs, "UTF-8");
	size_t in_left = strlen(s), out_left = in_left * 4 + 8;
	char *out = malloc(out_left), *o = out, *in = (char *)s;

	iconv(cd, &in, &in_left, &o, &out_left);
	iconv_close(cd);
	*len = (size_t)(o - out);
	return out;
}

static void decode_is(const char *bytes, size_t len, const char *declared, const char *want,
                      const char *want_cs, const char *what)
{
	struct lr_decoded d;

	if (!tap_ok(lr_enc_decode(bytes, len, declared, &d) == 0, "%s: decodes", what))
		return;
	tap_ok(d.len == strlen(want) && memcmp(d.text, want, d.len) == 0, "%s: text", what);
	tap_is_str(d.charset, want_cs, "%s: charset", what);
	free(d.text);
}

static const char ru[] = "Программа установки Debian поддерживает большинство "
                         "современных компьютеров и их устройств.";

static void detection(void)
{
	size_t n;
	char *s;

	detect_file("install-en.html", "UTF-8");
	detect_file("install-ja.html", "UTF-8");
	detect_file("install-de-latin1-nodecl.html", "CP1252");
	detect_file("install-ja-sjis-nodecl.html", "CP932");
	detect_file("install-ko-euckr-nodecl.html", "CP949");
	detect_file("install-zh-gbk-nodecl.html", "GB18030");
	detect_file("install-ru-cp1251-nodecl.html", "CP1251");

	s = to("KOI8-R", ru, &n);
	tap_is_str(lr_enc_detect(s, n), "KOI8-R", "Russian in KOI8-R is detected");
	decode_is(s, n, NULL, ru, "KOI8-R", "KOI8-R round trip");
	free(s);
	s = to("EUC-JP", "日本語のテキストです。ひらがなとカタカナを含みます。", &n);
	tap_is_str(lr_enc_detect(s, n), "EUC-JP", "Japanese in EUC-JP is detected");
	free(s);

	/* Latin-1 words whose bytes pair up as valid GB18030 must stay Western */
	tap_is_str(lr_enc_detect("M\xfcller und S\xf6hne, Stra\xdf" "e", 23), "CP1252",
	           "Latin-1 German is not mistaken for GB18030");
	tap_is_str(lr_enc_detect("caf\xe9 \x81", 6), "ISO-8859-1",
	           "bytes undefined in CP1252 make it ISO-8859-1");
	tap_is_str(lr_enc_detect("plain ascii", 11), "UTF-8", "ASCII is UTF-8");
}

static void decoding(void)
{
	struct lr_decoded d;
	const char mostly[] = "na\xc3\xafve caf\xc3\xa9 r\xc3\xa9sum\xc3\xa9 \xff end";

	/* mostly UTF-8: the stray byte becomes U+FFFD later (lr_text_clean) */
	lr_enc_decode(mostly, sizeof mostly - 1, NULL, &d);
	tap_is_str(d.charset, "UTF-8", "mostly-UTF-8 stays UTF-8 (no Latin-1 mojibake)");
	tap_ok(!d.converted, "... and is not reported as converted");
	free(d.text);

	decode_is("\xef\xbb\xbfhello", 8, NULL, "hello", "UTF-8", "a UTF-8 BOM is dropped");
	decode_is("\xff\xfeh\0i\0", 6, NULL, "hi", "UTF-16LE", "UTF-16LE with BOM");
	decode_is("\xfe\xff\0h\0i", 6, NULL, "hi", "UTF-16BE", "UTF-16BE with BOM");
	decode_is("caf\xe9", 4, "iso-8859-1", "café", "CP1252", "declared ISO-8859-1 reads as CP1252");
	decode_is("\x93quoted\x94", 8, "latin1", "“quoted”", "CP1252", "CP1252 quotes");

	lr_enc_decode("caf\xe9", 4, "utf-8", &d);
	tap_ok(d.declared_wrong && strcmp(d.charset, "CP1252") == 0,
	       "declared UTF-8 on Latin-1 bytes: flagged wrong, detected CP1252");
	free(d.text);
	lr_enc_decode("caf\xc3\xa9", 5, "iso-8859-1", &d);
	tap_ok(d.declared_wrong && strcmp(d.charset, "UTF-8") == 0,
	       "declared Latin-1 on UTF-8 bytes: flagged wrong, read as UTF-8");
	free(d.text);
	lr_enc_decode("caf\xc3\xa9", 5, "x-klingon", &d);
	tap_ok(d.declared_unknown && strcmp(d.charset, "UTF-8") == 0,
	       "an unknown declared charset is flagged and detection used");
	free(d.text);
	lr_enc_decode("\x82\xa0\x82\xa2", 4, "shift_jis", &d);
	tap_ok(d.len == 6 && memcmp(d.text, "あい", 6) == 0 && d.converted,
	       "a declared Shift_JIS is honoured");
	free(d.text);

	tap_is_str(lr_enc_canonical("Shift_JIS"), "CP932", "label Shift_JIS");
	tap_is_str(lr_enc_canonical(" \"GB2312\""), "GB18030", "label GB2312 (quoted)");
	tap_is_str(lr_enc_canonical("euc-kr"), "CP949", "label euc-kr");
	tap_ok(lr_enc_canonical("nonsense") == NULL, "unknown labels give NULL");
}

static void cleaning(void)
{
	struct lr_sb b = { 0 };
	uint64_t rep = 0, ctl = 0;
	const char in[] = "a\r\nb\rc\x01\x1b[0m\td\xc3\x28 e\xef\xbb\xbf" "f\xc2\x85g";

	lr_text_clean(&b, in, sizeof in - 1, &rep, &ctl);
	tap_is_str(b.p, "a\nb\nc[0m\td\xef\xbf\xbd( efg", "CRLF, CR, controls, BOM, C1 and invalid bytes");
	tap_is_int((int64_t)rep, 1, "one invalid sequence replaced");
	tap_is_int((int64_t)ctl, 3, "three control characters removed (SOH, ESC, NEL)");
	lr_sb_release(&b);
}

int main(void)
{
	detection();
	decoding();
	cleaning();
	return tap_done();
}
