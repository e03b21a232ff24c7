//! What every alert says, whatever its format: the title, one summary line per hit
//! (brand, platform, author with followers and earlier hits, time since posting, hit
//! id), the post text with the matched terms marked, the permalink and the "and N more"
//! line, in Turkish or English; plus the budgeted, escaping text builder every format
//! uses to respect its platform's length limits. Pure: no I/O, the time is passed in.

use std::borrow::Cow;
use std::ops::Range;

use chrono::{DateTime, Utc};
use serde::Serialize;

use crate::escape;
use crate::model::{DeliveryId, HitId, Post};
use crate::routing::surge::{SurgeKind, SurgeNote};
use crate::settings::InvalidValue;
use crate::store::{AlertHit, EARLIER_HITS_CAP};

/// Appended where text was cut to fit a platform limit.
pub const TRUNCATION_MARKER: &str = "…";

/// The language of the texts people read in alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum Language {
    /// Turkish, the default.
    #[default]
    Tr,
    /// English.
    En,
}

impl Language {
    /// Parses `tr` or `en`.
    pub fn parse(text: &str) -> Result<Language, InvalidValue> {
        match text {
            "tr" => Ok(Language::Tr),
            "en" => Ok(Language::En),
            other => Err(InvalidValue(format!(
                "unknown language `{other}`, expected `tr` or `en`"
            ))),
        }
    }
}

/// One message to render: the hits it shows (already capped at the route's
/// `max_hits`) and how many more its group holds.
#[derive(Debug, Clone, Copy)]
pub struct Alert<'a> {
    /// The delivery id (`webhook-id`, e-mail `Message-ID`).
    pub delivery_id: &'a DeliveryId,
    /// The hits shown, oldest first; never empty.
    pub hits: &'a [AlertHit],
    /// Hits of the group not shown.
    pub more_hits: usize,
    /// Render time, for "posted 5 min ago".
    pub now: DateTime<Utc>,
    /// What the message is about.
    pub kind: AlertKind<'a>,
}

/// What a message is about.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum AlertKind<'a> {
    /// New hits.
    Mention,
    /// Hits still unanswered after their route's SLA.
    Escalation,
    /// A receiver keeps failing; the hits are what it could not deliver.
    Operator {
        /// What failed.
        note: &'a str,
    },
    /// A brand mentioned far more often than usual; the hits are samples.
    Surge(&'a SurgeNote),
}

impl<'a> Alert<'a> {
    /// The same alert showing at most `max` hits (at least one); the rest are counted
    /// in `more_hits`. Formats use it for their platform's own caps.
    pub fn capped(&self, max: usize) -> Alert<'a> {
        let shown = self.hits.len().min(max.max(1));
        Alert {
            hits: &self.hits[..shown],
            more_hits: self.more_hits + (self.hits.len() - shown),
            ..*self
        }
    }

    /// `Turkcell: 3 new mentions` / `Turkcell: 3 yeni bahsetme`.
    pub fn title(&self, language: Language) -> String {
        let mut brands: Vec<&str> = Vec::new();
        for hit in self.hits {
            if !brands.contains(&hit.brand.as_str()) {
                brands.push(&hit.brand);
            }
        }
        let total = self.hits.len() + self.more_hits;
        let brands = brands.join(", ");
        match (language, total, self.kind) {
            (Language::En, 1, AlertKind::Mention) => format!("{brands}: 1 new mention"),
            (Language::En, n, AlertKind::Mention) => format!("{brands}: {n} new mentions"),
            (Language::Tr, n, AlertKind::Mention) => format!("{brands}: {n} yeni bahsetme"),
            (Language::En, 1, AlertKind::Escalation) => {
                format!("SLA breached: {brands}: 1 mention unanswered")
            }
            (Language::En, n, AlertKind::Escalation) => {
                format!("SLA breached: {brands}: {n} mentions unanswered")
            }
            (Language::Tr, n, AlertKind::Escalation) => {
                format!("SLA aşıldı: {brands}: {n} bahsetme yanıt bekliyor")
            }
            (Language::En, n, AlertKind::Operator { note }) => {
                format!("Alert receiver failing ({n} undelivered): {note}")
            }
            (Language::Tr, n, AlertKind::Operator { note }) => {
                format!("Bildirim alıcısı başarısız ({n} iletilemedi): {note}")
            }
            (language, _, AlertKind::Surge(note)) => surge_title(note, language),
        }
    }

    /// [`hit_summary`] of one of this alert's hits; escalations add how long the hit
    /// has waited since it was found.
    pub fn hit_summary(&self, hit: &AlertHit, language: Language) -> String {
        let mut summary = hit_summary(hit, language, self.now);
        if self.kind == AlertKind::Escalation {
            let minutes = (self.now - hit.detected_at).num_minutes().max(0);
            summary.push_str(&match language {
                Language::En => format!(" · waiting {minutes} min"),
                Language::Tr => format!(" · {minutes} dk yanıt bekliyor"),
            });
        }
        summary
    }

    /// The "and N more" line, when some hits are not shown, with the command that
    /// lists every hit of the message.
    pub fn more_line(&self, language: Language) -> Option<String> {
        let (more, id) = (self.more_hits, self.delivery_id);
        (more > 0).then(|| match language {
            Language::En => {
                format!("…and {more} more (all of them: mentiond hits --delivery {id})")
            }
            Language::Tr => {
                format!("…ve {more} bahsetme daha (hepsi: mentiond hits --delivery {id})")
            }
        })
    }
}

