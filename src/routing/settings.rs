//! `[route_defaults]` and `[[routes]]`: their TOML mirrors and the parser that turns
//! them into validated [`RouteConfig`]s. Routing owns its settings; `config` only
//! hands over the tables and locates the problems this returns.

use std::collections::HashSet;
use std::time::Duration;

use serde::Deserialize;

use super::{GroupLabel, MAX_PRIORITY, QuietHours, RouteConfig, RouteKind};
use crate::keywords::{KeywordRules, Severity};
use crate::model::ReceiverName;
use crate::sentiment::Sentiment;
use crate::settings::{DurationSetting, FieldError};

/// `[route_defaults]`: what a route leaves unset.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRouteDefaults {
    /// Default `group_by`.
    pub group_by: Vec<String>,
    /// Default `group_wait`.
    pub group_wait: DurationSetting,
    /// Default `group_interval`.
    pub group_interval: DurationSetting,
    /// Default `max_hits`.
    pub max_hits: usize,
    /// Default `time_zone` of quiet hours.
    pub time_zone: String,
    /// Default `sla`.
    pub sla: DurationSetting,
}

/// One `[[routes]]` table as written.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct RawRoute {
    /// Matches hits of this team.
    pub team: Option<String>,
    /// Matches hits of this brand.
    pub brand: Option<String>,
    /// Matches hits from this source.
    pub source: Option<String>,
    /// Matches competitor or own-brand hits.
    pub competitor: Option<bool>,
    /// Matches hits of this severity.
    pub severity: Option<String>,
    /// Matches hits with at least this priority.
    pub min_priority: Option<u64>,
    /// Matches hits of this topic.
    pub topic: Option<String>,
    /// Matches hits of this tone.
    pub sentiment: Option<String>,
    /// `mention` or `surge`: what the route takes.
    pub kind: Option<String>,
    /// Receivers of matching hits.
    #[serde(default)]
    pub receivers: Vec<ReceiverName>,
    /// Keep evaluating later routes.
    #[serde(default, rename = "continue")]
    pub continue_matching: bool,
    /// Grouping labels.
    pub group_by: Option<Vec<String>>,
    /// Wait before a group's first message.
    pub group_wait: Option<DurationSetting>,
    /// Least time between two messages of a group.
    pub group_interval: Option<DurationSetting>,
    /// Hits listed per message.
    pub max_hits: Option<usize>,
    /// Priority from which a hit is urgent.
    pub urgent_priority: Option<u64>,
    /// `"22:00-08:00"`.
    pub quiet_hours: Option<String>,
    /// Time zone of the quiet hours.
    pub time_zone: Option<String>,
    /// Time a hit may stay unacknowledged.
    pub sla: Option<DurationSetting>,
    /// Receivers told about hits past the SLA.
    #[serde(default)]
    pub escalate_to: Vec<ReceiverName>,
    /// Takes operator alerts.
    #[serde(default)]
    pub operator: bool,
}

/// What routes are checked against.
pub struct RouteContext<'a> {
    /// Every declared receiver name (valid or not, so one bad receiver is reported once).
    pub receivers: &'a HashSet<String>,
    /// The watch list, whose teams, brands and topics routes may name.
    pub keywords: &'a KeywordRules,
}

/// Validates `[[routes]]` with `[route_defaults]` filled in. Problems carry full dotted
/// keys (`routes[2].team`, `route_defaults.sla`, `routes`), since routes are top-level
/// tables; every problem is returned, not only the first.
pub fn parse_routes(
    raw: Vec<RawRoute>,
    defaults: &RawRouteDefaults,
    context: &RouteContext<'_>,
) -> (Vec<RouteConfig>, Vec<FieldError>) {
    let mut problems = Vec::new();
    if raw.is_empty() {
        problems.push(FieldError::new(
            "routes",
            "no [[routes]]: hits would go nowhere",
        ));
    }
    let routes: Vec<RouteConfig> = raw
        .into_iter()
        .enumerate()
        .map(|(index, route)| parse_route(index, route, defaults, context, &mut problems))
        .collect();
    if !routes.is_empty() && !routes.iter().any(RouteConfig::is_catch_all) {
        problems.push(FieldError::new(
            "routes",
            "no default route (one without matchers): unmatched hits would go nowhere",
        ));
    }
    (routes, problems)
}

