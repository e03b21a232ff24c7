//! Routes: which receivers a hit goes to, evaluated in order (first match wins unless
//! `continue = true`), and the planning of outbox rows for the hits of one batch. The
//! bodies are rendered later, at each row's first attempt. Pure: no I/O, no clock.

use std::collections::BTreeMap;

use sha2::{Digest, Sha256};

use crate::store::{NewDelivery, StoredHit};

/// A validated `[[routes]]` entry.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RouteConfig {
    /// Match hits of this team only.
    pub team: Option<String>,
    /// Match hits of this brand only.
    pub brand: Option<String>,
    /// Receivers for matching hits.
    pub receivers: Vec<String>,
    /// Keep evaluating later routes after a match.
    pub continue_matching: bool,
}

impl RouteConfig {
    /// A route without matchers takes every hit: the default route.
    pub fn is_catch_all(&self) -> bool {
        self.team.is_none() && self.brand.is_none()
    }

    fn matches(&self, brand: &str, team: Option<&str>) -> bool {
        self.brand.as_deref().is_none_or(|b| b == brand)
            && self.team.as_deref().is_none_or(|t| Some(t) == team)
    }
}

/// Resolves hits to receivers and plans their deliveries.
#[derive(Debug, Clone)]
pub struct Router {
    routes: Vec<RouteConfig>,
}

/// Hits shown in one message by default; the rest are counted ("and N more").
pub const DEFAULT_MAX_HITS: usize = 10;

impl Router {
    /// A router over validated routes.
    pub fn new(routes: Vec<RouteConfig>) -> Router {
        Router { routes }
    }

    /// Receivers for a hit of `brand` / `team`, without duplicates, in route order.
    pub fn receivers_for(&self, brand: &str, team: Option<&str>) -> Vec<&str> {
        let mut receivers: Vec<&str> = Vec::new();
        for route in &self.routes {
            if !route.matches(brand, team) {
                continue;
            }
            for receiver in &route.receivers {
                if !receivers.contains(&receiver.as_str()) {
                    receivers.push(receiver);
                }
            }
            if !route.continue_matching {
                break;
            }
        }
        receivers
    }

    /// One delivery per (brand, receiver) for the new hits of a batch.
    pub fn plan(&self, hits: &[StoredHit]) -> Vec<NewDelivery> {
        let mut groups: BTreeMap<(&str, &str), Vec<&StoredHit>> = BTreeMap::new();
        for hit in hits {
            for receiver in self.receivers_for(&hit.brand, hit.team.as_deref()) {
                groups
                    .entry((hit.brand.as_str(), receiver))
                    .or_default()
                    .push(hit);
            }
        }
        groups
            .into_iter()
            .map(|((brand, receiver), hits)| NewDelivery {
                id: delivery_id(receiver, brand, &hits),
                receiver: receiver.to_string(),
                hit_ids: hits.iter().map(|h| h.hit_id).collect(),
                group_key: format!("brand={brand}"),
                max_hits: DEFAULT_MAX_HITS,
            })
            .collect()
    }
}

/// `msg_` + hash of receiver, brand and the hits' natural keys: the same hits sent to
/// the same receiver always get the same id, even if a batch is replayed after a crash.
fn delivery_id(receiver: &str, brand: &str, hits: &[&StoredHit]) -> String {
    let mut keys: Vec<(&str, &str)> = hits
        .iter()
        .map(|h| (h.post.source.as_str(), h.post.id.as_str()))
        .collect();
    keys.sort_unstable();
    let mut hasher = Sha256::new();
    for part in [receiver, brand] {
        hasher.update(part.as_bytes());
        hasher.update([0]);
    }
    for (source, id) in keys {
        hasher.update(source.as_bytes());
        hasher.update([0]);
        hasher.update(id.as_bytes());
        hasher.update([0]);
    }
    let digest = hasher.finalize();
    let hex: String = digest[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("msg_{hex}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Post;

    fn route(team: Option<&str>, receivers: &[&str], cont: bool) -> RouteConfig {
        RouteConfig {
            team: team.map(str::to_string),
            brand: None,
            receivers: receivers.iter().map(|r| r.to_string()).collect(),
            continue_matching: cont,
        }
    }

    fn hit(id: i64, post_id: &str, brand: &str, team: &str) -> StoredHit {
        StoredHit {
            hit_id: id,
            post: Post::from_json(&format!(
                r#"{{"source":"x","id":"{post_id}","text":"{brand} <!channel>"}}"#
            ))
            .unwrap(),
            brand: brand.into(),
            team: Some(team.into()),
            matched: Vec::new(),
            author_earlier_hits: 2,
        }
    }

    #[test]
    fn first_match_wins_unless_continue() {
        let router = Router::new(vec![
            route(Some("care"), &["slack"], true),
            route(Some("care"), &["mail"], false),
            route(None, &["file"], false),
        ]);
        assert_eq!(
            router.receivers_for("Turkcell", Some("care")),
            ["slack", "mail"]
        );
        assert_eq!(router.receivers_for("THY", Some("thy")), ["file"]);
        assert_eq!(router.receivers_for("THY", None), ["file"]);
    }

    #[test]
    fn plan_groups_per_brand_and_receiver_with_stable_ids() {
        let router = Router::new(vec![route(None, &["hook", "file"], false)]);
        let hits = [
            hit(1, "a", "Turkcell", "care"),
            hit(2, "b", "Turkcell", "care"),
            hit(3, "c", "THY", "thy"),
        ];
        let plan = router.plan(&hits);
        assert_eq!(plan.len(), 4);
        let again = router.plan(&[hits[1].clone(), hits[0].clone(), hits[2].clone()]);
        let ids = |p: &[NewDelivery]| {
            let mut ids: Vec<_> = p.iter().map(|d| d.id.clone()).collect();
            ids.sort();
            ids
        };
        assert_eq!(ids(&plan), ids(&again), "ids do not depend on hit order");
        let turkcell_hook = plan
            .iter()
            .find(|d| d.receiver == "hook" && d.hit_ids == [1, 2])
            .unwrap();
        assert_eq!(turkcell_hook.group_key, "brand=Turkcell");
        assert_eq!(turkcell_hook.max_hits, DEFAULT_MAX_HITS);
        assert!(turkcell_hook.id.starts_with("msg_") && !turkcell_hook.id.contains('.'));
    }
}