/// `Surge: Turkcell 48 mentions in 10 min (usual 6) · top terms: … · top authors: …`:
/// the whole surge in one line, so every format shows it in its title. Plain text:
/// each format escapes it.
fn surge_title(note: &SurgeNote, language: Language) -> String {
    let SurgeNote {
        brand,
        count,
        usual,
        window_minutes: minutes,
        ..
    } = note;
    let mut title = match (language, note.kind) {
        (Language::En, SurgeKind::Volume) => {
            format!("Surge: {brand} {count} mentions in {minutes} min (usual {usual})")
        }
        (Language::En, SurgeKind::Negative) => format!(
            "Negative surge: {brand} {count} negative mentions in {minutes} min (usual {usual})"
        ),
        (Language::Tr, SurgeKind::Volume) => {
            format!("Ani artış: {brand} {minutes} dk'da {count} bahsetme (olağan {usual})")
        }
        (Language::Tr, SurgeKind::Negative) => format!(
            "Olumsuz artış: {brand} {minutes} dk'da {count} olumsuz bahsetme (olağan {usual})"
        ),
    };
    let authors: Vec<String> = note.authors.iter().map(|a| format!("@{a}")).collect();
    for (label, items) in [
        (
            match language {
                Language::En => "top terms",
                Language::Tr => "öne çıkan kelimeler",
            },
            note.terms.join(", "),
        ),
        (
            match language {
                Language::En => "top authors",
                Language::Tr => "öne çıkan yazarlar",
            },
            authors.join(", "),
        ),
    ] {
        if !items.is_empty() {
            title.push_str(&format!(" · {label}: {items}"));
        }
    }
    title
}

/// `Turkcell · x · @ayse (Ayşe) · 1200 followers · 2 earlier hits · posted 5 min ago ·
/// hit #12`: who wrote what where and when, so nobody starts from zero. Plain text:
/// each format escapes it.
pub fn hit_summary(hit: &AlertHit, language: Language, now: DateTime<Utc>) -> String {
    let mut parts = vec![hit.brand.clone(), hit.post.source.clone()];
    if let Some(author) = &hit.post.author {
        let who = match (&author.handle, &author.name) {
            (Some(handle), Some(name)) => Some(format!("@{handle} ({name})")),
            (Some(handle), None) => Some(format!("@{handle}")),
            (None, Some(name)) => Some(name.clone()),
            (None, None) => author.id.clone(),
        };
        parts.extend(who);
        if let Some(followers) = author.followers {
            parts.push(match language {
                Language::En => format!("{followers} followers"),
                Language::Tr => format!("{followers} takipçi"),
            });
        }
    }
    let earlier = match hit.author_earlier_hits {
        n if n >= EARLIER_HITS_CAP => format!("{EARLIER_HITS_CAP}+"),
        n => n.to_string(),
    };
    parts.push(match (language, hit.author_earlier_hits) {
        (Language::En, 1) => "1 earlier hit".to_string(),
        (Language::En, _) => format!("{earlier} earlier hits"),
        (Language::Tr, _) => format!("{earlier} önceki bahsetme"),
    });
    if hit.priority > 0 {
        parts.push(match language {
            Language::En => format!("priority {}", hit.priority),
            Language::Tr => format!("öncelik {}", hit.priority),
        });
    }
    if let Some(posted) = hit.post.created_at {
        parts.push(age(posted, now, language));
    }
    parts.push(match language {
        Language::En => format!("hit #{}", hit.hit_id),
        Language::Tr => format!("bahsetme #{}", hit.hit_id),
    });
    parts.join(" · ")
}

