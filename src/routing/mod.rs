//! Routes: which receivers a hit goes to, evaluated in order (first match wins unless
//! `continue = true`), and how its route groups it: the hits of one group (route,
//! `group_by` values, receiver) share one message, sent `group_wait` after the group
//! opened, no sooner than `group_interval` after the group's previous message, after
//! the route's quiet hours, or at once when urgent. Planning is pure: the time is
//! passed in; the store attaches planned hits to a still-open row of their group.

mod replies;
pub mod settings;
pub mod surge;

use std::collections::{BTreeMap, HashMap};
use std::time::Duration;

use chrono::{DateTime, NaiveTime, TimeZone, Utc};
use chrono_tz::Tz;
use sha2::{Digest, Sha256};

use crate::keywords::Severity;
use crate::matcher::{BrandHit, HitKind};
use crate::model::{DeliveryId, Engagement, HitId, Post, ReceiverName};
use crate::sentiment::Sentiment;
use crate::settings::InvalidValue;

pub use replies::{OwnHandles, OwnReply};

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
    pub fn parse(text: &str) -> Result<GroupLabel, InvalidValue> {
        match text {
            "brand" => Ok(GroupLabel::Brand),
            "team" => Ok(GroupLabel::Team),
            "source" => Ok(GroupLabel::Source),
            "severity" => Ok(GroupLabel::Severity),
            "competitor" => Ok(GroupLabel::Competitor),
            other => Err(InvalidValue(format!(
                "unknown group_by label `{other}`, expected brand, team, source, severity or competitor"
            ))),
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
    pub fn parse(window: &str, time_zone: Tz) -> Result<QuietHours, InvalidValue> {
        let invalid = || {
            InvalidValue(format!(
                "invalid quiet_hours `{window}`, expected e.g. \"22:00-08:00\""
            ))
        };
        let (start, end) = window.split_once('-').ok_or_else(invalid)?;
        let time =
            |text: &str| NaiveTime::parse_from_str(text.trim(), "%H:%M").map_err(|_| invalid());
        let (start, end) = (time(start)?, time(end)?);
        if start == end {
            return Err(InvalidValue(format!("quiet_hours `{window}` is empty")));
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
    /// Match hits whose priority ([`priority`], 0 to 100) is at least this.
    pub min_priority: Option<u64>,
    /// Match hits of this `[[topic]]` only.
    pub topic: Option<String>,
    /// Match hits on posts of this tone only.
    pub sentiment: Option<Sentiment>,
    /// What the route takes: `None` mentions (and, for a route without matchers,
    /// surges too), `Some(kind)` only that kind.
    pub kind: Option<RouteKind>,
    /// Receivers for matching hits.
    pub receivers: Vec<ReceiverName>,
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
    pub escalate_to: Vec<ReceiverName>,
    /// Takes operator alerts (a receiver that keeps failing) even with matchers.
    pub operator: bool,
}

impl RouteConfig {
    /// A route without matchers (`kind = "mention"` aside) takes every hit: the
    /// default route.
    pub fn is_catch_all(&self) -> bool {
        self.kind != Some(RouteKind::Surge)
            && self
                .matcher_labels()
                .iter()
                .all(|label| label.starts_with("kind="))
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
            ("kind", self.kind.map(|k| k.as_str().to_string())),
        ] {
            if let Some(value) = value {
                labels.push(format!("{key}={value}"));
            }
        }
        labels
    }

    fn matches(&self, hit: &HitLabels) -> bool {
        self.kind.is_none_or(|kind| kind == RouteKind::Mention)
            && self.takes_entity(hit)
            && self.source.as_deref().is_none_or(|s| s == hit.source)
            && self.severity.is_none_or(|s| s == hit.severity)
            && self.min_priority.is_none_or(|p| hit.priority >= p)
            && self
                .topic
                .as_deref()
                .is_none_or(|t| hit.is_topic && t == hit.brand)
            && self.sentiment.is_none_or(|s| s == hit.sentiment)
    }

    /// The brand, team and competitor matchers. A competitor's hits are only taken by
    /// a route that names them (`competitor = true` or their `brand`): they are
    /// tracked for reports, never alerted by a route written for one's own brands.
    fn takes_entity(&self, hit: &HitLabels) -> bool {
        let named = self.competitor == Some(true) || self.brand.as_deref() == Some(&hit.brand);
        (!hit.competitor || named)
            && self.brand.as_deref().is_none_or(|b| b == hit.brand)
            && self
                .team
                .as_deref()
                .is_none_or(|t| Some(t) == hit.team.as_deref())
            && self.competitor.is_none_or(|c| c == hit.competitor)
    }

    fn is_urgent(&self, hit: &HitLabels) -> bool {
        hit.severity == Severity::Urgent || self.urgent_priority.is_some_and(|p| hit.priority >= p)
    }

    fn group_key(&self, hit: &HitLabels) -> String {
        self.group_by
            .iter()
            .map(|label| {
                let value = match label {
                    GroupLabel::Brand => hit.brand.clone(),
                    GroupLabel::Team => hit.team.clone().unwrap_or_default(),
                    GroupLabel::Source => hit.source.clone(),
                    GroupLabel::Severity => hit.severity.as_str().to_string(),
                    GroupLabel::Competitor => hit.competitor.to_string(),
                };
                format!("{}={value}", label.name())
            })
            .collect::<Vec<_>>()
            .join(",")
    }
}

/// A hit's natural key: the same post and brand always have the same key, across
/// restarts and replays, so delivery ids made from keys are stable.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct HitKey {
    /// Source the post came from.
    pub source: String,
    /// The post's id within its source.
    pub post_id: String,
    /// Brand or topic name.
    pub brand: String,
}

/// What routes see of a hit: the labels the matcher found (brand or topic, team,
/// severity, competitor), the post's source, the author's reach and the post's tone,
/// each computed once, before routing.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct HitLabels {
    /// Brand or topic name.
    pub brand: String,
    /// The brand's or topic's team.
    pub team: Option<String>,
    /// Source the post came from.
    pub source: String,
    /// The brand is a competitor entry.
    pub competitor: bool,
    /// The brand's severity.
    pub severity: Severity,
    /// The hit's [`priority`], 0 to 100.
    pub priority: u64,
    /// `brand` names a `[[topic]]`.
    pub is_topic: bool,
    /// The post's tone.
    pub sentiment: Sentiment,
}

