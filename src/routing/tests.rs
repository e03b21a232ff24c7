//! Routing tables and grouping over injected time, planned by the router and applied
//! by a real store in a temporary directory.

use chrono::{TimeZone, Timelike};

use super::*;
use crate::keywords::{KeywordRules, parse_keywords as parse};
use crate::matcher::BrandHit;
use crate::pipeline::tests::commit_matched;
use crate::sentiment::{self, Sentiment};
use crate::store::{MatchedPost, Store, unix_millis};

const KEYWORDS: &str = r#"
[[brand]]
name = "Turkcell"
team = "care"
terms = ["Turkcell"]

[[brand]]
name = "THY"
team = "thy"
terms = ["THY"]
severity = "urgent"

[[brand]]
name = "Turknet"
team = "care"
terms = ["Turknet"]

[[brand]]
name = "Vodafone"
team = "care"
terms = ["Vodafone"]
competitor_of = "Turkcell"

[[topic]]
name = "Outage"
team = "noc"
all = ["kesinti"]
"#;

fn keywords() -> KeywordRules {
    parse(std::path::Path::new("keywords.toml"), KEYWORDS).unwrap()
}

/// A route to `receivers` with the documented defaults and no matchers.
pub(crate) fn route(receivers: &[&str]) -> RouteConfig {
    RouteConfig {
        team: None,
        brand: None,
        source: None,
        competitor: None,
        severity: None,
        min_priority: None,
        topic: None,
        sentiment: None,
        kind: None,
        receivers: receivers.iter().map(|r| ReceiverName::from(*r)).collect(),
        continue_matching: false,
        group_by: vec![GroupLabel::Brand],
        group_wait: Duration::from_secs(30),
        group_interval: Duration::from_secs(300),
        max_hits: 10,
        urgent_priority: None,
        quiet_hours: None,
        sla: Duration::from_secs(3600),
        escalate_to: Vec::new(),
        operator: false,
    }
}

/// The hit the matcher finds for `brand` on a post, labelled as the pipeline labels it.
fn labelled(post: &Post, brand: &str) -> RoutedHit {
    let rules = keywords();
    let mut hit = BrandHit::exact_for_tests(brand, None, brand);
    if let Some(entry) = rules.brands.iter().find(|b| b.name == brand) {
        hit.team = entry.team.as_deref().map(std::sync::Arc::from);
        hit.severity = entry.severity;
        hit.competitor = entry.competitor_of.is_some();
    }
    if let Some(topic) = rules.topics.iter().find(|t| t.name == brand) {
        hit.team = topic.team.as_deref().map(std::sync::Arc::from);
        hit.kind = HitKind::Topic;
    }
    RoutedHit {
        key: HitKey {
            source: post.source.clone(),
            post_id: post.id.clone(),
            brand: brand.into(),
        },
        labels: HitLabels::of(post, &hit, sentiment::classify(&post.text)),
    }
}

fn stored(id: i64, source: &str, brand: &str, followers: u64) -> RoutedHit {
    let post = Post::from_json(&format!(
        r#"{{"source":"{source}","id":"p{id}","author":{{"handle":"a{id}","followers":{followers}}},"text":"{brand} çekmiyor"}}"#
    ))
    .unwrap();
    labelled(&post, brand)
}

/// Plans with no group history.
fn plan_fresh(router: &Router, hits: &[RoutedHit], now: DateTime<Utc>) -> Vec<NewDelivery> {
    router.plan(hits, &HashMap::new(), now)
}

/// The post ids a planned delivery carries.
fn posts_of(delivery: &NewDelivery) -> Vec<&str> {
    delivery
        .hits
        .iter()
        .map(|key| key.post_id.as_str())
        .collect()
}

fn t0() -> DateTime<Utc> {
    Utc.with_ymd_and_hms(2026, 11, 21, 9, 0, 0).unwrap()
}