/// `posted 5 min ago` / `5 dk önce paylaşıldı`.
pub fn age(posted: DateTime<Utc>, now: DateTime<Utc>, language: Language) -> String {
    let minutes = (now - posted).num_minutes().max(0);
    let (amount, en, tr) = if minutes < 60 {
        (minutes, "min", "dk")
    } else if minutes < 48 * 60 {
        (minutes / 60, "h", "sa")
    } else {
        (minutes / (24 * 60), "d", "gün")
    };
    match language {
        Language::En => format!("posted {amount} {en} ago"),
        Language::Tr => format!("{amount} {tr} önce paylaşıldı"),
    }
}

/// The post's permalink, only when it is an `http(s)` URL (never `javascript:` etc.)
/// without bidi or control characters (which could disguise where it leads).
pub fn permalink(post: &Post) -> Option<&str> {
    let url = post.url.as_deref()?;
    if url.chars().any(escape::is_unsafe) {
        return None;
    }
    let parsed = reqwest::Url::parse(url).ok()?;
    matches!(parsed.scheme(), "http" | "https").then_some(url)
}

/// The label of the permalink.
pub fn link_label(language: Language) -> &'static str {
    match language {
        Language::En => "Open post",
        Language::Tr => "Gönderiyi aç",
    }
}

/// How a platform counts the length of a text.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Unit {
    /// Unicode scalar values (code points).
    Chars,
    /// UTF-16 code units: characters outside the Basic Multilingual Plane (most
    /// emoji) count twice.
    Utf16,
    /// Bytes the text takes inside a JSON string: UTF-8, plus the backslash of `"`
    /// and `\`, and the escapes of control characters.
    JsonBytes,
}

impl Unit {
    /// The length of `text` in this unit.
    pub fn len(self, text: &str) -> usize {
        match self {
            Unit::Chars => text.chars().count(),
            Unit::Utf16 => text.encode_utf16().count(),
            Unit::JsonBytes => text.chars().map(json_len).sum(),
        }
    }
}

fn json_len(c: char) -> usize {
    match c {
        '"' | '\\' | '\n' | '\r' | '\t' | '\u{8}' | '\u{c}' => 2,
        c if (c as u32) < 0x20 => 6,
        c => c.len_utf8(),
    }
}

/// A platform's length limit: at most `max`, counted in `unit`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Limit {
    /// The most a text may measure.
    pub max: usize,
    /// How it is measured.
    pub unit: Unit,
}

impl Limit {
    /// At most `max` code points.
    pub const fn chars(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::Chars,
        }
    }

    /// At most `max` UTF-16 code units.
    pub const fn utf16(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::Utf16,
        }
    }

    /// At most `max` bytes inside a JSON string.
    pub const fn json_bytes(max: usize) -> Limit {
        Limit {
            max,
            unit: Unit::JsonBytes,
        }
    }

    /// The length of `text` in this limit's unit.
    pub fn len(&self, text: &str) -> usize {
        self.unit.len(text)
    }
}

/// `text` escaped for a format, within `limit` as the platform counts it: cut on a
/// character boundary, before an escape sequence rather than inside one, with
/// [`TRUNCATION_MARKER`] appended.
pub fn fit(text: &str, limit: Limit, escape: fn(&str) -> Cow<'_, str>) -> String {
    marked(text, &[], limit, escape, ("", ""))
}

