"""tests/reader/gguf_vocab.py — read a GGUF's token strings, to map token ids back to
bytes (where each token of a prompt starts).  Metadata only; tensors are not read.
Training-data tooling, not part of longread."""
import struct

# GGUF metadata value types (the GGUF spec's gguf_type)
_SCALARS = {0: "<B", 1: "<b", 2: "<H", 3: "<h", 4: "<I", 5: "<i", 6: "<f", 7: "<?",
            10: "<Q", 11: "<q", 12: "<d"}


def _bytes_to_unicode():
    """GPT-2's byte <-> printable-character map, which GGUF token strings use."""
    bs = list(range(ord("!"), ord("~") + 1)) + list(range(0xA1, 0xAD)) + list(range(0xAE, 0x100))
    cs = bs[:]
    n = 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(c): b for b, c in zip(bs, cs)}


class Reader:
    def __init__(self, data):
        self.d = data
        self.o = 0

    def take(self, fmt):
        v = struct.unpack_from(fmt, self.d, self.o)[0]
        self.o += struct.calcsize(fmt)
        return v

    def string(self):
        n = self.take("<Q")
        s = self.d[self.o:self.o + n]
        self.o += n
        return s

    def value(self, t):
        if t in _SCALARS:
            return self.take(_SCALARS[t])
        if t == 8:
            return self.string()
        if t == 9:
            et = self.take("<I")
            n = self.take("<Q")
            return [self.value(et) for _ in range(n)]
        raise ValueError("GGUF: unknown value type %d" % t)


def metadata(path):
    """The metadata of the GGUF at path as a dict (strings as bytes)."""
    with open(path, "rb") as f:
        r = Reader(f.read())
    if r.d[:4] != b"GGUF":
        raise ValueError("%s: not a GGUF file" % path)
    r.o = 4
    r.take("<I")
    r.take("<Q")
    n_kv = r.take("<Q")
    kv = {}
    for _ in range(n_kv):
        key = r.string().decode()
        kv[key] = r.value(r.take("<I"))
    return kv


class Vocab:
    """Token id -> bytes (control tokens as their own text, e.g. b'<|eot_id|>')."""

    def __init__(self, path):
        kv = metadata(path)
        u2b = _bytes_to_unicode()
        types = kv["tokenizer.ggml.token_type"]
        self.pieces = []
        self.ids = {}
        for i, (s, t) in enumerate(zip(kv["tokenizer.ggml.tokens"], types)):
            text = s.decode("utf-8")
            if t == 3:
                piece = s
            else:
                piece = bytes(u2b[c] for c in text)
            self.pieces.append(piece)
            self.ids[text] = i
        self.n = len(self.pieces)

    def special(self, name):
        return self.ids[name]

    def offsets(self, ids):
        """Byte offset of each token in the concatenated text, and the text."""
        off = []
        o = 0
        parts = []
        for i in ids:
            off.append(o)
            p = self.pieces[i]
            parts.append(p)
            o += len(p)
        return off, b"".join(parts)