#[test]
fn routes_match_on_every_field_and_continue_fans_out() {
    let routes = vec![
        RouteConfig {
            severity: Some(Severity::Urgent),
            continue_matching: true,
            ..route(&["pager"])
        },
        RouteConfig {
            competitor: Some(true),
            ..route(&["intel"])
        },
        RouteConfig {
            source: Some("x".into()),
            min_priority: Some(50),
            continue_matching: true,
            ..route(&["vip"])
        },
        RouteConfig {
            team: Some("care".into()),
            ..route(&["care-slack"])
        },
        RouteConfig {
            brand: Some("THY".into()),
            ..route(&["thy-mail"])
        },
        route(&["file"]),
    ];
    let router = Router::new(routes);
    let table: &[(&str, &str, u64, &[&str])] = &[
        ("x", "Turkcell", 10, &["care-slack"]),
        ("x", "Turkcell", 50_000, &["vip", "care-slack"]),
        ("news", "Turkcell", 50_000, &["care-slack"]),
        ("x", "Vodafone", 50_000, &["intel"]),
        ("news", "Vodafone", 0, &["intel"]),
        ("news", "THY", 0, &["pager", "thy-mail"]),
        ("x", "THY", 20_000, &["pager", "vip", "thy-mail"]),
        ("news", "Unknown", 0, &["file"]),
    ];
    for (source, brand, followers, expected) in table {
        let hit = stored(1, source, brand, *followers);
        assert_eq!(
            router.receivers_for(&hit.labels),
            *expected,
            "{source} {brand} {followers}"
        );
    }
}