impl HitLabels {
    /// The labels of `hit` on `post`, whose tone is `sentiment`.
    pub fn of(post: &Post, hit: &BrandHit, sentiment: Sentiment) -> HitLabels {
        HitLabels {
            brand: hit.brand.to_string(),
            team: hit.team.as_deref().map(str::to_string),
            source: post.source.clone(),
            competitor: hit.competitor,
            severity: hit.severity,
            priority: post_priority(post, sentiment),
            is_topic: hit.kind == HitKind::Topic,
            sentiment,
        }
    }
}

/// What a route takes: hits (`mention`, their escalations included) or surge alerts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum RouteKind {
    /// New hits.
    Mention,
    /// Surges of mentions of a brand.
    Surge,
}

impl RouteKind {
    /// Parses a route's `kind`.
    pub fn parse(text: &str) -> Result<RouteKind, InvalidValue> {
        match text {
            "mention" => Ok(RouteKind::Mention),
            "surge" => Ok(RouteKind::Surge),
            other => Err(InvalidValue(format!(
                "unknown kind `{other}`, expected mention or surge"
            ))),
        }
    }

    /// The name `kind` takes in the configuration.
    pub fn as_str(self) -> &'static str {
        match self {
            RouteKind::Mention => "mention",
            RouteKind::Surge => "surge",
        }
    }
}

/// The highest priority.
pub const MAX_PRIORITY: u64 = 100;

/// A hit's priority, 0 to [`MAX_PRIORITY`], from the author's reach, the post's
/// engagement and its tone:
///
/// - reach: `10 × log10(1 + followers)`, at most 50 (1k followers 30, 100k 50);
/// - engagement: `10 × log10(1 + likes + 2 × (reposts + quotes) + replies + score)`,
///   at most 30 (100 interactions 20, 1,000 or more 30); reposts and quotes count
///   twice because they carry the post to new readers;
/// - tone: 20 for a negative post (a complaint), else 0.
///
/// Each part is rounded down; unknown counts count as 0.
pub fn priority(
    followers: Option<u64>,
    engagement: Option<&Engagement>,
    sentiment: Sentiment,
) -> u64 {
    // The nudge keeps exact powers of ten (1,000 followers) from rounding down.
    let log_points =
        |count: u64, cap: u64| ((10.0 * (1.0 + count as f64).log10() + 1e-9) as u64).min(cap);
    let reach = log_points(followers.unwrap_or(0), 50);
    let interactions = engagement.map_or(0, |e| {
        let count = |value: Option<u64>| value.unwrap_or(0);
        count(e.likes)
            .saturating_add(
                count(e.reposts)
                    .saturating_add(count(e.quotes))
                    .saturating_mul(2),
            )
            .saturating_add(count(e.replies))
            .saturating_add(count(e.score))
    });
    let tone = if sentiment == Sentiment::Negative {
        20
    } else {
        0
    };
    (reach + log_points(interactions, 30) + tone).min(MAX_PRIORITY)
}

