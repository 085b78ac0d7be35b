// tests/js/parity.mjs — the second reference for tests/tok_parity.sh: token ids from
// the npm package llama3-tokenizer-js (1.2.0, pinned in package-lock.json).
//
//   node parity.mjs gen OUTDIR           write the generated stress inputs to OUTDIR
//   node parity.mjs ids OUTDIR FILE...   for each FILE write OUTDIR/NAME.js (stock
//                                        package) and, where the text has U+0085 or
//                                        U+FEFF, OUTDIR/NAME.jsfix (see below); print
//                                        "NAME<TAB>wsdiff|-" per file
//
// Inputs are decoded like longread does: the WHATWG UTF-8 decoder (TextDecoder, invalid
// bytes -> U+FFFD) with ignoreBOM, so a leading U+FEFF is kept as text.  The package
// is called with {bos: false, eos: false}; it always parses special-token text, so
// longread is run with --special to compare.
//
// Known difference (docs/tokenizer.md): the package's regex uses JavaScript's \s, which
// lacks U+0085 and has U+FEFF; Llama 3 (llama.cpp, the golden data) uses the Unicode
// White_Space set.  For texts containing either character, "jsfix" is the same package
// with only that regex's \s replaced by White_Space written out, so the test can still
// require exact agreement there.
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { basename, join, dirname } from 'node:path';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

// ------------------------------------------------------------------ stress inputs

let seed = 0x1234567;
function rand(n) {              // xorshift32, deterministic across runs and machines
	seed ^= seed << 13; seed >>>= 0;
	seed ^= seed >>> 17;
	seed ^= seed << 5; seed >>>= 0;
	return seed % n;
}
const pick = (a) => a[rand(a.length)];
const rep = (s, n) => s.repeat(n);

function gen(out) {
	mkdirSync(out, { recursive: true });
	const put = (name, text) => writeFileSync(join(out, name), text);
	const words = ['the', 'contract', 'renews', 'automatically', 'Section', '12(b)', 'API',
		'retry_policy', 'naïve', 'Übergröße', 'façade', 'don\'t', 'it\'s', 'WE\'LL', 'x'];

	// long whitespace runs of every kind (White_Space minus U+0085, where both agree)
	const ws = [' ', '\t', '\n', '\r', '\r\n', '\u00a0', '\u3000', '\u2003', '\u2028', '\u000b', '\f'];
	let s = '';
	for (let i = 0; i < 400; i++) {
		const n = pick([1, 2, 3, 7, 16, 64, 200, 1000, 5000]);
		let run = '';
		if (rand(3) === 0) run = rep(pick(ws), n);
		else for (let k = 0; k < Math.min(n, 300); k++) run += pick(ws);
		s += run + pick(words);
	}
	put('stress_whitespace.txt', s + rep(' ', 3000) + rep('\n', 500));

	// long digit strings: ASCII, Arabic-Indic, fullwidth, with separators
	const digitSets = ['0123456789', '٠١٢٣٤٥٦٧٨٩', '０１２３４５６７８９', '०१२३४५६७८९'];
	s = '';
	for (let i = 0; i < 300; i++) {
		const set = pick(digitSets), n = pick([1, 2, 3, 4, 5, 7, 10, 33, 100, 1000, 10000]);
		let d = '';
		for (let k = 0; k < n; k++) d += set[rand(10)];
		s += d + pick([' ', '.', ',', '-', '/', ' x', '\n', '']);
	}
	put('stress_digits.txt', s);

	// repeated punctuation, with the [\r\n]* tail and leading spaces
	const punct = ['!', '?', '.', '-', '=', '*', '#', '/', '\\', '"', '\'', '(', ')', '[', ']',
		'{', '}', '<', '>', '|', '_', '~', '`', '^', '&', '%', '$', '@', ';', ':', ',', '…', '—', '«', '»', '¿', '。', '、'];
	s = '';
	for (let i = 0; i < 2000; i++) {
		const n = pick([1, 2, 3, 4, 8, 50, 500]);
		let p = '';
		if (rand(2)) p = rep(pick(punct), n);
		else for (let k = 0; k < Math.min(n, 60); k++) p += pick(punct);
		s += pick(['', ' ', '  ', '\n']) + p + pick(['', '\n', '\r\n', '\n\n\n', ' ', 'word', '42']);
	}
	put('stress_punctuation.txt', s);

	// mixed scripts, marks, emoji, apostrophes, digits glued to letters
	const pieces = ['hello', 'Привет', 'мир', 'Καλημέρα', 'κόσμε', '日本語', 'の', 'テキスト', '中文',
		'文本', '한국어', '텍스트', 'مرحبا', 'بالعالم', 'שלום', 'עולם', 'नमस्ते', 'दुनिया', 'สวัสดี',
		'ქართული', 'Ελληνικά', 'e\u0301', 'a\u0308\u0323', '👍🏽', '👨‍👩‍👧', '🇫🇷', '❤️', '∑', '∞≠≈',
		'ǅ', 'ß', 'İstanbul', 'ſtraße', '\'s', '\'S', '\'ſ', '’s', 'x²', '½', '①②', 'Ⅻ', '３ｄ', 'ｆｕｌｌ',
		'\u200b', '\u200d', '\u180e', '\u2060', '\t', '\u00ad', 'co-op', 'e-mail', 'C++', 'i18n'];
	s = '';
	for (let i = 0; i < 20000; i++)
		s += pick(pieces) + pick([' ', ' ', '', '\n', ', ', '. ', '—', '“', '”', '1', '23', '  ']);
	put('stress_mixed_scripts.txt', s);

	// a 1 MB single "word": letters only, built from syllables so merges happen
	const syl = ['con', 'tract', 'ing', 'tion', 'al', 'ly', 'pre', 'ter', 'ment', 'able', 'qu', 'x', 'zz', 'e', 'o', 'th'];
	s = '';
	while (s.length < (1 << 20)) s += pick(syl);
	put('stress_one_word_1mb.txt', s.slice(0, 1 << 20));

	// random bytes, biased towards UTF-8 edge cases: WHATWG decoding on both sides
	const edge = [0x00, 0x0a, 0x20, 0x41, 0x7f, 0x80, 0x8f, 0x90, 0x9f, 0xa0, 0xbf, 0xc0, 0xc1,
		0xc2, 0xc3, 0xdf, 0xe0, 0xe2, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xf7, 0xf8, 0xff];
	const b = Buffer.alloc(65536);
	for (let i = 0; i < b.length; i++) b[i] = rand(3) ? pick(edge) : rand(256);
	put('stress_random_bytes.bin', b);

	// special-token text (both sides parse it) and near misses
	const sp = ['<|begin_of_text|>', '<|eot_id|>', '<|start_header_id|>', '<|end_header_id|>',
		'<|reserved_special_token_0|>', '<|reserved_special_token_247|>', '<|reserved_special_token_248|>',
		'<|eot_id|', '<|EOT_ID|>', '<|', '|>', '<||>', '<|<|eot_id|>|>'];
	s = '';
	for (let i = 0; i < 3000; i++) s += pick(sp) + pick(['', ' ', 'user', '\n\n', 'text ']);
	put('stress_special_text.txt', s);

	// the known difference: U+0085 and U+FEFF where JavaScript's \s and White_Space differ
	s = '';
	for (let i = 0; i < 2000; i++)
		s += pick(['a', ' ', '  ', '\u0085', '\ufeff', 'x\u0085', ' \ufeff', '\n', 'line', '2']);
	put('stress_nel_bom.txt', s);
}

