//! Content listings (steps, applications, configurations) for both
//! transports: pages in name order narrowed by a search text, each item
//! with the SyncPack that owns it, and for applications what the
//! Integrations page shows beside each: its newest run and its schedules.
//!
//! The cost of a page follows the page: the search reads the listing's
//! maps in memory, the owner is a lookup in the activated packs, the
//! schedules one pass over the schedules, and the newest run one index
//! lookup per application (`ContentHandle::newest_runs`), never a walk
//! through the history of runs.

use std::collections::{BTreeMap, HashMap};
use std::ops::Bound;

use is_proto::v1 as pb;

use super::views::{self, secs};
use super::{ApiError, Service};
use crate::engine::schedule::next_fire;
use crate::model::syncpack::ContentKind;
use crate::store::handle::RunHead;
use crate::store::Content;

/// A page of a listing in name order: up to `limit` items (all when None)
/// whose names come after `after` and that `search` finds.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct NamePage {
    pub after: Option<String>,
    pub limit: Option<usize>,
    /// A piece of the name, friendly name or description, in any case.
    pub search: Option<String>,
}

/// What a search looks for: the text in lower case, matched against the
/// lower-cased name, friendly name and description of an item.
pub struct Search(String);

impl Search {
    /// None for an absent or blank search, which finds everything.
    pub fn new(text: Option<&str>) -> Option<Search> {
        text.map(str::trim)
            .filter(|t| !t.is_empty())
            .map(|t| Search(t.to_lowercase()))
    }

    pub fn finds(&self, item: &pb::ContentSummary) -> bool {
        [
            Some(item.name.as_str()),
            item.friendly_name.as_deref(),
            item.description.as_deref(),
        ]
        .into_iter()
        .flatten()
        .any(|text| text.to_lowercase().contains(&self.0))
    }
}

impl NamePage {
    /// The page of `items`, each shown by `view`. A page holds `limit`
    /// items the search finds; `next_cursor` is set only when another one
    /// follows, so the last page never points to an empty one.
    pub fn of<V>(
        &self,
        items: &BTreeMap<String, V>,
        view: impl Fn(&V) -> pb::ContentSummary,
    ) -> pb::ContentList {
        let from = match &self.after {
            Some(a) => Bound::Excluded(a.clone()),
            None => Bound::Unbounded,
        };
        let search = Search::new(self.search.as_deref());
        let mut found = items
            .range::<String, _>((from, Bound::Unbounded))
            .map(|(_, v)| view(v))
            .filter(|item| search.as_ref().is_none_or(|s| s.finds(item)));
        let page: Vec<pb::ContentSummary> = found.by_ref().take(self.limit.unwrap_or(usize::MAX)).collect();
        let next_cursor = match found.next() {
            Some(_) => page.last().map(|i| i.name.clone()),
            None => None,
        };
        pb::ContentList {
            items: page,
            next_cursor,
        }
    }
}

/// Sets each item's `syncpack`: the activated pack that owns it.
fn with_owners(content: &Content, kind: ContentKind, mut list: pb::ContentList) -> pb::ContentList {
    for item in &mut list.items {
        item.syncpack = content
            .owner_of(kind, &item.name)
            .map(|(pack, _)| pack.to_string());
    }
    list
}

/// The schedules of the applications of `list`, by application, in id order.
fn schedules_of(content: &Content, list: &pb::ContentList) -> HashMap<String, Vec<pb::ScheduleBrief>> {
    let mut by_app: HashMap<String, Vec<pb::ScheduleBrief>> =
        list.items.iter().map(|i| (i.name.clone(), Vec::new())).collect();
    for s in content.schedules.values() {
        if let Some(briefs) = by_app.get_mut(&s.application_id) {
            briefs.push(pb::ScheduleBrief {
                id: s.id.clone(),
                entry_id: s.entry_id.clone(),
                enabled: s.enabled,
                next_fire: next_fire(s).map(secs),
            });
        }
    }
    by_app
}

pub fn run_brief(head: RunHead) -> pb::RunBrief {
    pb::RunBrief {
        id: head.id,
        state: views::state(head.state),
        created_time: secs(head.created_ms),
        start_time: head.start_ms.map(secs),
        end_time: head.end_ms.map(secs),
    }
}

impl Service {
    pub fn list_steps(&self, page: &NamePage) -> pb::ContentList {
        let sm = self.inner.content.read();
        let list = page.of(&sm.content.steps, views::step_summary);
        with_owners(&sm.content, ContentKind::Step, list)
    }