/// [`priority`] of a hit on `post`, whose tone is `sentiment`.
pub fn post_priority(post: &Post, sentiment: Sentiment) -> u64 {
    priority(
        post.author.as_ref().and_then(|a| a.followers),
        post.engagement.as_ref(),
        sentiment,
    )
}

/// A new hit, ready to be routed.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RoutedHit {
    /// Its natural key.
    pub key: HitKey,
    /// What routes match on.
    pub labels: HitLabels,
}

/// A stored hit still waiting for an answer, as the escalation check sees it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OpenHit {
    /// Its row id.
    pub hit_id: HitId,
    /// Its natural key.
    pub key: HitKey,
    /// What routes match on.
    pub labels: HitLabels,
    /// When it was found.
    pub detected_at: DateTime<Utc>,
}

/// One message group of one receiver: the key under which hits share a message.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct GroupRef {
    /// Receiver name.
    pub receiver: ReceiverName,
    /// `route=<index>;<label>=<value>,…`.
    pub group_key: String,
}

/// What the store knows of a group's messages, read before planning.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct GroupHistory {
    /// When its last message was rendered (sent for the first time), if ever.
    pub last_sent: Option<DateTime<Utc>>,
    /// When its open message (not rendered yet) is due, if it has one.
    pub open_due: Option<DateTime<Utc>>,
}

/// A planned message: hits of one group for one receiver. The store attaches its hits
/// to the group's open (not yet rendered) message if there is one, else opens this one.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewDelivery {
    /// Deterministic id, sent as `webhook-id`.
    pub id: DeliveryId,
    /// Receiver name.
    pub receiver: ReceiverName,
    /// The hits the alert covers.
    pub hits: Vec<HitKey>,
    /// Which group of its route the alert belongs to (`route=0;brand=Turkcell`).
    pub group_key: String,
    /// Most hits shown in the message; the rest are counted ("and N more").
    pub max_hits: usize,
    /// An urgent hit is among them: an open message of the group is due now.
    pub urgent: bool,
    /// When a new message is due: now when urgent; else after `group_wait`, no sooner
    /// than `group_interval` after the group's previous message, and after quiet hours.
    pub due_at: DateTime<Utc>,
    /// End of the route's quiet hours, when they are on now (an open message is held
    /// until then too).
    pub hold_until: Option<DateTime<Utc>>,
    /// The receiver must get every hit: a message holds at most `max_hits`, and hits
    /// beyond that open the group's next message (`<id>-2`, `<id>-3`, …).
    pub split: bool,
}

/// A planned escalation: overdue hits told to one `escalate_to` receiver.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewEscalation {
    /// Deterministic delivery id.
    pub id: DeliveryId,
    /// Receiver named by the route's `escalate_to`.
    pub receiver: ReceiverName,
    /// The overdue hits it reports.
    pub hit_ids: Vec<HitId>,
}

/// Resolves hits to receivers and plans their deliveries. Pure: the time and what the
/// store knows of each group are passed in.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<RouteConfig>,
    /// Receivers whose messages carry every hit (programs: `webhook`, `file`), with the
    /// most hits one message holds; a larger group is split over several messages.
    complete: HashMap<ReceiverName, usize>,
}