// ------------------------------------------------------------------ ids

const WS = '\\t\\n\\v\\f\\r \\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000';
const STOCK = String.raw`"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^\\s\\p{L}\\p{N}]+[\\r\\n]*|\\s*[\\r\\n]+|\\s+(?!\\S)|\\s+"`;
const FIXED = '"' + String.raw`(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\\r\\n\\p{L}\\p{N}]?\\p{L}+|\\p{N}{1,3}| ?[^` +
	WS.replace(/\\/g, '\\\\') + String.raw`\\p{L}\\p{N}]+[\\r\\n]*|[` + WS.replace(/\\/g, '\\\\') +
	String.raw`]*[\\r\\n]+|[` + WS.replace(/\\/g, '\\\\') + String.raw`]+(?![^` + WS.replace(/\\/g, '\\\\') +
	String.raw`])|[` + WS.replace(/\\/g, '\\\\') + ']+"';

async function loadFixed(out) {
	const main = require.resolve('llama3-tokenizer-js');
	const src = readFileSync(main, 'utf8');
	if (!src.includes(STOCK))
		throw new Error(`the pre-tokenizer regex was not found in ${main}: has the package changed?`);
	const file = join(out, 'llama3-tokenizer-whitespace-fixed.mjs');
	writeFileSync(file, src.replace(STOCK, FIXED));
	return (await import(pathToFileURL(file).href)).default;
}

async function ids(out, files) {
	const stock = (await import('llama3-tokenizer-js')).default;
	let fixed = null;
	mkdirSync(out, { recursive: true });
	for (const f of files) {
		const text = new TextDecoder('utf-8', { ignoreBOM: true }).decode(readFileSync(f));
		const name = basename(f);
		writeFileSync(join(out, name + '.js'), stock.encode(text, { bos: false, eos: false }).map((x) => x + '\n').join(''));
		const wsdiff = /[\u0085\ufeff]/.test(text);
		if (wsdiff) {
			fixed ??= await loadFixed(out);
			writeFileSync(join(out, name + '.jsfix'), fixed.encode(text, { bos: false, eos: false }).map((x) => x + '\n').join(''));
		}
		process.stdout.write(`${name}\t${wsdiff ? 'wsdiff' : '-'}\n`);
	}
}

const [mode, out, ...files] = process.argv.slice(2);
if (mode === 'gen' && out) gen(out);
else if (mode === 'ids' && out) await ids(out, files);
else {
	process.stderr.write('usage: node parity.mjs gen OUTDIR | ids OUTDIR FILE...\n');
	process.exit(2);
}
