//! Routes: which receivers a hit goes to, evaluated in order (first match wins unless
//! `continue = true`), and how its route groups it: the hits of one group (route,
//! `group_by` values, receiver) share one message, sent `group_wait` after the group
//! opened, no sooner than `group_interval` after the group's previous message, after
//! the route's quiet hours, or at once when urgent. Planning is pure: the time is
//! passed in; the store attaches planned hits to a still-open row of their group.

pub mod settings;

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::keywords::{KeywordRules, Severity};
use crate::model::Post;
use crate::sentiment::{self, Sentiment};
use crate::store::{AlertHit, NewDelivery, NewEscalation, StoredHit};

/// A hit property routes can group by.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GroupLabel {
    /// The brand (or competitor) name.
    Brand,
    /// The brand's team.
    Team,
    /// The source the post came from.
    Source,
    /// `normal` or `urgent`.
    Severity,
    /// Whether the brand is a competitor entry.
    Competitor,
}

impl GroupLabel {
    /// Parses a `group_by` entry.
    pub fn parse(text: &str) -> Result<GroupLabel, String> {
        match text {
            "brand" => Ok(GroupLabel::Brand),
            "team" => Ok(GroupLabel::Team),
            "source" => Ok(GroupLabel::Source),
            "severity" => Ok(GroupLabel::Severity),
            "competitor" => Ok(GroupLabel::Competitor),
            other => Err(format!(
                "unknown group_by label `{other}`, expected brand, team, source, severity or competitor"
            )),
        }
    }

    fn name(self) -> &'static str {
        match self {
            GroupLabel::Brand => "brand",
            GroupLabel::Team => "team",
            GroupLabel::Source => "source",
            GroupLabel::Severity => "severity",
            GroupLabel::Competitor => "competitor",
        }
    }
}

/// A daily window, in a time zone, when only urgent hits are sent.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QuietHours {
    /// Local start time.
    pub start: NaiveTime,
    /// Local end time; before `start` for a window over midnight.
    pub end: NaiveTime,
    /// The zone both are in.
    pub time_zone: Tz,
}

impl QuietHours {
    /// Parses `"22:00-08:00"` in `time_zone`.
    pub fn parse(window: &str, time_zone: Tz) -> Result<QuietHours, String> {
        let invalid = || format!("invalid quiet_hours `{window}`, expected e.g. \"22:00-08:00\"");
        let (start, end) = window.split_once('-').ok_or_else(invalid)?;
        let time =
            |text: &str| NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| invalid());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(format!("quiet_hours `{window}` is empty"));
        }
        Ok(QuietHours {
            start,
            end,
            time_zone,
        })
    }

    /// When the window holding `now` ends, or `None` outside the window.
    pub fn hold_until(&self, now: DateTime<Utc>) -> Option<DateTime<Utc>> {
        let local = now.with_timezone(&self.time_zone);
        let time = local.time();
        let today = local.date_naive();
        let end_day = if self.start < self.end {
            (self.start <= time && time < self.end).then_some(today)?
        } else if time >= self.start {
            today.succ_opt()?
        } else if time < self.end {
            today
        } else {
            return None;
        };
        let end = end_day.and_time(self.end);
        // A window ending in a DST gap ends at the first valid instant after it.
        let resolved = self
            .time_zone
            .from_local_datetime(&end)
            .earliest()
            .or_else(|| {
                self.time_zone
                    .from_local_datetime(&(end + chrono::Duration::hours(1)))
                    .earliest()
            })?;
        Some(resolved.with_timezone(&Utc))
    }
}