/// Like [`fit`], with each `spans` range (byte offsets into `text`, sorted, not
/// overlapping) wrapped in `mark.0` … `mark.1`; a cut never leaves a mark open.
pub fn marked(
    text: &str,
    spans: &[Range<usize>],
    limit: Limit,
    escape: fn(&str) -> Cow<'_, str>,
    mark: (&str, &str),
) -> String {
    let whole = build(text, spans, None, escape, mark);
    if limit.len(&whole) <= limit.max {
        return whole;
    }
    let budget = Limit {
        max: limit.max.saturating_sub(limit.len(TRUNCATION_MARKER)),
        ..limit
    };
    let mut cut = build(text, spans, Some(budget), escape, mark);
    cut.push_str(TRUNCATION_MARKER);
    cut
}

fn build(
    text: &str,
    spans: &[Range<usize>],
    budget: Option<Limit>,
    escape: fn(&str) -> Cow<'_, str>,
    (open, close): (&str, &str),
) -> String {
    let unit = budget.map_or(Unit::Chars, |budget| budget.unit);
    let (open_len, close_len) = (unit.len(open), unit.len(close));
    let mut out = String::new();
    let mut used = 0;
    let mut next_span = 0;
    let mut open_until: Option<usize> = None;
    let mut buffer = [0u8; 4];
    for (index, c) in text.char_indices() {
        if open_until == Some(index) {
            out.push_str(close);
            used += close_len;
            open_until = None;
        }
        while next_span < spans.len() && spans[next_span].start < index {
            next_span += 1;
        }
        let opening =
            open_until.is_none() && spans.get(next_span).is_some_and(|span| span.start == index);
        let piece = escape(c.encode_utf8(&mut buffer));
        let piece_len = unit.len(&piece);
        let needed = piece_len
            + if opening { open_len + close_len } else { 0 }
            + if open_until.is_some() { close_len } else { 0 };
        if budget.is_some_and(|budget| used + needed > budget.max) {
            break;
        }
        if opening {
            out.push_str(open);
            used += open_len;
            open_until = Some(spans[next_span].end);
            next_span += 1;
        }
        out.push_str(&piece);
        used += piece_len;
    }
    if open_until.is_some() {
        out.push_str(close);
    }
    out
}