/// Hits of one (route, group, receiver), and whether one of them is urgent.
type Groups<'a> = BTreeMap<(usize, String, &'a ReceiverName), (Vec<&'a RoutedHit>, bool)>;

impl Router {
    /// A router over validated routes.
    pub fn new(routes: Vec<RouteConfig>) -> Router {
        Router {
            routes,
            complete: HashMap::new(),
        }
    }

    /// The same router, with `receivers` (name → hits per message) marked as programs
    /// that must receive every hit: their groups are split into messages of at most
    /// that many hits instead of being summarised with "and N more".
    pub fn carrying_every_hit(mut self, receivers: HashMap<ReceiverName, usize>) -> Router {
        self.complete = receivers;
        self
    }

    /// Receivers for a hit, without duplicates, in route order.
    pub fn receivers_for(&self, labels: &HitLabels) -> Vec<&ReceiverName> {
        let mut receivers: Vec<&ReceiverName> = Vec::new();
        for index in self.matching(labels) {
            for receiver in &self.routes[index].receivers {
                if !receivers.contains(&receiver) {
                    receivers.push(receiver);
                }
            }
        }
        receivers
    }

    /// The groups `hits` fall into, whose history [`Router::plan`] needs.
    pub fn groups_of(&self, hits: &[RoutedHit]) -> Vec<GroupRef> {
        self.group(hits)
            .into_keys()
            .map(|(index, key, receiver)| GroupRef {
                receiver: receiver.clone(),
                group_key: group_key(index, &key),
            })
            .collect()
    }

    /// Plans new hits found at `now`: one delivery per (route, group, receiver), due
    /// after its route's `group_wait` (at once when a hit is urgent), no sooner than
    /// `group_interval` after the group's previous message (`history`), and held to
    /// the end of quiet hours. A receiver gets a hit once, through the first route
    /// naming it.
    pub fn plan(
        &self,
        hits: &[RoutedHit],
        history: &HashMap<GroupRef, GroupHistory>,
        now: DateTime<Utc>,
    ) -> Vec<NewDelivery> {
        self.group(hits)
            .into_iter()
            .map(|((index, key, receiver), (hits, urgent))| {
                let route = &self.routes[index];
                let group = GroupRef {
                    receiver: receiver.clone(),
                    group_key: group_key(index, &key),
                };
                let hold_until = route
                    .quiet_hours
                    .filter(|_| !urgent)
                    .and_then(|quiet| quiet.hold_until(now));
                let known = history.get(&group).copied().unwrap_or_default();
                let split = self.complete.contains_key(receiver);
                let due_at = if urgent {
                    now
                } else if let (true, Some(open_due)) = (split, known.open_due) {
                    // A program's message that is full overflows into parts of the
                    // same message: they go out with it, not a group interval later.
                    open_due
                } else {
                    // An open message is sent at its due time at the earliest, so a new
                    // one (should the open one be sent before the store sees this
                    // plan) keeps the interval after it too.
                    let previous = known.last_sent.max(known.open_due);
                    let interval = chrono::Duration::from_std(route.group_interval)
                        .unwrap_or(chrono::Duration::MAX);
                    [
                        Some(now + route.group_wait),
                        previous.and_then(|at| at.checked_add_signed(interval)),
                        hold_until,
                    ]
                    .into_iter()
                    .flatten()
                    .max()
                    .unwrap_or(now)
                };
                let keys: Vec<HitKey> = hits.iter().map(|hit| hit.key.clone()).collect();
                NewDelivery {
                    id: delivery_id(&group.group_key, receiver, &keys),
                    receiver: group.receiver,
                    hits: keys,
                    group_key: group.group_key,
                    max_hits: self
                        .complete
                        .get(receiver)
                        .copied()
                        .unwrap_or(route.max_hits),
                    split: self.complete.contains_key(receiver),
                    urgent,
                    due_at,
                    hold_until,
                }
            })
            .collect()
    }

    /// Receivers of operator alerts: routes are evaluated in order as for a hit, and an
    /// operator alert matches the default routes and those with `operator = true`.
    pub fn operator_receivers(&self) -> Vec<ReceiverName> {
        self.receivers_of(|route| route.operator || route.is_catch_all())
    }

    /// Receivers of a surge of `labels.brand` (its team, competitor flag, severity and,
    /// for a surge of negative posts alone, `negative` sentiment): routes are evaluated
    /// in order, and a surge matches the routes with `kind = "surge"` whose brand,
    /// team, competitor, severity and sentiment matchers fit, and the default routes
    /// (no matchers, no `kind`). A competitor's surge needs a route naming it.
    pub fn surge_receivers(&self, labels: &HitLabels) -> Vec<ReceiverName> {
        self.receivers_of(|route| match route.kind {
            Some(RouteKind::Surge) => {
                route.takes_entity(labels)
                    && route.severity.is_none_or(|s| s == labels.severity)
                    && route.sentiment.is_none_or(|s| s == labels.sentiment)
            }
            Some(RouteKind::Mention) => false,
            None => route.is_catch_all() && !labels.competitor,
        })
    }

    /// The receivers of the routes [`Router::taken_by`] `takes`, each once, in order.
    fn receivers_of(&self, takes: impl Fn(&RouteConfig) -> bool) -> Vec<ReceiverName> {
        let mut receivers: Vec<ReceiverName> = Vec::new();
        for index in self.taken_by(takes) {
            for receiver in &self.routes[index].receivers {
                if !receivers.contains(receiver) {
                    receivers.push(receiver.clone());
                }
            }
        }
        receivers
    }

    /// The one route walk: the indices of the routes `takes` accepts, in order, up to
    /// and including the first accepted one without `continue`.
    fn taken_by(&self, takes: impl Fn(&RouteConfig) -> bool) -> Vec<usize> {
        let mut taken = Vec::new();
        for (index, route) in self.routes.iter().enumerate() {
            if !takes(route) {
                continue;
            }
            taken.push(index);
            if !route.continue_matching {
                break;
            }
        }
        taken
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
    /// found. Returns one escalation per (route, group, receiver) of overdue hits,
    /// grouped by the route's `group_by` like its mentions (so each message is about
    /// its own brand or team), and every overdue hit, to be marked escalated so it is
    /// escalated only once.
    pub fn plan_escalations(
        &self,
        open: &[OpenHit],
        now: DateTime<Utc>,
    ) -> (Vec<NewEscalation>, Vec<HitId>) {
        let mut groups: BTreeMap<(usize, String, &ReceiverName), Vec<&OpenHit>> = BTreeMap::new();
        let mut overdue = Vec::new();
        for hit in open {
            let Some(index) = self.escalating_route(&hit.labels) else {
                continue;
            };
            let route = &self.routes[index];
            if hit.detected_at + route.sla > now {
                continue;
            }
            overdue.push(hit.hit_id);
            let key = route.group_key(&hit.labels);
            for receiver in &route.escalate_to {
                groups
                    .entry((index, key.clone(), receiver))
                    .or_default()
                    .push(hit);
            }
        }
        let escalations = groups
            .into_iter()
            .map(|((index, key, receiver), hits)| {
                let group_key = format!("escalation;{}", group_key(index, &key));
                let keys: Vec<HitKey> = hits.iter().map(|hit| hit.key.clone()).collect();
                NewEscalation {
                    id: delivery_id(&group_key, receiver, &keys),
                    receiver: receiver.clone(),
                    hit_ids: hits.iter().map(|h| h.hit_id).collect(),
                }
            })
            .collect();
        (escalations, overdue)
    }

    fn group<'a>(&'a self, hits: &'a [RoutedHit]) -> Groups<'a> {
        let mut groups: Groups<'a> = BTreeMap::new();
        for hit in hits {
            let mut seen: Vec<&ReceiverName> = Vec::new();
            for index in self.matching(&hit.labels) {
                let route = &self.routes[index];
                for receiver in &route.receivers {
                    if seen.contains(&receiver) {
                        continue;
                    }
                    seen.push(receiver);
                    let entry = groups
                        .entry((index, route.group_key(&hit.labels), receiver))
                        .or_default();
                    entry.0.push(hit);
                    entry.1 |= route.is_urgent(&hit.labels);
                }
            }
        }
        groups
    }

    /// The SLA a hit with `labels` is escalated after (its first matching route with
    /// `escalate_to`), if any.
    pub fn sla_of(&self, labels: &HitLabels) -> Option<Duration> {
        self.escalating_route(labels)
            .map(|index| self.routes[index].sla)
    }

    fn escalating_route(&self, labels: &HitLabels) -> Option<usize> {
        self.matching(labels)
            .into_iter()
            .find(|&index| !self.routes[index].escalate_to.is_empty())
    }

    fn matching(&self, labels: &HitLabels) -> Vec<usize> {
        self.taken_by(|route| route.matches(labels))
    }
}

fn group_key(route: usize, labels: &str) -> String {
    format!("route={route};{labels}")
}

/// The id of the operator alert to `receiver` about dead delivery `failed`.
pub fn operator_alert_id(receiver: &ReceiverName, failed: &DeliveryId) -> DeliveryId {
    let key = HitKey {
        source: String::new(),
        post_id: failed.to_string(),
        brand: String::new(),
    };
    delivery_id("operator", receiver, &[key])
}

/// `msg_` + hash of the group, the receiver and the natural keys of the hits that open
/// the delivery: the same hits planned again (a batch replayed after a crash) get the
/// same id.
fn delivery_id(group_key: &str, receiver: &ReceiverName, keys: &[HitKey]) -> DeliveryId {
    let mut keys: Vec<&HitKey> = keys.iter().collect();
    keys.sort_unstable();
    let mut hasher = Sha256::new();
    for part in [group_key, receiver.as_str()] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    for key in keys {
        for part in [&key.source, &key.post_id, &key.brand] {
            hasher.update(part.as_bytes());
            hasher.update([0]);
        }
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    DeliveryId(format!("msg_{hex}"))
}

#[cfg(test)]
pub(crate) mod tests;
