//! Text folding before matching: case folded the Turkish-correct way (İ, I, ı, i all
//! become `i`), common diacritics removed (ş→s, ğ→g, ü→u, ö→o, ç→c, â→a), apostrophe
//! variants unified, zero-width characters dropped. Every folded byte keeps the offset
//! of the original character it came from, so spans point into the original text.

/// Folded text plus the map back to the original.
#[derive(Debug, Default, Clone)]
pub struct Folded {
    /// The folded text, matched against folded patterns.
    pub text: String,
    /// `offsets[i]` is the byte offset in the original text of the character that
    /// produced folded byte `i`; one extra entry holds the original length.
    offsets: Vec<usize>,
}

impl Folded {
    /// Folds `original` into `self`, reusing its buffers.
    pub fn fold_into(&mut self, original: &str) {
        self.text.clear();
        self.offsets.clear();
        for (offset, c) in original.char_indices() {
            let before = self.text.len();
            fold_char(c, &mut self.text);
            let produced = self.text.len() - before;
            self.offsets.extend(std::iter::repeat_n(offset, produced));
        }
        self.offsets.push(original.len());
    }

    /// The original byte range for a folded range that starts and ends on char
    /// boundaries of the folded text.
    pub fn original_range(&self, start: usize, end: usize) -> (usize, usize) {
        (self.offsets[start], self.offsets[end])
    }
}

/// Folds a whole string (patterns are folded with the same rules as posts).
pub fn fold(text: &str) -> String {
    let mut folded = Folded::default();
    folded.fold_into(text);
    folded.text
}

fn fold_char(c: char, out: &mut String) {
    match c {
        'İ' | 'I' | 'ı' | 'i' | 'î' | 'Î' | 'ï' | 'Ï' | 'í' | 'Í' | 'ì' | 'Ì' => {
            out.push('i')
        }
        'Ş' | 'ş' | 'Ś' | 'ś' | 'Š' | 'š' => out.push('s'),
        'Ğ' | 'ğ' => out.push('g'),
        'Ü' | 'ü' | 'Û' | 'û' | 'Ú' | 'ú' | 'Ù' | 'ù' => out.push('u'),
        'Ö' | 'ö' | 'Ô' | 'ô' | 'Ó' | 'ó' | 'Ò' | 'ò' => out.push('o'),
        'Ç' | 'ç' | 'Ć' | 'ć' | 'Č' | 'č' => out.push('c'),
        'Â' | 'â' | 'Á' | 'á' | 'À' | 'à' | 'Ä' | 'ä' | 'Ã' | 'ã' | 'Å' | 'å' => {
            out.push('a')
        }
        'É' | 'é' | 'È' | 'è' | 'Ê' | 'ê' | 'Ë' | 'ë' => out.push('e'),
        'Ñ' | 'ñ' => out.push('n'),
        '\u{2019}' | '\u{2018}' | '`' | '\u{00B4}' | '\u{02BC}' => out.push('\''),
        // Zero-width space/joiners, soft hyphen, BOM, and the combining dot above that
        // a naive lowercasing of İ leaves behind.
        '\u{200B}' | '\u{200C}' | '\u{200D}' | '\u{00AD}' | '\u{FEFF}' | '\u{0307}' => {}
        c if c.is_ascii() => out.push(c.to_ascii_lowercase()),
        c => out.extend(c.to_lowercase()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn turkish_case_and_diacritics_fold_to_ascii() {
        let cases = [
            ("TÜRK TELEKOM", "turk telekom"),
            ("Türk Hava Yolları", "turk hava yollari"),
            ("İSTANBUL ıŞık", "istanbul isik"),
            ("YAPI KREDİ", "yapi kredi"),
            ("Turkcell’e", "turkcell'e"),
            ("Turk\u{200B}cell", "turkcell"),
            ("i\u{0307}", "i"),
            ("ÇAĞRI", "cagri"),
        ];
        for (input, expected) in cases {
            assert_eq!(fold(input), expected, "{input}");
        }
    }

    #[test]
    fn offsets_point_into_the_original() {
        let original = "Ah YAPI KREDİ’ye";
        let mut folded = Folded::default();
        folded.fold_into(original);
        let start = folded.text.find("yapi kredi").unwrap();
        let (s, e) = folded.original_range(start, start + "yapi kredi".len());
        assert_eq!(&original[s..e], "YAPI KREDİ");
        let (s, e) = folded.original_range(0, folded.text.len());
        assert_eq!(&original[s..e], original);
    }
}
