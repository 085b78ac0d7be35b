"""tests/reader/facts.py — the facts planted in documents, the questions about them and
the answers the reader is taught, for two disjoint recipes: "train" (what the model
learns from) and "eval" (held out: other filler text, other names, attributes and value
formats).  Shared by the training-data generator and the needle benchmark's generator.
Training-data tooling, not part of longread."""
import os
import random

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))

NOT_FOUND = "The documents do not say."

RECIPES = {
    "train": {
        "filler": [("corpora/text/debian-reference.en.txt", 0.0, 0.75, "txt"),
                   ("corpora/text/sqlite3.h", 0.0, 0.75, "h")],
        "onsets": ["b", "d", "f", "g", "k", "l", "m", "n", "p", "r", "s", "t", "v", "z",
                   "br", "dr", "kr", "st", "tr", "sh", "gr", "fl"],
        "vowels": ["a", "e", "i", "o", "u", "ai", "ea", "ou", "ar", "or"],
        "codas": ["", "", "n", "r", "s", "l", "x", "th", "m"],
        "kinds": ["Project {}", "the {} account", "{} Ltd", "unit {}", "the {} contract",
                  "{}", "{}", "the {} server", "site {}", "the {} fund"],
        "attrs": ["access code", "serial number", "account number", "budget", "deadline",
                  "room number", "support contact", "renewal date", "invoice total",
                  "license key", "port number", "timeout", "build number", "warehouse",
                  "postal code", "launch date", "retention period", "credit limit",
                  "fleet number", "batch code", "storage quota", "security level", "owner",
                  "backup host", "cost centre", "project lead", "contract value",
                  "notice period", "meeting room", "rack position", "discount rate",
                  "shipping weight", "phone extension", "vault number"],
        "values": ["digits", "code", "money", "digits_suffix", "person", "days", "letters",
                   "random", "random", "random", "random"],
        "word_attrs": 0.6,     # share of attributes made of words from the filler text
        "dirs": ["docs", "notes", "src", "contracts", "reports", "misc", "", "", ""],
        "templates": ["The {a} of {e} is {v}.", "The {a} of {e} is {v}.", "The {a} for {e} is {v}."],
    },
    "eval": {
        "filler": [("corpora/text/GPL-3.txt", 0.0, 1.0, "txt"),
                   ("corpora/text/argparse.py", 0.0, 1.0, "py"),
                   ("corpora/text/debian-reference.en.txt", 0.75, 1.0, "txt"),
                   ("corpora/text/sqlite3.h", 0.75, 1.0, "h")],
        "onsets": ["c", "h", "j", "w", "y", "ch", "gl", "pl", "qu", "sn", "wh", "sk"],
        "vowels": ["ae", "io", "y", "ei", "oa", "ue", "e", "o"],
        "codas": ["", "ck", "nd", "p", "ft", "w"],
        "kinds": ["Clause {}", "the {} lease", "{} GmbH", "{} Holdings", "the {} cluster",
                  "{}", "vendor {}"],
        "attrs": ["emergency phone", "release tag", "insurance number", "escrow amount",
                  "termination fee", "parking spot", "data centre", "firmware version",
                  "penalty rate", "audit date", "payment term", "signing officer"],
        "values": ["date", "version", "hex", "slashed", "percent"],
        "word_attrs": 0.0,
        "dirs": ["legal", "ops", "archive", "inbox", ""],
        "templates": ["The {a} of {e} is {v}."],
    },
}

_FIRST = ["Dana", "Omar", "Lena", "Priya", "Tomas", "Mei", "Jonas", "Ada", "Ravi", "Ines"]
_LAST = ["Whitfield", "Okafor", "Brandt", "Sato", "Moreau", "Keller", "Novak", "Lindqvist"]
_MONTHS = ["January", "February", "March", "April", "May", "June", "July", "August",
           "September", "October", "November", "December"]