fn parse_route(
    index: usize,
    route: RawRoute,
    defaults: &RawRouteDefaults,
    context: &RouteContext<'_>,
    problems: &mut Vec<FieldError>,
) -> RouteConfig {
    let key = |field: &str| format!("routes[{index}].{field}");
    if route.receivers.is_empty() {
        problems.push(FieldError::new(
            key("receivers"),
            "name at least one receiver",
        ));
    }
    for (field, names) in [
        ("receivers", &route.receivers),
        ("escalate_to", &route.escalate_to),
    ] {
        for name in names {
            if !context.receivers.contains(name.as_str()) {
                problems.push(FieldError::new(
                    key(field),
                    format!("no receiver named `{name}`"),
                ));
            }
        }
    }
    let keywords = context.keywords;
    if let Some(team) = &route.team
        && !keywords.has_team(team)
    {
        problems.push(FieldError::new(
            key("team"),
            format!("no brand or topic in the keywords has team `{team}`"),
        ));
    }
    if let Some(brand) = &route.brand
        && !keywords.has_name(brand)
    {
        problems.push(FieldError::new(
            key("brand"),
            format!("no brand or topic named `{brand}` in the keywords"),
        ));
    }
    if let Some(source) = &route.source
        && source.trim().is_empty()
    {
        problems.push(FieldError::new(key("source"), "must not be empty"));
    }
    if let Some(topic) = &route.topic
        && !keywords.topics.iter().any(|t| &t.name == topic)
    {
        problems.push(FieldError::new(
            key("topic"),
            format!("no [[topic]] named `{topic}` in the keywords"),
        ));
    }
    let sentiment = route.sentiment.as_deref().and_then(|text| {
        let parsed = Sentiment::parse(text);
        if parsed.is_none() {
            problems.push(FieldError::new(
                key("sentiment"),
                format!("unknown sentiment `{text}`, expected `negative`, `neutral` or `positive`"),
            ));
        }
        parsed
    });
    let kind = route.kind.as_deref().and_then(|text| {
        RouteKind::parse(text)
            .map_err(|message| problems.push(FieldError::new(key("kind"), message)))
            .ok()
    });
    for (field, value) in [
        ("min_priority", route.min_priority),
        ("urgent_priority", route.urgent_priority),
    ] {
        if value.is_some_and(|value| value > MAX_PRIORITY) {
            problems.push(FieldError::new(
                key(field),
                format!(
                    "a priority is a score from 0 to {MAX_PRIORITY} (reach, engagement, tone), not a follower count"
                ),
            ));
        }
    }
    let severity = route.severity.as_deref().and_then(|text| {
        Severity::parse(text)
            .map_err(|message| problems.push(FieldError::new(key("severity"), message)))
            .ok()
    });
    let mut duration = |field: &str, own: &Option<DurationSetting>, default: &DurationSetting| {
        let (key, value) = match own {
            Some(value) => (key(field), value),
            None => (format!("route_defaults.{field}"), default),
        };
        value.to_duration().unwrap_or_else(|message| {
            problems.push(FieldError::new(key, message));
            Duration::ZERO
        })
    };
    let group_wait = duration("group_wait", &route.group_wait, &defaults.group_wait);
    let sla = duration("sla", &route.sla, &defaults.sla);
    let group_interval = duration(
        "group_interval",
        &route.group_interval,
        &defaults.group_interval,
    );
    let (group_by_key, group_by) = match &route.group_by {
        Some(labels) => (key("group_by"), labels),
        None => ("route_defaults.group_by".to_string(), &defaults.group_by),
    };
    let group_by = group_by
        .iter()
        .filter_map(|label| {
            GroupLabel::parse(label)
                .map_err(|message| problems.push(FieldError::new(&group_by_key, message)))
                .ok()
        })
        .collect();
    let max_hits = route.max_hits.unwrap_or(defaults.max_hits);
    if max_hits == 0 {
        let key = match route.max_hits {
            Some(_) => key("max_hits"),
            None => "route_defaults.max_hits".into(),
        };
        problems.push(FieldError::new(key, "must be at least 1"));
    }
    let (zone_key, zone) = match &route.time_zone {
        Some(zone) => (key("time_zone"), zone),
        None => ("route_defaults.time_zone".to_string(), &defaults.time_zone),
    };
    let time_zone = zone.parse::<chrono_tz::Tz>().map_err(|_| {
        problems.push(FieldError::new(
            zone_key,
            format!("unknown time zone `{zone}`, expected an IANA name such as Europe/Istanbul"),
        ))
    });
    let quiet_hours = match (&route.quiet_hours, time_zone) {
        (Some(window), Ok(zone)) => QuietHours::parse(window, zone)
            .map_err(|message| problems.push(FieldError::new(key("quiet_hours"), message)))
            .ok(),
        _ => None,
    };
    RouteConfig {
        team: route.team,
        brand: route.brand,
        source: route.source,
        competitor: route.competitor,
        severity,
        min_priority: route.min_priority,
        topic: route.topic,
        sentiment,
        kind,
        receivers: route.receivers,
        continue_matching: route.continue_matching,
        group_by,
        group_wait,
        group_interval,
        max_hits: max_hits.max(1),
        urgent_priority: route.urgent_priority,
        quiet_hours,
        sla,
        escalate_to: route.escalate_to,
        operator: route.operator,
    }
}
