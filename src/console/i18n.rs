//! The console's interface texts in English and Turkish: one table of message keys
//! ([`MESSAGES`]) and the JSON blob the pages embed for `console.js` ([`Lang::json`]).
//! The language itself is the session's (the user's saved choice, else the browser's
//! `Accept-Language`, read by `auth`).

use std::fmt;

/// An interface language of the console.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Lang {
    /// English.
    En,
    /// Turkish.
    Tr,
}

/// Every interface text: (key, English, Turkish). `console.js` and the pages name
/// texts by key only, so both languages always have the same keys.
pub(crate) const MESSAGES: &[(&str, &str, &str)] = &[
    ("app.title", "mentiond console", "mentiond konsolu"),
    ("login.title", "Sign in", "Giriş yap"),
    ("login.name", "User name", "Kullanıcı adı"),
    ("login.password", "Password", "Parola"),
    ("login.token", "Access token", "Erişim anahtarı"),
    (
        "login.or_token",
        "or with the shared token",
        "ya da ortak anahtarla",
    ),
    ("login.submit", "Sign in", "Giriş yap"),
    (
        "login.failed",
        "Sign-in failed: check the name and password",
        "Giriş başarısız: adı ve parolayı kontrol edin",
    ),
    ("header.search", "Search all hits", "Tüm eşleşmelerde ara"),
    ("header.language", "Language", "Dil"),
    ("header.reports", "Reports", "Raporlar"),
    ("header.no_reports", "No reports yet", "Henüz rapor yok"),
    ("header.logout", "Sign out", "Çıkış"),
    ("header.keys", "Keys", "Tuşlar"),
    ("header.console", "Console", "Konsol"),
    ("column.add", "Add column", "Sütun ekle"),
    ("column.edit", "Edit", "Düzenle"),
    ("column.remove", "Remove", "Kaldır"),
    ("column.left", "Move left", "Sola taşı"),
    ("column.right", "Move right", "Sağa taşı"),
    ("column.new", "new", "yeni"),
    ("column.empty", "No hits", "Eşleşme yok"),
    ("column.loading", "Loading…", "Yükleniyor…"),
    ("column.older", "Older", "Daha eski"),
    ("column.end", "No older hits", "Daha eski eşleşme yok"),
    ("column.kind", "Kind", "Tür"),
    ("column.key", "Key", "Anahtar"),
    ("column.title", "Title", "Başlık"),
    ("column.save", "Save", "Kaydet"),
    ("column.cancel", "Cancel", "Vazgeç"),
    ("kind.brand", "Brand", "Marka"),
    ("kind.topic", "Topic", "Konu"),
    ("kind.team", "Team", "Ekip"),
    ("kind.open", "Open", "Açık"),
    (
        "kind.escalated",
        "Escalated / SLA breached",
        "Yükseltilen / SLA aşıldı",
    ),
    ("kind.competitors", "Competitors", "Rakipler"),
    ("kind.search", "Search", "Arama"),
    ("filter.source", "Source", "Kaynak"),
    ("filter.sentiment", "Sentiment", "Duygu"),
    ("filter.lang", "Language", "Dil"),
    ("filter.min_followers", "Min. followers", "En az takipçi"),
    ("filter.text", "Text contains", "Metin içerir"),
    ("filter.any", "Any", "Hepsi"),
    ("sentiment.negative", "negative", "olumsuz"),
    ("sentiment.neutral", "neutral", "nötr"),
    ("sentiment.positive", "positive", "olumlu"),
    ("card.followers", "followers", "takipçi"),
    ("card.earlier_hits", "earlier hits", "önceki eşleşme"),
    ("card.priority", "Priority", "Öncelik"),
    ("card.more", "more", "devamı"),
    ("card.less", "less", "daha az"),
    ("card.open_post", "Open post", "Gönderiyi aç"),
    ("card.sla_left", "SLA", "SLA"),
    ("card.sla_breached", "SLA breached", "SLA aşıldı"),
    ("card.taken_by", "Taken by", "Üstlenen"),
    ("card.acked_by", "Answered by", "Yanıtlayan"),
    ("card.not_relevant_by", "Not relevant:", "İlgisiz:"),
    ("card.escalated", "escalated", "yükseltildi"),
    ("card.competitor", "competitor", "rakip"),
    ("card.match", "term", "terim"),
    ("card.variant", "variant", "varyant"),
    ("card.kind", "kind", "tür"),
    ("action.ack", "Acknowledge", "Yanıtlandı"),
    ("action.take", "Take", "Üstlen"),
    ("action.release", "Release", "Bırak"),
    ("action.not_relevant", "Not relevant", "İlgisiz"),
    ("action.open", "Open", "Aç"),
    ("action.select", "Select", "Seç"),
    (
        "action.ack_selected",
        "Acknowledge selected",
        "Seçilenleri yanıtla",
    ),
    ("action.failed", "The action failed", "İşlem başarısız"),
    ("author.title", "Author", "Yazar"),
    (
        "author.hits",
        "Hits by this author",
        "Bu yazarın eşleşmeleri",
    ),
    ("author.page", "Author page", "Yazar sayfası"),
    ("author.close", "Close", "Kapat"),
    ("search.title", "Search", "Arama"),
    ("search.results", "Results", "Sonuçlar"),
    ("search.none", "Nothing found", "Sonuç bulunamadı"),
    (
        "stream.offline",
        "Live feed reconnecting…",
        "Canlı akış yeniden bağlanıyor…",
    ),
    ("keys.title", "Keyboard", "Klavye"),
    ("keys.jk", "next / previous card", "sonraki / önceki kart"),
    ("keys.a", "acknowledge", "yanıtlandı olarak işaretle"),
    ("keys.t", "take / release", "üstlen / bırak"),
    ("keys.o", "open the post", "gönderiyi aç"),
    ("keys.slash", "search", "ara"),
    ("keys.x", "select for bulk", "toplu işlem için seç"),
    (
        "keys.shift_a",
        "acknowledge selected",
        "seçilenleri yanıtla",
    ),
    ("keys.help", "this help", "bu yardım"),
    ("time.s", "s", "sn"),
    ("time.m", "min", "dk"),
    ("time.h", "h", "sa"),
    ("time.d", "d", "g"),
    ("time.ago", "ago", "önce"),
    ("time.left", "left", "kaldı"),
];