class Recipe:
    def __init__(self, name, rng):
        self.name = name
        self.r = RECIPES[name]
        self.rng = rng
        self.lines = []      # (source tag, [lines])
        for path, a, b, ext in self.r["filler"]:
            with open(os.path.join(ROOT, path), encoding="utf-8", errors="replace") as f:
                ls = f.read().split("\n")
            self.lines.append((ext, ls[int(a * len(ls)):int(b * len(ls))]))
        # attributes no list can hold: words of the filler (none of the held-out recipe's),
        # so the reader must copy the question's words rather than recall a list
        held_out = {w for r in RECIPES.values() if r is not self.r
                    for x in r["attrs"] + r["kinds"] for w in x.lower().split()}
        count = {}
        for _, ls in self.lines:
            for ln in ls:
                for w in ln.split():
                    if w.isalpha() and w.islower() and 4 <= len(w) <= 11 and w not in held_out:
                        count[w] = count.get(w, 0) + 1
        self.words = sorted(w for w, n in count.items() if n >= 2)

    # -------------------------------------------------------------- names and values
    def word(self):
        r, g = self.r, self.rng
        n = g.choice([2, 2, 3])
        w = "".join(g.choice(r["onsets"]) + g.choice(r["vowels"]) for _ in range(n))
        return (w + g.choice(r["codas"])).capitalize()

    def entity(self):
        return self.rng.choice(self.r["kinds"]).format(self.word())

    def near_entity(self, e):
        """A different entity that differs from e by a little."""
        g = self.rng
        w = e.split()
        fixed = {x for k in self.r["kinds"] for x in k.split()}
        core = [i for i, x in enumerate(w) if x not in fixed]
        i = core[-1] if core else len(w) - 1
        x = w[i]
        how = g.randrange(3)
        if how == 0:
            x = x + g.choice(["a", "o", "er", "is", "an"])
        elif how == 1 and len(x) > 3:
            x = x[:-1] + g.choice([c for c in "aeiourn" if c != x[-1]])
        else:
            x = x + "-" + str(g.randrange(2, 10))
        w[i] = x
        return " ".join(w)

    def value(self):
        g = self.rng
        k = g.choice(self.r["values"])
        up = "ABCDEFGHJKLMNPQRSTUVWXYZ"
        if k == "digits":
            return str(g.randrange(10 ** g.randrange(2, 6), 10 ** (g.randrange(6, 8))))
        if k == "code":
            return "".join(g.choice(up) for _ in range(g.randrange(1, 4))) + "-" + str(g.randrange(100, 100000))
        if k == "money":
            return g.choice(["$", "EUR ", "GBP "]) + "{:,}".format(g.randrange(100, 5000000))
        if k == "digits_suffix":
            return str(g.randrange(10, 99999)) + "-" + g.choice(up)
        if k == "person":
            return g.choice(_FIRST) + " " + g.choice(_LAST)
        if k == "days":
            return "%d %s" % (g.randrange(2, 400), g.choice(["days", "hours", "weeks", "kg", "GB"]))
        if k == "letters":
            return "".join(g.choice(up) for _ in range(g.randrange(3, 7)))
        if k == "random":
            # groups of digits, capitals, a word or hex, joined by a separator
            seps = ["-", "/", ".", ":", "_", " ", ""]
            sep = g.choice(seps)
            parts = []
            for _ in range(g.randrange(1, 4)):
                c = g.randrange(4)
                if c == 0:
                    parts.append(str(g.randrange(10 ** g.randrange(1, 6))))
                elif c == 1:
                    parts.append("".join(g.choice(up) for _ in range(g.randrange(1, 5))))
                elif c == 2:
                    parts.append(g.choice(self.words) if self.words else "x")
                else:
                    parts.append("%x" % g.randrange(16, 1 << 24))
            return g.choice(["", "", "#", "v", "$", "x"]) + sep.join(parts) + g.choice(["", "", "", "%", " kg", " ms"])
        if k == "date":
            return "%d %s %d" % (g.randrange(1, 29), g.choice(_MONTHS), g.randrange(2024, 2040))
        if k == "version":
            return "v%d.%d.%d" % (g.randrange(0, 20), g.randrange(0, 40), g.randrange(0, 200))
        if k == "hex":
            return "0x%x" % g.randrange(0x100, 0xffffff)
        if k == "slashed":
            return "%s/%d/%02d" % ("".join(g.choice(up) for _ in range(2)), g.randrange(1, 999), g.randrange(0, 99))
        if k == "percent":
            return "%d.%d%%" % (g.randrange(0, 30), g.randrange(0, 10))
        raise ValueError(k)

    def attr(self):
        g = self.rng
        if self.words and g.random() < self.r["word_attrs"]:
            return " ".join(g.choice(self.words) for _ in range(g.choice([1, 2, 2])))
        return g.choice(self.r["attrs"])

    def filename(self, ext, used):
        g = self.rng
        while True:
            d = g.choice(self.r["dirs"])
            base = self.word().lower()
            if g.random() < 0.5:
                base += "-" + str(g.randrange(1, 40))
            name = (d + "/" if d else "") + base + "." + ext
            if name not in used:
                used.add(name)
                return name

    # -------------------------------------------------------------- facts
    def fact_line(self, a, e, v):
        t = self.rng.choice(self.r["templates"])
        s = t.format(a=a, e=e, v=v)
        return s[0].upper() + s[1:]

    def question(self, a, e):
        return "What is the %s of %s?" % (a, e)

    def filler(self, source, n_bytes):
        """Consecutive lines of one filler source, about n_bytes long."""
        ext, ls = self.lines[source]
        g = self.rng
        start = g.randrange(len(ls))
        out, size = [], 0
        i = start
        while size < n_bytes:
            ln = ls[i % len(ls)]
            out.append(ln)
            size += len(ln) + 1
            i += 1
        return ext, out


def answer_text(quote, name, line):
    """The answer the reader is taught for a fact found on a line of a document."""
    anchor = 1 if line < 10 else line - line % 10
    return '"%s" [%s:%d]' % (quote, name, anchor)
