//! Finds the line a dotted key path (`sources[1].interval`) stands on in a TOML file,
//! so every configuration problem can name its file, key and line.

use std::path::{Path, PathBuf};

use toml_edit::{ImDocument, Item, TableLike};

/// A TOML file kept in memory to answer "on which line is this key?".
pub struct TomlSource {
    /// Where the text came from, as shown in messages.
    pub path: PathBuf,
    text: String,
    doc: Option<ImDocument<String>>,
}

impl TomlSource {
    /// Keeps `text` read from `path`; a text that does not parse still yields a source
    /// whose lookups all answer `None`.
    pub fn new(path: &Path, text: String) -> TomlSource {
        let doc = ImDocument::parse(text.clone()).ok();
        TomlSource {
            path: path.to_path_buf(),
            text,
            doc,
        }
    }

    /// The line of `key`, or else of the nearest enclosing table or array that the
    /// file sets (a missing `brand[2].terms` points at the `[[brand]]` header).
    pub fn line_of_nearest(&self, key: &str) -> Option<usize> {
        let mut key = key;
        loop {
            if let Some(line) = self.line_of(key) {
                return Some(line);
            }
            key = &key[..key.rfind(['.', '['])?];
        }
    }

    /// The 1-based line of `key` (a path like `brand[2].terms`), if the file sets it.
    pub fn line_of(&self, key: &str) -> Option<usize> {
        let doc = self.doc.as_ref()?;
        // Either a table to look the next key up in, or an item (value, array) just reached.
        let mut table: Option<&dyn TableLike> = Some(doc.as_table());
        let mut item: Option<&Item> = None;
        let mut span = None;
        for segment in parse_path(key) {
            match segment {
                Segment::Key(name) => {
                    let current = match item {
                        Some(item) => item.as_table_like()?,
                        None => table?,
                    };
                    let (key, value) = current.get_key_value(&name)?;
                    span = key.span().or_else(|| value.span());
                    item = Some(value);
                    table = None;
                }
                Segment::Index(index) => {
                    let current = item?;
                    if let Some(tables) = current.as_array_of_tables() {
                        let element = tables.get(index)?;
                        span = element.span();
                        table = Some(element);
                        item = None;
                    } else {
                        let value = current.as_array()?.get(index)?;
                        span = value.span();
                        table = value.as_inline_table().map(|t| t as &dyn TableLike);
                        item = None;
                    }
                }
            }
        }
        span.map(|span| line_of_offset(&self.text, span.start))
    }
}

/// Converts a byte offset in `text` to a 1-based line number.
pub fn line_of_offset(text: &str, offset: usize) -> usize {
    text.as_bytes()[..offset.min(text.len())]
        .iter()
        .filter(|&&b| b == b'\n')
        .count()
        + 1
}

enum Segment {
    Key(String),
    Index(usize),
}

fn parse_path(path: &str) -> Vec<Segment> {
    let mut segments = Vec::new();
    for part in path.split('.').filter(|p| !p.is_empty()) {
        let mut rest = part;
        if let Some(open) = rest.find('[') {
            if open > 0 {
                segments.push(Segment::Key(rest[..open].to_string()));
            }
            rest = &rest[open..];
            while let Some(stripped) = rest.strip_prefix('[') {
                let Some(close) = stripped.find(']') else {
                    break;
                };
                if let Ok(index) = stripped[..close].parse() {
                    segments.push(Segment::Index(index));
                }
                rest = &stripped[close + 1..];
            }
        } else {
            segments.push(Segment::Key(rest.to_string()));
        }
    }
    segments
}

#[cfg(test)]
mod tests {
    use super::*;

    const TEXT: &str = "keywords = \"k.toml\"\n\n[storage]\npath = \"x.db\"\n\n[[sources]]\nkind = \"feed\"\n\n[[sources]]\nkind = \"jsonl\"\ninterval = \"5 minutes\"\nurls = [\n  \"a\",\n  \"b\",\n]\n";

    #[test]
    fn finds_lines_of_nested_keys() {
        let source = TomlSource::new(Path::new("c.toml"), TEXT.to_string());
        assert_eq!(source.line_of("keywords"), Some(1));
        assert_eq!(source.line_of("storage.path"), Some(4));
        assert_eq!(source.line_of("sources[1].interval"), Some(11));
        assert_eq!(source.line_of("sources[0].kind"), Some(7));
        assert_eq!(source.line_of("sources[1]"), Some(9));
        assert_eq!(source.line_of("sources[1].urls[1]"), Some(14));
        assert_eq!(source.line_of("storage.missing"), None);
        assert_eq!(source.line_of("sources[5].kind"), None);
        assert_eq!(source.line_of_nearest("sources[1].missing"), Some(9));
        assert_eq!(source.line_of_nearest("storage.path.deeper"), Some(4));
        assert_eq!(source.line_of_nearest("nothing"), None);
    }

    #[test]
    fn finds_keys_in_inline_tables_and_arrays_of_them() {
        let text = "receivers = [\n  { kind = \"webhook\", url = \"x\" },\n\n  { kind = \"file\", path = \"a\" },\n]\n[api]\nopts = { token = \"t\" }\n";
        let source = TomlSource::new(Path::new("c.toml"), text.to_string());
        assert_eq!(source.line_of("receivers[0].url"), Some(2));
        assert_eq!(source.line_of("receivers[1].path"), Some(4));
        assert_eq!(source.line_of("api.opts.token"), Some(7));
        assert_eq!(source.line_of_nearest("receivers[1].secret"), Some(4));
    }
}