impl Lang {
    /// The language of a code (`tr`, `tr-TR`, `en-GB`, …), by its primary subtag.
    pub fn from_code(code: &str) -> Option<Lang> {
        let primary = code.trim().split(['-', '_']).next()?.to_ascii_lowercase();
        match primary.as_str() {
            "tr" => Some(Lang::Tr),
            "en" => Some(Lang::En),
            _ => None,
        }
    }

    /// The code stored and sent for this language (`tr`, `en`).
    pub fn code(self) -> &'static str {
        match self {
            Lang::En => "en",
            Lang::Tr => "tr",
        }
    }

    /// The text of `key` in this language; the key itself when it is unknown (a
    /// visible mistake rather than an empty label).
    pub fn text(self, key: &'static str) -> &'static str {
        MESSAGES
            .iter()
            .find(|(k, _, _)| *k == key)
            .map_or(key, |(_, en, tr)| match self {
                Lang::En => en,
                Lang::Tr => tr,
            })
    }

    /// Every text of this language as one JSON object (key → text), safe inside a
    /// `<script type="application/json">` element: `<`, `>` and `&` are `\u` escapes,
    /// so no text can close the element.
    pub fn json(self) -> String {
        let map: serde_json::Map<String, serde_json::Value> = MESSAGES
            .iter()
            .map(|(key, en, tr)| {
                let text = match self {
                    Lang::En => en,
                    Lang::Tr => tr,
                };
                ((*key).to_string(), serde_json::Value::from(*text))
            })
            .collect();
        script_json(&serde_json::Value::Object(map))
    }
}

impl fmt::Display for Lang {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.code())
    }
}

/// JSON for a `<script type="application/json">` element: `<`, `>` and `&` are written
/// as `\u` escapes (still the same JSON string), so the data cannot end the element
/// or open a comment whatever it holds.
pub(crate) fn script_json(value: &serde_json::Value) -> String {
    let mut out = String::new();
    for c in value.to_string().chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            _ => out.push(c),
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    #[test]
    fn both_languages_have_every_key_once_and_no_empty_text() {
        let mut keys = BTreeSet::new();
        for (key, en, tr) in MESSAGES {
            assert!(keys.insert(*key), "key {key} is listed twice");
            assert!(!en.trim().is_empty(), "{key} has no English text");
            assert!(!tr.trim().is_empty(), "{key} has no Turkish text");
        }
        let en: serde_json::Value = serde_json::from_str(&Lang::En.json()).unwrap();
        let tr: serde_json::Value = serde_json::from_str(&Lang::Tr.json()).unwrap();
        let en_keys: BTreeSet<_> = en.as_object().unwrap().keys().cloned().collect();
        let tr_keys: BTreeSet<_> = tr.as_object().unwrap().keys().cloned().collect();
        assert_eq!(en_keys, tr_keys);
        assert_eq!(en_keys.len(), MESSAGES.len());
    }

    #[test]
    fn every_key_console_js_asks_for_is_in_the_table() {
        let js = include_str!("assets/console.js");
        let mut asked = BTreeSet::new();
        for (i, _) in js.match_indices("t('") {
            // `t(` as a name of its own, not the end of `createElement(` or `insert(`.
            let before = js[..i].chars().next_back().unwrap_or(' ');
            if before.is_alphanumeric() || matches!(before, '_' | '$' | '.') {
                continue;
            }
            let rest = &js[i + 3..];
            let end = rest.find('\'').expect("a closing quote");
            asked.insert(&rest[..end]);
        }
        assert!(asked.len() > 20, "console.js names its texts as t('key')");
        for key in asked {
            assert!(
                MESSAGES.iter().any(|(k, _, _)| *k == key),
                "console.js asks for {key}, which is not in MESSAGES"
            );
        }
    }

    #[test]
    fn codes_name_their_language_and_unknown_keys_show_themselves() {
        assert_eq!(Lang::from_code("tr-TR"), Some(Lang::Tr));
        assert_eq!(Lang::from_code("en_GB"), Some(Lang::En));
        assert_eq!(Lang::from_code("de"), None);
        assert_eq!(Lang::Tr.text("login.submit"), "Giriş yap");
        assert_eq!(Lang::En.text("no.such.key"), "no.such.key");
    }

    #[test]
    fn script_json_cannot_close_its_element() {
        let value = serde_json::json!({"x": "</script><!-- & >"});
        let text = script_json(&value);
        assert!(!text.contains('<') && !text.contains('>') && !text.contains('&'));
        let back: serde_json::Value = serde_json::from_str(&text).unwrap();
        assert_eq!(back, value);
    }
}