    pub fn list_configurations(&self, page: &NamePage) -> pb::ContentList {
        let sm = self.inner.content.read();
        let list = page.of(&sm.content.configurations, |c| views::summary(&c.name, &c.doc));
        with_owners(&sm.content, ContentKind::Configuration, list)
    }

    /// A page of applications, each with its owner, its schedules and its
    /// newest run. The runs are read from the store on a blocking thread.
    pub async fn list_applications(&self, page: NamePage) -> Result<pb::ContentList, ApiError> {
        let svc = self.clone();
        tokio::task::spawn_blocking(move || {
            let (mut list, mut schedules) = {
                let sm = svc.inner.content.read();
                let list = page.of(&sm.content.applications, |a| views::summary(&a.name, &a.doc));
                let list = with_owners(&sm.content, ContentKind::Application, list);
                let schedules = schedules_of(&sm.content, &list);
                (list, schedules)
            };
            let names: Vec<&str> = list.items.iter().map(|i| i.name.as_str()).collect();
            let heads = svc.inner.content.newest_runs(&names)?;
            for (item, head) in list.items.iter_mut().zip(heads) {
                item.last_run = head.map(run_brief);
                item.schedules = schedules.remove(&item.name).unwrap_or_default();
            }
            Ok(list)
        })
        .await
        .map_err(|e| ApiError::Internal(format!("listing applications failed: {e}")))?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn item(name: &str, friendly: Option<&str>, description: Option<&str>) -> pb::ContentSummary {
        pb::ContentSummary {
            name: name.into(),
            friendly_name: friendly.map(Into::into),
            description: description.map(Into::into),
            ..Default::default()
        }
    }

    fn items() -> BTreeMap<String, pb::ContentSummary> {
        [
            item("alpha_sync", Some("Alpha Sync"), None),
            item("beta", Some("Ticket bridge"), Some("Copies SERVICENOW tickets")),
            item("gamma", None, Some("nothing to see")),
            item("servicenow_import", None, None),
            item("zeta", Some("Zeta"), Some("ServiceNow CMDB")),
        ]
        .into_iter()
        .map(|i| (i.name.clone(), i))
        .collect()
    }

    fn names(list: &pb::ContentList) -> Vec<&str> {
        list.items.iter().map(|i| i.name.as_str()).collect()
    }

    fn page(after: Option<&str>, limit: Option<usize>, search: Option<&str>) -> NamePage {
        NamePage {
            after: after.map(Into::into),
            limit,
            search: search.map(Into::into),
        }
    }

    #[test]
    fn a_search_finds_a_piece_of_the_name_friendly_name_or_description_in_any_case() {
        let all = items();
        let found = page(None, None, Some("ServiceNow")).of(&all, Clone::clone);
        assert_eq!(names(&found), ["beta", "servicenow_import", "zeta"]);
        assert_eq!(found.next_cursor, None);
        let found = page(None, None, Some("  alpha SYNC ")).of(&all, Clone::clone);
        assert_eq!(names(&found), ["alpha_sync"]);
        assert!(page(None, None, Some("absent"))
            .of(&all, Clone::clone)
            .items
            .is_empty());
        // A blank search finds everything.
        assert_eq!(page(None, None, Some(" ")).of(&all, Clone::clone).items.len(), 5);
    }

    #[test]
    fn pages_of_a_search_hold_limit_matches_and_end_without_an_empty_page() {
        let all = items();
        let first = page(None, Some(2), Some("servicenow")).of(&all, Clone::clone);
        assert_eq!(names(&first), ["beta", "servicenow_import"]);
        assert_eq!(first.next_cursor.as_deref(), Some("servicenow_import"));
        let second = page(first.next_cursor.as_deref(), Some(2), Some("servicenow")).of(&all, Clone::clone);
        assert_eq!(names(&second), ["zeta"]);
        assert_eq!(second.next_cursor, None);
        // Exactly `limit` matches left: no cursor to an empty page.
        let exact = page(Some("beta"), Some(2), Some("servicenow")).of(&all, Clone::clone);
        assert_eq!(names(&exact), ["servicenow_import", "zeta"]);
        assert_eq!(exact.next_cursor, None);
        // Without a search, pages are plain name pages.
        let plain = page(Some("beta"), Some(1), None).of(&all, Clone::clone);
        assert_eq!(names(&plain), ["gamma"]);
        assert_eq!(plain.next_cursor.as_deref(), Some("gamma"));
    }
}