/// The JSON body of `webhook` and `file` receivers.
pub fn json(alert: &Alert<'_>) -> String {
    #[derive(Serialize)]
    struct Body<'a> {
        #[serde(rename = "type")]
        kind: &'static str,
        delivery_id: &'a DeliveryId,
        #[serde(skip_serializing_if = "Option::is_none")]
        note: Option<&'a str>,
        /// Surges: what the surge is (count, usual count, top terms and authors).
        #[serde(skip_serializing_if = "Option::is_none")]
        surge: Option<&'a SurgeNote>,
        brand: &'a str,
        team: Option<&'a str>,
        /// Escalations: the hits' route SLA ran out with nobody answering.
        #[serde(skip_serializing_if = "Option::is_none")]
        sla_breached: Option<bool>,
        hits: Vec<Hit<'a>>,
        more_hits: usize,
    }
    #[derive(Serialize)]
    struct Hit<'a> {
        hit_id: HitId,
        source: &'a str,
        post: &'a Post,
        matched: &'a serde_json::Value,
        author_earlier_hits: u64,
        priority: u64,
        /// Escalations: seconds since the hit was found, unanswered.
        #[serde(skip_serializing_if = "Option::is_none")]
        waiting_seconds: Option<i64>,
    }
    let escalation = alert.kind == AlertKind::Escalation;
    let first = &alert.hits[0];
    let body = Body {
        kind: match alert.kind {
            AlertKind::Mention => "mention",
            AlertKind::Escalation => "escalation",
            AlertKind::Operator { .. } => "operator",
            AlertKind::Surge(_) => "surge",
        },
        note: match alert.kind {
            AlertKind::Operator { note } => Some(note),
            _ => None,
        },
        surge: match alert.kind {
            AlertKind::Surge(note) => Some(note),
            _ => None,
        },
        delivery_id: alert.delivery_id,
        brand: &first.brand,
        team: first.team.as_deref(),
        sla_breached: escalation.then_some(true),
        hits: alert
            .hits
            .iter()
            .map(|hit| Hit {
                hit_id: hit.hit_id,
                source: &hit.post.source,
                post: &hit.post,
                matched: &hit.matched,
                author_earlier_hits: hit.author_earlier_hits,
                priority: hit.priority,
                waiting_seconds: escalation
                    .then(|| (alert.now - hit.detected_at).num_seconds().max(0)),
            })
            .collect(),
        more_hits: alert.more_hits,
    };
    serde_json::to_string(&body).expect("alert serializes")
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use chrono::TimeZone;

    /// The hostile text every format is tested with.
    pub(crate) const HOSTILE: &str = "Turkcell <!channel> @everyone <script>alert(1)</script> </b> [x](http://evil) & *bold* <@123>";

    /// A hit on `text`, marking the first `Turkcell`.
    pub(crate) fn hit(id: i64, text: &str) -> AlertHit {
        let start = text.find("Turkcell").unwrap_or(0);
        AlertHit {
            hit_id: HitId(id),
            brand: "Turkcell".into(),
            team: Some("care".into()),
            matched: serde_json::json!([{"term": "Turkcell", "matched": "Turkcell", "kind": "term", "start": start, "end": start + 8}]),
            author_earlier_hits: 2,
            detected_at: now(),
            priority: 0,
            post: Post::from_json(
                &serde_json::json!({
                    "source": "x", "id": format!("p{id}"), "url": "https://x.example/p/1",
                    "author": {"handle": "ayse", "name": "Ayşe <b>", "followers": 1200},
                    "text": text, "created_at": "2026-11-21T08:55:00Z"
                })
                .to_string(),
            )
            .unwrap(),
        }
    }

    pub(crate) fn now() -> DateTime<Utc> {
        Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
    }

    /// The id of the test messages.
    static MSG_1: std::sync::LazyLock<DeliveryId> = std::sync::LazyLock::new(|| "msg_1".into());

    /// A mention message `msg_1` over `hits`, rendered at [`now`].
    pub(crate) fn mention(hits: &[AlertHit], more_hits: usize) -> Alert<'_> {
        Alert {
            delivery_id: &MSG_1,
            hits,
            more_hits,
            now: now(),
            kind: AlertKind::Mention,
        }
    }

    #[test]
    fn summary_names_author_followers_history_and_age_in_both_languages() {
        let hit = hit(7, "Turkcell çekmiyor");
        assert_eq!(
            hit_summary(&hit, Language::En, now()),
            "Turkcell · x · @ayse (Ayşe <b>) · 1200 followers · 2 earlier hits · posted 5 min ago · hit #7"
        );
        assert_eq!(
            hit_summary(&hit, Language::Tr, now()),
            "Turkcell · x · @ayse (Ayşe <b>) · 1200 takipçi · 2 önceki bahsetme · 5 dk önce paylaşıldı · bahsetme #7"
        );
        let mut regular = hit.clone();
        regular.author_earlier_hits = EARLIER_HITS_CAP;
        assert!(hit_summary(&regular, Language::En, now()).contains("· 1000+ earlier hits ·"));
        let later = now() + chrono::Duration::hours(30);
        assert_eq!(
            age(hit.post.created_at.unwrap(), later, Language::En),
            "posted 30 h ago"
        );
    }

    #[test]
    fn title_and_more_line_count_every_hit_of_the_group() {
        let hits = [hit(1, "Turkcell a"), hit(2, "Turkcell b")];
        let alert = mention(&hits, 3);
        assert_eq!(alert.title(Language::En), "Turkcell: 5 new mentions");
        assert_eq!(alert.title(Language::Tr), "Turkcell: 5 yeni bahsetme");
        assert_eq!(
            alert.more_line(Language::En).unwrap(),
            "…and 3 more (all of them: mentiond hits --delivery msg_1)"
        );
        assert_eq!(
            alert.more_line(Language::Tr).unwrap(),
            "…ve 3 bahsetme daha (hepsi: mentiond hits --delivery msg_1)"
        );
        let one = Alert {
            more_hits: 0,
            hits: &hits[..1],
            ..alert
        };
        assert_eq!(one.title(Language::En), "Turkcell: 1 new mention");
        assert_eq!(one.more_line(Language::En), None);
        let overdue = Alert {
            kind: AlertKind::Escalation,
            now: now() + chrono::Duration::minutes(75),
            ..one
        };
        assert_eq!(
            overdue.title(Language::En),
            "SLA breached: Turkcell: 1 mention unanswered"
        );
        assert!(
            overdue
                .hit_summary(&hits[0], Language::Tr)
                .ends_with("bahsetme #1 · 75 dk yanıt bekliyor")
        );
    }

    #[test]
    fn marked_escapes_marks_and_cuts_on_boundaries_without_open_marks() {
        let text = "a<Turkcell>ğ";
        let spans = vec![Range { start: 2, end: 10 }];
        assert_eq!(
            marked(
                text,
                &spans,
                Limit::chars(100),
                escape::html,
                ("<b>", "</b>")
            ),
            "a&lt;<b>Turkcell</b>&gt;ğ"
        );
        // Cut inside the mark: the mark is closed, the marker shows the cut, the limit holds.
        let cut = marked(
            text,
            &spans,
            Limit::chars(15),
            escape::html,
            ("<b>", "</b>"),
        );
        assert_eq!(cut, "a&lt;<b>Tu</b>…");
        assert!(cut.chars().count() <= 15);
        // Never inside an escape sequence.
        assert_eq!(fit("&&&&", Limit::chars(8), escape::html), "&amp;…");
        for limit in 1..40 {
            let out = marked(
                "çok <uzun> Turkcell metni",
                &[Range { start: 11, end: 19 }],
                Limit::chars(limit),
                escape::html,
                ("<b>", "</b>"),
            );
            assert!(out.chars().count() <= limit, "{limit}: {out}");
        }
    }

    #[test]
    fn no_chat_format_lets_bidi_or_control_characters_through() {
        let text = "Turkcell \u{202E}gnikcah\u{202C} \u{1b}[2J\r\u{2067}x\u{200F}\u{9b}";
        let mut hits = [hit(1, text)];
        if let Some(author) = hits[0].post.author.as_mut() {
            author.name = Some("Ayşe \u{202E}<b>\u{1b}[31m".into());
        }
        let alert = mention(&hits, 0);
        for body in [
            crate::alerts::slack::render(&alert, Language::En),
            crate::alerts::teams::render(&alert, Language::En),
            crate::alerts::discord::render(&alert, Language::En),
            crate::alerts::telegram::render(&alert, Language::En, "1"),
        ] {
            let body: serde_json::Value = serde_json::from_str(&body).unwrap();
            let mut strings = vec![&body];
            let mut seen = 0;
            while let Some(value) = strings.pop() {
                match value {
                    serde_json::Value::String(s) => {
                        seen += s.contains("gnikcah") as usize;
                        let bad = s.chars().find(|&c| escape::is_unsafe(c) && c != '\n');
                        assert_eq!(bad, None, "{s:?}");
                    }
                    serde_json::Value::Array(items) => strings.extend(items),
                    serde_json::Value::Object(map) => strings.extend(map.values()),
                    _ => {}
                }
            }
            assert_eq!(seen, 1, "{body}");
        }
    }

    #[test]
    fn every_unit_cuts_emoji_on_a_character_boundary_within_its_limit() {
        let emoji = "😀".repeat(10_000);
        let mixed = format!("Turkcell {}", "ş😀\"\\a🇹🇷".repeat(3_000));
        for limit in [
            Limit::utf16(3000),
            Limit::chars(4096),
            Limit::json_bytes(1500),
        ] {
            for text in [&emoji, &mixed] {
                let out = marked(
                    text,
                    &[Range { start: 0, end: 8 }],
                    limit,
                    escape::markdown,
                    ("**", "**"),
                );
                assert!(
                    limit.len(&out) <= limit.max,
                    "{limit:?}: {}",
                    limit.len(&out)
                );
                assert!(limit.len(&out) + 8 > limit.max, "{limit:?}: cut too early");
                assert!(out.ends_with(TRUNCATION_MARKER));
                assert!(!out.contains('\u{FFFD}'));
            }
        }
        // The old character count let 3000 emoji through: 6000 UTF-16 units.
        let out = fit(&emoji, Limit::utf16(3000), escape::plain);
        assert_eq!(out.chars().count(), 1499 + 1);
        assert_eq!(Unit::Utf16.len(&out), 2998 + 1);
        assert_eq!(
            Unit::JsonBytes.len("a\"\\\nş😀\u{1}"),
            1 + 2 + 2 + 2 + 2 + 4 + 6
        );
        assert_eq!(
            Unit::JsonBytes.len("a\"\\\nş😀\u{1}"),
            serde_json::to_string("a\"\\\nş😀\u{1}").unwrap().len() - 2
        );
    }

    #[test]
    fn only_http_permalinks_are_used() {
        let mut post = hit(1, "Turkcell").post;
        assert_eq!(permalink(&post), Some("https://x.example/p/1"));
        post.url = Some("javascript:alert(1)".into());
        assert_eq!(permalink(&post), None);
        post.url = Some("https://x.example/\u{202E}gpj.exe".into());
        assert_eq!(permalink(&post), None);
    }

    #[test]
    fn json_body_keeps_the_webhook_shape() {
        let hits = [hit(1, HOSTILE)];
        let body: serde_json::Value = serde_json::from_str(&json(&mention(&hits, 0))).unwrap();
        assert_eq!(body["type"], "mention");
        assert_eq!(body["delivery_id"], "msg_1");
        assert_eq!(body["brand"], "Turkcell");
        assert_eq!(body["team"], "care");
        assert_eq!(body["hits"][0]["post"]["text"], HOSTILE);
        assert_eq!(body["hits"][0]["matched"][0]["start"], 0);
        assert_eq!(body["hits"][0]["author_earlier_hits"], 2);
        assert_eq!(body["more_hits"], 0);
    }

    #[test]
    fn an_escalation_body_says_the_sla_was_breached_and_how_long_each_hit_waited() {
        let mut late = hit(1, "Turkcell yok");
        late.detected_at = now() - chrono::Duration::minutes(75);
        let hits = [late];
        let alert = Alert {
            kind: AlertKind::Escalation,
            ..mention(&hits, 0)
        };
        let body: serde_json::Value = serde_json::from_str(&json(&alert)).unwrap();
        assert_eq!(body["type"], "escalation");
        assert_eq!(body["sla_breached"], true);
        assert_eq!(body["hits"][0]["waiting_seconds"], 75 * 60);
        assert!(
            alert
                .title(Language::En)
                .starts_with("SLA breached: Turkcell")
        );
        assert!(
            alert
                .hit_summary(&hits[0], Language::En)
                .ends_with("waiting 75 min")
        );
        let mention_body: serde_json::Value =
            serde_json::from_str(&json(&mention(&hits, 0))).unwrap();
        assert!(mention_body.get("sla_breached").is_none());
        assert!(mention_body["hits"][0].get("waiting_seconds").is_none());
    }

    /// A surge note with a hostile author.
    pub(crate) fn surge_note() -> SurgeNote {
        SurgeNote {
            brand: "Turkcell".into(),
            kind: SurgeKind::Volume,
            count: 48,
            usual: 6,
            window_minutes: 10,
            terms: vec!["internet".into(), "kesinti".into()],
            authors: vec!["ayse".into(), "*x* <@123>".into()],
        }
    }

    #[test]
    fn a_surge_title_says_count_usual_terms_and_authors_in_each_language() {
        let hits = [hit(1, "Turkcell internet yok")];
        let note = surge_note();
        let alert = Alert {
            kind: AlertKind::Surge(&note),
            ..mention(&hits, 0)
        };
        assert_eq!(
            alert.title(Language::En),
            "Surge: Turkcell 48 mentions in 10 min (usual 6) · top terms: internet, kesinti · top authors: @ayse, @*x* <@123>"
        );
        assert_eq!(
            alert.title(Language::Tr),
            "Ani artış: Turkcell 10 dk'da 48 bahsetme (olağan 6) · öne çıkan kelimeler: internet, kesinti · öne çıkan yazarlar: @ayse, @*x* <@123>"
        );
        let negative = SurgeNote {
            kind: SurgeKind::Negative,
            terms: Vec::new(),
            authors: Vec::new(),
            ..note.clone()
        };
        let alert = Alert {
            kind: AlertKind::Surge(&negative),
            ..alert
        };
        assert_eq!(
            alert.title(Language::En),
            "Negative surge: Turkcell 48 negative mentions in 10 min (usual 6)"
        );
        let body: serde_json::Value = serde_json::from_str(&json(&alert)).unwrap();
        assert_eq!(body["type"], "surge");
        assert_eq!(body["surge"]["count"], 48);
        assert_eq!(body["hits"][0]["post"]["id"], "p1");
    }
}