/// A validated `[[routes]]` entry, with `[route_defaults]` filled in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// Match hits of this team only.
    pub team: Option<String>,
    /// Match hits of this brand only.
    pub brand: Option<String>,
    /// Match hits from this source only.
    pub source: Option<String>,
    /// Match only competitor (`true`) or only own-brand (`false`) hits.
    pub competitor: Option<bool>,
    /// Match hits of this severity only.
    pub severity: Option<Severity>,
    /// Match hits whose priority (the author's follower count) is at least this.
    pub min_priority: Option<u64>,
    /// Match hits of this `[[topic]]` only.
    pub topic: Option<String>,
    /// Match hits on posts of this tone only.
    pub sentiment: Option<Sentiment>,
    /// Receivers for matching hits.
    pub receivers: Vec<String>,
    /// Keep evaluating later routes after a match.
    pub continue_matching: bool,
    /// Labels whose values split hits into groups.
    pub group_by: Vec<GroupLabel>,
    /// Wait before a new group's first message.
    pub group_wait: Duration,
    /// Least time between two messages of one group.
    pub group_interval: Duration,
    /// Hits listed per message.
    pub max_hits: usize,
    /// Hits whose priority is at least this are urgent.
    pub urgent_priority: Option<u64>,
    /// When only urgent hits are sent.
    pub quiet_hours: Option<QuietHours>,
    /// How long a hit may stay unacknowledged.
    pub sla: Duration,
    /// Receivers told once about hits past the SLA; empty: never escalate.
    pub escalate_to: Vec<String>,
    /// Takes operator alerts (a receiver that keeps failing) even with matchers.
    pub operator: bool,
}

impl RouteConfig {
    /// A route without matchers takes every hit: the default route.
    pub fn is_catch_all(&self) -> bool {
        self.matcher_labels().is_empty()
    }

    /// The route's matchers as `key=value` texts, in a fixed order.
    pub fn matcher_labels(&self) -> Vec<String> {
        let mut labels = Vec::new();
        for (key, value) in [
            ("team", self.team.clone()),
            ("brand", self.brand.clone()),
            ("source", self.source.clone()),
            ("competitor", self.competitor.map(|c| c.to_string())),
            ("severity", self.severity.map(|s| s.as_str().to_string())),
            ("min_priority", self.min_priority.map(|p| p.to_string())),
            ("topic", self.topic.clone()),
            ("sentiment", self.sentiment.map(|s| s.as_str().to_string())),
        ] {
            if let Some(value) = value {
                labels.push(format!("{key}={value}"));
            }
        }
        labels
    }

    fn matches(&self, hit: &HitLabels<'_>) -> bool {
        self.brand.as_deref().is_none_or(|b| b == hit.brand)
            && self.team.as_deref().is_none_or(|t| Some(t) == hit.team)
            && self.source.as_deref().is_none_or(|s| s == hit.source)
            && self.competitor.is_none_or(|c| c == hit.competitor)
            && self.severity.is_none_or(|s| s == hit.severity)
            && self.min_priority.is_none_or(|p| hit.priority >= p)
            && self
                .topic
                .as_deref()
                .is_none_or(|t| hit.is_topic && t == hit.brand)
            && self.sentiment.is_none_or(|s| s == hit.sentiment)
    }

    fn is_urgent(&self, hit: &HitLabels<'_>) -> bool {
        hit.severity == Severity::Urgent || self.urgent_priority.is_some_and(|p| hit.priority >= p)
    }

