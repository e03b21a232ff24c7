#!/usr/bin/env python3
"""Builds the word lists bundled in src/matcher/words/ (used to drop typo variants that
are real words). Needs the Debian packages `wamerican` (SCOWL) `hunspell-tr`, `hunspell-es` and `hunspell-pt-br`.

Each output line is one word folded the way the matcher folds text (Turkish i forms to
`i`, diacritics removed, lower case; proper names included, they are frequent in posts), 3 to 24 letters, sorted by UTF-8 bytes, unique.

Usage: tools/build_word_lists.py [OUT_DIR]   (default: src/matcher/words)
"""
import os, sys, unicodedata

OUT = sys.argv[1] if len(sys.argv) > 1 else os.path.join(os.path.dirname(__file__), "..", "src", "matcher", "words")
TR = str.maketrans({"ı": "i", "İ": "i", "I": "i"})


def fold(word):
    word = unicodedata.normalize("NFKD", word.translate(TR).lower())
    return "".join(c for c in word if not unicodedata.combining(c))


def write(name, words):
    kept = sorted({fold(w) for w in words}, key=lambda w: w.encode())
    kept = [w for w in kept if w.isascii() and w.isalpha() and 3 <= len(w) <= 24]
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as out:
        out.write("\n".join(kept) + "\n")
    print(name, len(kept))


write("english.txt", (l.strip() for l in open("/usr/share/dict/american-english", encoding="utf-8")))
def hunspell(name):
    return (l.split("/")[0].strip() for l in open(f"/usr/share/hunspell/{name}.dic", encoding="utf-8") if l.strip())


write("turkish.txt", hunspell("tr_TR"))
write("spanish.txt", hunspell("es_ES"))
write("portuguese.txt", hunspell("pt_BR"))