#[test]
fn routes_match_on_topic_and_sentiment() {
    let routes = vec![
        RouteConfig {
            topic: Some("Outage".into()),
            ..route(&["noc"])
        },
        RouteConfig {
            sentiment: Some(Sentiment::Negative),
            ..route(&["complaints"])
        },
        RouteConfig {
            sentiment: Some(Sentiment::Positive),
            ..route(&["praise"])
        },
        route(&["file"]),
    ];
    let router = Router::new(routes);
    let hit = |brand: &str, text: &str| {
        let post =
            Post::from_json(&format!(r#"{{"source":"x","id":"1","text":"{text}"}}"#)).unwrap();
        labelled(&post, brand)
    };
    let table: &[(&str, &str, &[&str])] = &[
        ("Outage", "Kadıköy'de kesinti var", &["noc"]),
        (
            "Turkcell",
            "Turkcell iki gündür çekmiyor, rezalet",
            &["complaints"],
        ),
        (
            "Turkcell",
            "Turkcell ekibine çok teşekkürler, harika",
            &["praise"],
        ),
        ("Turkcell", "Turkcell yeni tarifeleri açıkladı", &["file"]),
        // A brand hit on a post that has the topic's words is not a topic hit.
        ("Turknet", "Turknet kesinti", &["complaints"]),
    ];
    for (brand, text, expected) in table {
        assert_eq!(
            router.receivers_for(&hit(brand, text).labels),
            *expected,
            "{brand}: {text}"
        );
    }
}

#[test]
fn operator_alerts_take_the_default_and_operator_routes() {
    let router = Router::new(vec![
        RouteConfig {
            team: Some("care".into()),
            ..route(&["care-slack"])
        },
        RouteConfig {
            brand: Some("THY".into()),
            operator: true,
            continue_matching: true,
            ..route(&["ops-pager"])
        },
        route(&["file", "ops-pager"]),
    ]);
    assert_eq!(router.operator_receivers(), ["ops-pager", "file"]);
    assert_ne!(
        operator_alert_id(&"file".into(), &"msg_1".into()),
        operator_alert_id(&"ops-pager".into(), &"msg_1".into())
    );
    assert_eq!(
        operator_alert_id(&"file".into(), &"msg_1".into()),
        operator_alert_id(&"file".into(), &"msg_1".into())
    );
}

#[test]
fn plan_groups_by_the_route_labels_with_order_independent_ids() {
    let by_brand = Router::new(vec![route(&["hook", "file"])]);
    let hits = [
        stored(1, "x", "Turkcell", 0),
        stored(2, "news", "Turkcell", 0),
        stored(3, "x", "Turknet", 0),
    ];
    let plan = plan_fresh(&by_brand, &hits, t0());
    assert_eq!(plan.len(), 4, "two brands × two receivers");
    let turkcell = plan
        .iter()
        .find(|d| d.receiver == "hook" && posts_of(d) == ["p1", "p2"])
        .unwrap();
    assert_eq!(turkcell.group_key, "route=0;brand=Turkcell");
    assert_eq!(turkcell.due_at, t0() + chrono::Duration::seconds(30));
    assert!(!turkcell.urgent && turkcell.hold_until.is_none());
    let reversed = plan_fresh(
        &by_brand,
        &[hits[2].clone(), hits[1].clone(), hits[0].clone()],
        t0(),
    );
    let ids = |plan: &[NewDelivery]| {
        let mut ids: Vec<_> = plan.iter().map(|d| d.id.clone()).collect();
        ids.sort();
        ids
    };
    assert_eq!(ids(&plan), ids(&reversed));
    assert!(turkcell.id.as_str().starts_with("msg_") && !turkcell.id.as_str().contains('.'));

    let by_team = Router::new(vec![RouteConfig {
        group_by: vec![GroupLabel::Team],
        ..route(&["hook"])
    }]);
    let plan = plan_fresh(&by_team, &hits, t0());
    assert_eq!(plan.len(), 1);
    assert_eq!(plan[0].group_key, "route=0;team=care");
    assert_eq!(posts_of(&plan[0]), ["p1", "p2", "p3"]);
}

#[test]
fn urgent_hits_skip_the_wait_and_quiet_hours() {
    let quiet = QuietHours::parse("22:00-08:00", chrono_tz::Europe::Istanbul).unwrap();
    let router = Router::new(vec![RouteConfig {
        urgent_priority: Some(70),
        quiet_hours: Some(quiet),
        ..route(&["hook"])
    }]);
    // 23:30 in Istanbul (UTC+3).
    let night = Utc.with_ymd_and_hms(2026, 11, 21, 20, 30, 0).unwrap();
    let morning = Utc.with_ymd_and_hms(2026, 11, 22, 5, 0, 0).unwrap();
    let plan = plan_fresh(
        &router,
        &[
            stored(1, "x", "Turkcell", 10),
            stored(2, "x", "THY", 10),
            stored(3, "x", "Turknet", 1_000_000),
        ],
        night,
    );
    let by_brand = |brand: &str| plan.iter().find(|d| d.group_key.ends_with(brand)).unwrap();
    let held = by_brand("Turkcell");
    assert!(!held.urgent);
    assert_eq!(held.hold_until, Some(morning));
    for urgent in [by_brand("THY"), by_brand("Turknet")] {
        assert!(urgent.urgent);
        assert_eq!(urgent.due_at, night);
        assert_eq!(urgent.hold_until, None);
    }
}

#[test]
fn quiet_hours_know_their_window_in_the_time_zone() {
    let istanbul = chrono_tz::Europe::Istanbul;
    let overnight = QuietHours::parse("22:00-08:00", istanbul).unwrap();
    let at = |h, m| Utc.with_ymd_and_hms(2026, 11, 21, h, m, 0).unwrap();
    // Istanbul is UTC+3: 18:59 UTC is 21:59 local.
    assert_eq!(overnight.hold_until(at(18, 59)), None);
    assert_eq!(
        overnight.hold_until(at(19, 0)),
        Some(Utc.with_ymd_and_hms(2026, 11, 22, 5, 0, 0).unwrap())
    );
    assert_eq!(overnight.hold_until(at(4, 59)), Some(at(5, 0)));
    assert_eq!(overnight.hold_until(at(5, 0)), None);
    let lunch = QuietHours::parse("12:00-13:30", chrono_tz::UTC).unwrap();
    assert_eq!(lunch.hold_until(at(12, 10)), Some(at(13, 30)));
    assert_eq!(lunch.hold_until(at(13, 30)), None);
    assert!(QuietHours::parse("22-08", istanbul).is_err());
    assert!(QuietHours::parse("08:00-08:00", istanbul).is_err());
    let end = overnight.hold_until(at(20, 0)).unwrap();
    assert_eq!(end.with_timezone(&istanbul).hour(), 8);
}

/// A store in a temp dir and a router, recording batches at injected times.
struct Timeline {
    _dir: tempfile::TempDir,
    store: Store,
    router: Router,
    next_post: u32,
}

impl Timeline {
    fn new(routes: Vec<RouteConfig>) -> Timeline {
        let dir = tempfile::tempdir().unwrap();
        let store = Store::open(&dir.path().join("t.db")).unwrap();
        Timeline {
            _dir: dir,
            store,
            router: Router::new(routes),
            next_post: 0,
        }
    }

    /// Records `n` new posts mentioning `brand` at `now`.
    fn hits(&mut self, brand: &str, n: usize, now: DateTime<Utc>) {
        let posts = (0..n)
            .map(|_| {
                self.next_post += 1;
                let post = Post::from_json(&format!(
                    r#"{{"source":"x","id":"{}","text":"{brand} çekmiyor"}}"#,
                    self.next_post
                ))
                .unwrap();
                let entry = keywords().brands.into_iter().find(|b| b.name == brand);
                let mut hit = BrandHit::exact_for_tests(brand, None, brand);
                if let Some(entry) = entry {
                    hit.team = entry.team.as_deref().map(std::sync::Arc::from);
                    hit.severity = entry.severity;
                    hit.competitor = entry.competitor_of.is_some();
                }
                MatchedPost {
                    post,
                    sentiment: Sentiment::Negative,
                    sentiment_score: 0.0,
                    hits: vec![hit],
                }
            })
            .collect();
        commit_matched(&mut self.store, &self.router, posts, now);
    }

    /// Sends everything due at `now` (renders and marks delivered), returning how
    /// many hits each message held.
    fn send_due(&self, now: DateTime<Utc>) -> Vec<usize> {
        let now_ms = unix_millis(now);
        let mut sent = Vec::new();
        for delivery in self
            .store
            .due_deliveries(&"hook".into(), now_ms, 100)
            .unwrap()
        {
            let (_, total) = self.store.delivery_hits(&delivery.id, 10).unwrap();
            self.store
                .freeze_payload(&delivery.id, "body", now_ms)
                .unwrap();
            self.store.mark_delivered(&delivery.id, now_ms).unwrap();
            sent.push(total);
        }
        sent
    }
}

fn secs(n: i64) -> chrono::Duration {
    chrono::Duration::seconds(n)
}

#[test]
fn a_burst_waits_for_group_wait_then_later_hits_wait_for_group_interval() {
    let mut timeline = Timeline::new(vec![route(&["hook"])]);
    timeline.hits("Turkcell", 2, t0());
    timeline.hits("Turkcell", 3, t0() + secs(10));
    assert!(
        timeline.send_due(t0() + secs(29)).is_empty(),
        "group_wait holds"
    );
    assert_eq!(
        timeline.send_due(t0() + secs(30)),
        [5],
        "one message with all five"
    );

    timeline.hits("Turkcell", 1, t0() + secs(40));
    assert!(
        timeline.send_due(t0() + secs(329)).is_empty(),
        "group_interval holds"
    );
    assert_eq!(timeline.send_due(t0() + secs(330)), [1]);

    // 500 complaints in a minute become a handful of messages.
    let start = t0() + secs(1000);
    let mut messages = 0;
    for second in 0..60 {
        timeline.hits("Turkcell", 9, start + secs(second));
        messages += timeline.send_due(start + secs(second)).len();
    }
    messages += timeline.send_due(start + secs(400)).len();
    assert!(messages <= 2, "{messages} messages");
}

#[test]
fn an_urgent_hit_brings_its_open_group_forward() {
    let mut timeline = Timeline::new(vec![RouteConfig {
        group_by: vec![GroupLabel::Team],
        ..route(&["hook"])
    }]);
    timeline.hits("Turkcell", 2, t0());
    timeline.hits("THY", 1, t0() + secs(5));
    assert_eq!(
        timeline.send_due(t0() + secs(5)),
        [1],
        "THY's team group goes at once, Turkcell's keeps waiting"
    );
    assert_eq!(timeline.send_due(t0() + secs(30)), [2]);

    let mut same_group = Timeline::new(vec![RouteConfig {
        group_by: vec![GroupLabel::Competitor],
        ..route(&["hook"])
    }]);
    same_group.hits("Turkcell", 2, t0());
    same_group.hits("THY", 1, t0() + secs(5));
    assert_eq!(
        same_group.send_due(t0() + secs(5)),
        [3],
        "the urgent hit takes the waiting ones with it"
    );
}

#[test]
fn hits_held_in_quiet_hours_go_out_as_one_digest_when_they_end() {
    let quiet = QuietHours::parse("22:00-08:00", chrono_tz::Europe::Istanbul).unwrap();
    let mut timeline = Timeline::new(vec![RouteConfig {
        quiet_hours: Some(quiet),
        ..route(&["hook"])
    }]);
    let night = Utc.with_ymd_and_hms(2026, 11, 21, 20, 0, 0).unwrap();
    for hour in 0..8 {
        timeline.hits("Turkcell", 2, night + chrono::Duration::hours(hour));
        assert!(
            timeline
                .send_due(night + chrono::Duration::hours(hour) + secs(60))
                .is_empty()
        );
    }
    timeline.hits("THY", 1, night + secs(90));
    assert_eq!(
        timeline.send_due(night + secs(90)),
        [1],
        "urgent goes at once"
    );
    let morning = Utc.with_ymd_and_hms(2026, 11, 22, 5, 0, 0).unwrap();
    assert_eq!(timeline.send_due(morning - secs(1)), Vec::<usize>::new());
    assert_eq!(timeline.send_due(morning), [16], "one digest of the night");
}

#[test]
fn escalations_are_grouped_like_mentions_each_message_about_its_own_brand() {
    let router = Router::new(vec![RouteConfig {
        escalate_to: vec!["pager".into()],
        ..route(&["hook"])
    }]);
    let open = |id: i64, brand: &str| {
        let routed = stored(id, "x", brand, 0);
        OpenHit {
            hit_id: HitId(id),
            key: routed.key,
            labels: routed.labels,
            detected_at: t0(),
        }
    };
    let hits = [open(1, "Turkcell"), open(2, "THY"), open(3, "Turkcell")];
    let (escalations, overdue) = router.plan_escalations(&hits, t0() + secs(3600));
    assert_eq!(overdue, [HitId(1), HitId(2), HitId(3)]);
    assert_eq!(
        escalations.len(),
        2,
        "one message per brand, as `group_by` says"
    );
    let by_hits: Vec<Vec<HitId>> = escalations.iter().map(|e| e.hit_ids.clone()).collect();
    assert!(by_hits.contains(&vec![HitId(2)]), "THY alone: {by_hits:?}");
    assert!(
        by_hits.contains(&vec![HitId(1), HitId(3)]),
        "Turkcell together: {by_hits:?}"
    );
    let (again, _) = router.plan_escalations(&hits, t0() + secs(3600));
    assert_eq!(
        again.iter().map(|e| &e.id).collect::<Vec<_>>(),
        escalations.iter().map(|e| &e.id).collect::<Vec<_>>(),
        "same hits, same ids"
    );
}

#[test]
fn programs_get_every_hit_in_messages_of_their_size() {
    let router = Router::new(vec![RouteConfig {
        max_hits: 3,
        ..route(&["hook", "slack"])
    }])
    .carrying_every_hit(HashMap::from([("hook".into(), 100)]));
    let hits: Vec<RoutedHit> = (1..=30).map(|id| stored(id, "x", "Turkcell", 0)).collect();
    let plan = plan_fresh(&router, &hits, t0());
    let hook = plan.iter().find(|d| d.receiver == "hook").unwrap();
    let slack = plan.iter().find(|d| d.receiver == "slack").unwrap();
    assert!(hook.split && hook.max_hits == 100 && hook.hits.len() == 30);
    assert!(
        !slack.split && slack.max_hits == 3,
        "people keep \"and N more\""
    );
    // With a message of the group still open, a program's plan is due with it: parts of
    // a full message go out together, not a group interval later; people's messages
    // keep the interval.
    let open_due = t0() + secs(20);
    let history: HashMap<GroupRef, GroupHistory> = plan
        .iter()
        .map(|d| {
            let group = GroupRef {
                receiver: d.receiver.clone(),
                group_key: d.group_key.clone(),
            };
            let known = GroupHistory {
                last_sent: None,
                open_due: Some(open_due),
            };
            (group, known)
        })
        .collect();
    let later = router.plan(&hits, &history, t0() + secs(10));
    let due = |name: &str| later.iter().find(|d| d.receiver == name).unwrap().due_at;
    assert_eq!(due("hook"), open_due);
    assert_eq!(due("slack"), open_due + secs(300));
}

#[test]
fn priority_adds_log_reach_engagement_and_a_complaint() {
    let engagement = |likes, reposts, replies, quotes, score| Engagement {
        likes: Some(likes),
        reposts: Some(reposts),
        replies: Some(replies),
        quotes: Some(quotes),
        score: Some(score),
    };
    let table: &[(Option<u64>, Option<Engagement>, Sentiment, u64)] = &[
        (None, None, Sentiment::Neutral, 0),
        (Some(9), None, Sentiment::Neutral, 10),
        (Some(999), None, Sentiment::Positive, 30),
        (Some(99_999), None, Sentiment::Neutral, 50),
        // Reach stops at 50.
        (Some(50_000_000), None, Sentiment::Neutral, 50),
        (
            None,
            Some(engagement(9, 0, 0, 0, 0)),
            Sentiment::Neutral,
            10,
        ),
        // Reposts and quotes count twice: 40 + 2 × (20 + 10) + 19 = 119 → 20.
        (
            None,
            Some(engagement(40, 20, 19, 10, 0)),
            Sentiment::Neutral,
            20,
        ),
        // Reddit and Hacker News: the score alone; engagement stops at 30.
        (
            None,
            Some(Engagement {
                score: Some(1_000_000),
                ..Engagement::default()
            }),
            Sentiment::Neutral,
            30,
        ),
        (None, None, Sentiment::Negative, 20),
        (
            Some(999),
            Some(engagement(99, 0, 0, 0, 0)),
            Sentiment::Negative,
            70,
        ),
        (
            Some(u64::MAX),
            Some(engagement(u64::MAX, u64::MAX, u64::MAX, u64::MAX, u64::MAX)),
            Sentiment::Negative,
            100,
        ),
    ];
    for (followers, engagement, sentiment, expected) in table {
        assert_eq!(
            priority(*followers, engagement.as_ref(), *sentiment),
            *expected,
            "{followers:?} {engagement:?} {sentiment:?}"
        );
    }
    let post = Post::from_json(
        r#"{"source":"x","id":"1","author":{"followers":999},"text":"t","engagement":{"likes":99}}"#,
    )
    .unwrap();
    assert_eq!(post_priority(&post, Sentiment::Neutral), 50);
}

#[test]
fn min_priority_routes_take_hits_from_the_score() {
    let router = Router::new(vec![
        RouteConfig {
            min_priority: Some(60),
            ..route(&["vip"])
        },
        route(&["file"]),
    ]);
    let hit = |json: &str| {
        let post = Post::from_json(json).unwrap();
        labelled(&post, "Turkcell")
    };
    // 10k followers (40) and a complaint (20).
    let loud =
        hit(r#"{"source":"x","id":"1","author":{"followers":10000},"text":"Turkcell çekmiyor"}"#);
    assert_eq!(loud.labels.priority, 60);
    assert_eq!(router.receivers_for(&loud.labels), ["vip"]);
    // The same reach, praise: 40.
    let calm =
        hit(r#"{"source":"x","id":"2","author":{"followers":10000},"text":"Turkcell harika"}"#);
    assert_eq!(router.receivers_for(&calm.labels), ["file"]);
    // Few followers, but the post took off: 10 + 30 + 20.
    let viral = hit(
        r#"{"source":"x","id":"3","author":{"followers":9},"text":"Turkcell çekmiyor","engagement":{"likes":500,"reposts":300}}"#,
    );
    assert_eq!(router.receivers_for(&viral.labels), ["vip"]);
}

#[test]
fn competitor_hits_go_only_to_routes_that_name_them() {
    let plain = Router::new(vec![
        RouteConfig {
            sentiment: Some(Sentiment::Negative),
            ..route(&["complaints"])
        },
        RouteConfig {
            team: Some("care".into()),
            ..route(&["care-slack"])
        },
        route(&["file"]),
    ]);
    let vodafone = stored(1, "x", "Vodafone", 1_000_000);
    assert!(vodafone.labels.competitor);
    assert!(plain.receivers_for(&vodafone.labels).is_empty());
    assert!(plan_fresh(&plain, std::slice::from_ref(&vodafone), t0()).is_empty());
    // Named by `competitor = true` or by its brand, it is taken.
    for named in [
        RouteConfig {
            competitor: Some(true),
            ..route(&["intel"])
        },
        RouteConfig {
            brand: Some("Vodafone".into()),
            ..route(&["intel"])
        },
    ] {
        let router = Router::new(vec![named, route(&["file"])]);
        assert_eq!(router.receivers_for(&vodafone.labels), ["intel"]);
    }
    // Own brands are untouched.
    assert_eq!(
        plain.receivers_for(&stored(2, "x", "Turkcell", 0).labels),
        ["complaints"]
    );
}

#[test]
fn surges_go_to_surge_routes_and_default_routes_and_mentions_skip_surge_routes() {
    let router = Router::new(vec![
        RouteConfig {
            kind: Some(RouteKind::Surge),
            brand: Some("THY".into()),
            ..route(&["thy-pager"])
        },
        RouteConfig {
            kind: Some(RouteKind::Surge),
            competitor: Some(true),
            continue_matching: true,
            ..route(&["intel"])
        },
        RouteConfig {
            team: Some("care".into()),
            ..route(&["care-slack"])
        },
        route(&["file"]),
    ]);
    let labels = |brand: &str| stored(1, "x", brand, 0).labels;
    assert_eq!(router.surge_receivers(&labels("THY")), ["thy-pager"]);
    assert_eq!(router.surge_receivers(&labels("Turkcell")), ["file"]);
    assert_eq!(
        router.surge_receivers(&labels("Vodafone")),
        ["intel"],
        "a competitor's surge needs a route naming it"
    );
    // A mention never takes a surge-only route.
    assert_eq!(router.receivers_for(&labels("THY")), ["file"]);
    assert_eq!(router.receivers_for(&labels("Turkcell")), ["care-slack"]);
    assert!(router.receivers_for(&labels("Vodafone")).is_empty());
    assert!(RouteKind::parse("surge").is_ok() && RouteKind::parse("fire").is_err());
}