    fn group_key(&self, hit: &HitLabels<'_>) -> String {
        self.group_by
            .iter()
            .map(|label| {
                let value = match label {
                    GroupLabel::Brand => hit.brand.to_string(),
                    GroupLabel::Team => hit.team.unwrap_or("").to_string(),
                    GroupLabel::Source => hit.source.to_string(),
                    GroupLabel::Severity => hit.severity.as_str().to_string(),
                    GroupLabel::Competitor => hit.competitor.to_string(),
                };
                format!("{}={value}", label.name())
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// What routes see of a hit: its own fields plus what its brand entry says.
struct HitLabels<'a> {
    brand: &'a str,
    team: Option<&'a str>,
    source: &'a str,
    competitor: bool,
    severity: Severity,
    /// The author's follower count (0 when unknown).
    priority: u64,
    /// `brand` names a `[[topic]]`.
    is_topic: bool,
    /// The post's tone.
    sentiment: Sentiment,
}

/// Resolves hits to receivers and plans their deliveries.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<RouteConfig>,
    /// Brand name → (is a competitor, severity).
    brands: HashMap<String, (bool, Severity)>,
    /// Names of the `[[topic]]` entries, whose hits carry the topic as their brand.
    topics: HashSet<String>,
}

impl Router {
    /// A router over validated routes and the brands their hits come from.
    pub fn new(routes: Vec<RouteConfig>, keywords: &KeywordRules) -> Router {
        let brands = keywords
            .brands
            .iter()
            .map(|b| (b.name.clone(), (b.competitor_of.is_some(), b.severity)))
            .collect();
        let topics = keywords.topics.iter().map(|t| t.name.clone()).collect();
        Router {
            routes,
            brands,
            topics,
        }
    }

    /// Indexes of the routes a hit takes, in order.
    pub fn routes_for(&self, hit: &StoredHit) -> Vec<usize> {
        self.matching(&self.labels(hit))
    }

    /// Receivers for a hit, without duplicates, in route order.
    pub fn receivers_for(&self, hit: &StoredHit) -> Vec<&str> {
        let mut receivers: Vec<&str> = Vec::new();
        for index in self.routes_for(hit) {
            for receiver in &self.routes[index].receivers {
                if !receivers.contains(&receiver.as_str()) {
                    receivers.push(receiver);
                }
            }
        }
        receivers
    }

    /// Plans the new hits of a batch found at `now`: one delivery per (route, group,
    /// receiver), each due after its route's `group_wait` (at once when a hit is
    /// urgent) and held to the end of quiet hours. A receiver gets a hit once, through
    /// the first route naming it.
    pub fn plan(&self, hits: &[StoredHit], now: DateTime<Utc>) -> Vec<NewDelivery> {
        let mut groups: BTreeMap<(usize, String, &str), (Vec<&StoredHit>, bool)> = BTreeMap::new();
        for hit in hits {
            let labels = self.labels(hit);
            let mut seen: Vec<&str> = Vec::new();
            for index in self.matching(&labels) {
                let route = &self.routes[index];
                for receiver in &route.receivers {
                    if seen.contains(&receiver.as_str()) {
                        continue;
                    }
                    seen.push(receiver);
                    let entry = groups
                        .entry((index, route.group_key(&labels), receiver))
                        .or_default();
                    entry.0.push(hit);
                    entry.1 |= route.is_urgent(&labels);
                }
            }
        }
        groups
            .into_iter()
            .map(|((index, key, receiver), (hits, urgent))| {
                let route = &self.routes[index];
                let group_key = format!("route={index};{key}");
                let keys: Vec<(&str, &str, &str)> = hits
                    .iter()
                    .map(|h| (h.post.source.as_str(), h.post.id.as_str(), h.brand.as_str()))
                    .collect();
                NewDelivery {
                    id: delivery_id(&group_key, receiver, keys),
                    receiver: receiver.to_string(),
                    hit_ids: hits.iter().map(|h| h.hit_id).collect(),
                    group_key,
                    max_hits: route.max_hits,
                    urgent,
                    due_at: if urgent { now } else { now + route.group_wait },
                    hold_until: route
                        .quiet_hours
                        .filter(|_| !urgent)
                        .and_then(|quiet| quiet.hold_until(now)),
                    group_interval: route.group_interval,
                }
            })
            .collect()
    }

    /// Receivers of operator alerts: routes are evaluated in order as for a hit, and an
    /// operator alert matches the default routes and those with `operator = true`.
    pub fn operator_receivers(&self) -> Vec<String> {
        let mut receivers: Vec<String> = Vec::new();
        for route in &self.routes {
            if !(route.operator || route.is_catch_all()) {
                continue;
            }
            for receiver in &route.receivers {
                if !receivers.contains(receiver) {
                    receivers.push(receiver.clone());
                }
            }
            if !route.continue_matching {
                break;
            }
        }
        receivers
    }

    /// The longest SLA of a route that escalates, if any route does.
    pub fn longest_sla(&self) -> Option<Duration> {
        self.routes
            .iter()
            .filter(|route| !route.escalate_to.is_empty())
            .map(|route| route.sla)
            .max()
    }

    /// Plans SLA escalations for open hits at `now`: a hit is overdue when the first
    /// of its routes with `escalate_to` has an SLA that has run out since the hit was
    /// found. Returns one escalation per (route, receiver) of overdue hits, and every
    /// overdue hit, to be marked escalated so it is escalated only once.
    pub fn plan_escalations(
        &self,
        open: &[AlertHit],
        now: DateTime<Utc>,
    ) -> (Vec<NewEscalation>, Vec<i64>) {
        let mut groups: BTreeMap<(usize, &str), Vec<&AlertHit>> = BTreeMap::new();
        let mut overdue = Vec::new();
        for hit in open {
            let labels = self.labels_of(&hit.brand, hit.team.as_deref(), &hit.post);
            let Some(index) = self
                .matching(&labels)
                .into_iter()
                .find(|&index| !self.routes[index].escalate_to.is_empty())
            else {
                continue;
            };
            let route = &self.routes[index];
            if hit.detected_at + route.sla > now {
                continue;
            }
            overdue.push(hit.hit_id);
            for receiver in &route.escalate_to {
                groups.entry((index, receiver)).or_default().push(hit);
            }
        }
        let escalations = groups
            .into_iter()
            .map(|((index, receiver), hits)| {
                let group_key = format!("escalation;route={index}");
                let keys: Vec<(&str, &str, &str)> = hits
                    .iter()
                    .map(|h| (h.post.source.as_str(), h.post.id.as_str(), h.brand.as_str()))
                    .collect();
                NewEscalation {
                    id: delivery_id(&group_key, receiver, keys),
                    receiver: receiver.to_string(),
                    hit_ids: hits.iter().map(|h| h.hit_id).collect(),
                }
            })
            .collect();
        (escalations, overdue)
    }

    fn matching(&self, labels: &HitLabels<'_>) -> Vec<usize> {
        let mut matched = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            if !route.matches(labels) {
                continue;
            }
            matched.push(index);
            if !route.continue_matching {
                break;
            }
        }
        matched
    }

    fn labels<'a>(&self, hit: &'a StoredHit) -> HitLabels<'a> {
        self.labels_of(&hit.brand, hit.team.as_deref(), &hit.post)
    }

    fn labels_of<'a>(
        &self,
        brand: &'a str,
        team: Option<&'a str>,
        post: &'a Post,
    ) -> HitLabels<'a> {
        let (competitor, severity) = self.brands.get(brand).copied().unwrap_or_default();
        HitLabels {
            brand,
            team,
            source: &post.source,
            competitor,
            severity,
            priority: post.author.as_ref().and_then(|a| a.followers).unwrap_or(0),
            is_topic: self.topics.contains(brand),
            sentiment: sentiment::classify(&post.text),
        }
    }
}

/// The id of the operator alert to `receiver` about dead delivery `failed`.
pub fn operator_alert_id(receiver: &str, failed: &str) -> String {
    delivery_id("operator", receiver, vec![("", failed, "")])
}

/// `msg_` + hash of the group, the receiver and the natural keys of the hits that open
/// the delivery: the same hits planned again (a batch replayed after a crash) get the
/// same id.
fn delivery_id(group_key: &str, receiver: &str, mut keys: Vec<(&str, &str, &str)>) -> String {
    keys.sort_unstable();
    let mut hasher = Sha256::new();
    for part in [group_key, receiver] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    for (source, id, brand) in keys {
        for part in [source, id, brand] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

#[cfg(test)]
pub(crate) mod tests;
