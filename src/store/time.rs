//! The store's two time formats, each written by exactly one function, with their
//! parsers. Times of posts and hits (`posts.created_at`, `posts.fetched_at`,
//! `hits.detected_at`, `hits.acked_at`, `hits.escalated_at`, `cursors.updated_at`,
//! `noisy_variants.switched_off_at`) are
//! RFC 3339 text from [`timestamp`]; scheduling columns (the `deliveries` times,
//! `source_health`, `source_polls.at`, `receiver_state.disabled_at`) are Unix
//! milliseconds from [`unix_millis`], so SQL compares and adds them as numbers.

use chrono::{DateTime, Utc};

/// RFC 3339 with milliseconds and `Z`: sorts lexicographically in time order.
pub(super) fn timestamp(at: DateTime<Utc>) -> String {
    at.to_rfc3339_opts(chrono::SecondsFormat::Millis, true)
}

/// Reads a time written by [`timestamp`]; `None` when it is not RFC 3339.
pub(super) fn parse_timestamp(text: &str) -> Option<DateTime<Utc>> {
    DateTime::parse_from_rfc3339(text)
        .ok()
        .map(|at| at.with_timezone(&Utc))
}

/// Milliseconds since the Unix epoch, the unit of every scheduling column.
pub fn unix_millis(at: DateTime<Utc>) -> i64 {
    at.timestamp_millis()
}

/// Reads a time written by [`unix_millis`]; `None` when it is out of range.
pub(super) fn from_unix_millis(millis: i64) -> Option<DateTime<Utc>> {
    DateTime::from_timestamp_millis(millis)
}

#[cfg(test)]
mod tests {
    use super::*;
    use chrono::TimeZone;

    #[test]
    fn each_format_reads_back_what_it_writes_and_text_sorts_in_time_order() {
        let at = Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
            + chrono::Duration::milliseconds(7);
        assert_eq!(timestamp(at), "2026-11-21T09:00:00.007Z");
        assert_eq!(parse_timestamp(&timestamp(at)), Some(at));
        assert_eq!(parse_timestamp("yesterday"), None);
        assert_eq!(from_unix_millis(unix_millis(at)), Some(at));
        let later = at + chrono::Duration::milliseconds(993);
        assert!(timestamp(at) < timestamp(later));
    }
}
