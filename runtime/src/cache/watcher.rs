//! One HTTP watcher over a resource cache: its subscription turned into
//! event lines, filtered by its selectors, with bookmarks, until its
//! timeout. The lines themselves are encoded once and shared (see
//! [`super::object`]).

use std::collections::VecDeque;
use std::pin::Pin;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::StreamExt;
use futures::stream::BoxStream;
use serde_json::{Value, json};
use tokio::sync::mpsc;
use tokio::time::{Instant, Sleep};

use super::object::{CachedEvent, CachedObject, Form, event_line};
use super::resource::{ResourceCache, Subscription};
use crate::printers::IncludeObject;
use crate::registry::Endpoint;
use crate::registry::object::api_version;
use crate::registry::store::Filter;
use crate::status::ApiError;
use crate::storage::Revision;

/// The annotation of the bookmark that ends a watch's initial events.
pub const INITIAL_EVENTS_END: &str = "k8s.io/initial-events-end";

/// How one watcher wants its events.
#[derive(Clone)]
pub struct WatchOptions {
    pub endpoint: Endpoint,
    /// The keys watched: the resource's, or one namespace's.
    pub prefix: String,
    pub filter: Option<Filter>,
    /// One-row Tables instead of objects (`kubectl get -w`).
    pub tables: Option<IncludeObject>,
    /// Send the current objects first (from a [`super::Start::Now`]
    /// subscription).
    pub initial_events: bool,
    /// Periodic BOOKMARK events (`allowWatchBookmarks=true`), and the one
    /// that ends the initial events of `sendInitialEvents=true`.
    pub bookmarks: bool,
    /// Whether the initial events end with a bookmark (`sendInitialEvents=true`).
    pub initial_events_end: bool,
    pub timeout: Duration,
    pub bookmark_interval: Duration,
}

/// Upstream sends a watcher's last bookmark this long before its timeout.
const BOOKMARK_BEFORE_END: Duration = Duration::from_secs(2);

/// The event lines of one watch.
pub fn stream(
    cache: Arc<ResourceCache>,
    subscription: Subscription,
    options: WatchOptions,
) -> BoxStream<'static, Bytes> {
    let now = Instant::now();
    let deadline = now + options.timeout;
    let watcher = Watcher {
        cache,
        initial: if options.initial_events {
            subscription.objects.into()
        } else {
            VecDeque::new()
        },
        initial_end: (options.initial_events_end && options.bookmarks)
            .then_some(subscription.revision),
        replay: subscription.replay.into(),
        after: subscription.revision,
        live: subscription.live,
        headers_sent: false,
        bookmark_timer: options
            .bookmarks
            .then(|| next_bookmark(now, deadline, options.bookmark_interval))
            .flatten()
            .map(|at| Box::pin(tokio::time::sleep_until(at))),
        bookmark_due: false,
        deadline,
        end_timer: Box::pin(tokio::time::sleep_until(deadline)),
        options,
    };
    futures::stream::unfold(watcher, |mut watcher| async move {
        let line = watcher.next().await?;
        Some((line, watcher))
    })
    .boxed()
}

/// The ERROR event a watch ends with.
pub fn error_line(error: &ApiError) -> Bytes {
    event_line("ERROR", &error.to_status())
}

struct Watcher {
    cache: Arc<ResourceCache>,
    options: WatchOptions,
    initial: VecDeque<Arc<CachedObject>>,
    /// The revision of the bookmark that ends the initial events.
    initial_end: Option<Revision>,
    replay: VecDeque<Arc<CachedEvent>>,
    /// Live events up to this revision were covered by what came first.
    after: Revision,
    live: mpsc::Receiver<Arc<CachedEvent>>,
    headers_sent: bool,
    /// When the next periodic bookmark is due. The timers are kept, not
    /// made anew for every event: thousands of watchers wait on them.
    bookmark_timer: Option<Pin<Box<Sleep>>>,
    bookmark_due: bool,
    deadline: Instant,
    end_timer: Pin<Box<Sleep>>,
}

impl Watcher {
    async fn next(&mut self) -> Option<Bytes> {
        loop {
            if let Some(object) = self.initial.pop_front() {
                match self.initial_line(&object) {
                    Ok(Some(line)) => return Some(line),
                    Ok(None) => continue,
                    Err(error) => return Some(error_line(&error)),
                }
            }
            if let Some(revision) = self.initial_end.take() {
                return Some(self.bookmark(revision, true));
            }
            if let Some(event) = self.replay.pop_front() {
                match self.event(&event) {
                    Ok(Some(line)) => return Some(line),
                    Ok(None) => continue,
                    Err(error) => return Some(error_line(&error)),
                }
            }
            if self.bookmark_due
                && let Some(revision) = self.cache.bookmark_revision(&self.live)
            {
                self.bookmark_due = false;
                return Some(self.bookmark(revision, false));
            }
            tokio::select! {
                _ = self.end_timer.as_mut() => return None,
                event = self.live.recv() => {
                    let event = event?;
                    if event.revision <= self.after {
                        continue;
                    }
                    match self.event(&event) {
                        Ok(Some(line)) => return Some(line),
                        Ok(None) => {}
                        Err(error) => return Some(error_line(&error)),
                    }
                }
                _ = wait_timer(&mut self.bookmark_timer) => {
                    self.bookmark_due = true;
                    let next = next_bookmark(
                        Instant::now(),
                        self.deadline,
                        self.options.bookmark_interval,
                    );
                    match (next, &mut self.bookmark_timer) {
                        (Some(at), Some(timer)) => timer.as_mut().reset(at),
                        _ => self.bookmark_timer = None,
                    }
                }
            }
        }
    }

    /// The line of a change, if it concerns this watcher; shared with
    /// every other watcher that gets the same form of it.
    fn event(&mut self, event: &CachedEvent) -> Result<Option<Bytes>, ApiError> {
        let now = self.matches(&event.object)?;
        let before = match &event.prev {
            Some(prev) => Some(self.matches(prev)?),
            None => None,
        };
        match event_type(event.deleted, before, now) {
            Some(kind) => {
                let form = self.form(kind);
                event.line(self.options.endpoint, form).map(Some)
            }
            None => Ok(None),
        }
    }

    /// The ADDED line of a current object sent first, or `None` if the
    /// watcher's selectors do not take it.
    fn initial_line(&mut self, object: &CachedObject) -> Result<Option<Bytes>, ApiError> {
        if !self.matches(object)? {
            return Ok(None);
        }
        let form = self.form("ADDED");
        object.encoded(self.options.endpoint, form, false).map(Some)
    }

    /// How this watcher's next event of type `kind` is written.
    fn form(&mut self, kind: &'static str) -> Form {
        match self.options.tables {
            None => Form::Event(kind),
            Some(include) => Form::TableEvent {
                kind,
                include,
                headers: !std::mem::replace(&mut self.headers_sent, true),
            },
        }
    }

    fn matches(&self, object: &CachedObject) -> Result<bool, ApiError> {
        if !object.key.starts_with(&self.options.prefix) {
            return Ok(false);
        }
        match &self.options.filter {
            None => Ok(true),
            Some(filter) => object.selected_by(self.options.endpoint, &**filter),
        }
    }

    fn bookmark(&self, revision: Revision, initial_end: bool) -> Bytes {
        let served = self.options.endpoint.served;
        let mut metadata = json!({"resourceVersion": revision.to_string()});
        if initial_end {
            metadata["annotations"] = json!({INITIAL_EVENTS_END: "true"});
        }
        let object: Value = json!({
            "kind": served.kind,
            "apiVersion": api_version(served.group, served.version),
            "metadata": metadata,
        });
        event_line("BOOKMARK", &object)
    }
}

/// The type of event a watcher sees for a change, given whether its
/// selectors took the object before (`None`: it did not exist) and after:
/// objects entering the selection are ADDED, leaving it DELETED.
pub fn event_type(deleted: bool, before: Option<bool>, now: bool) -> Option<&'static str> {
    if deleted {
        return now.then_some("DELETED");
    }
    match (before, now) {
        (None | Some(false), true) => Some("ADDED"),
        (Some(true), true) => Some("MODIFIED"),
        (Some(true), false) => Some("DELETED"),
        (_, false) => None,
    }
}

/// When the next periodic bookmark is due: an interval from now, or just
/// before the watch ends if that is sooner and still ahead.
fn next_bookmark(now: Instant, deadline: Instant, interval: Duration) -> Option<Instant> {
    let periodic = now + interval;
    let last = deadline
        .checked_sub(BOOKMARK_BEFORE_END)
        .filter(|t| *t > now);
    match last {
        Some(last) if last < periodic => Some(last),
        _ => (periodic < deadline).then_some(periodic),
    }
}

async fn wait_timer(timer: &mut Option<Pin<Box<Sleep>>>) {
    match timer {
        Some(timer) => timer.as_mut().await,
        None => std::future::pending().await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selection_changes_are_added_and_deleted_events() {
        assert_eq!(event_type(false, None, true), Some("ADDED"));
        assert_eq!(event_type(false, Some(false), true), Some("ADDED"));
        assert_eq!(event_type(false, Some(true), true), Some("MODIFIED"));
        assert_eq!(event_type(false, Some(true), false), Some("DELETED"));
        assert_eq!(event_type(false, Some(false), false), None);
        assert_eq!(event_type(true, Some(true), true), Some("DELETED"));
        assert_eq!(event_type(true, Some(false), false), None);
    }

    #[test]
    fn bookmarks_come_periodically_and_once_just_before_the_end() {
        let now = Instant::now();
        let minute = Duration::from_secs(60);
        let long = now + Duration::from_secs(3600);
        assert_eq!(next_bookmark(now, long, minute), Some(now + minute));
        let short = now + Duration::from_secs(5);
        assert_eq!(
            next_bookmark(now, short, minute),
            Some(now + Duration::from_secs(3))
        );
        let past_last = now + Duration::from_secs(1);
        assert_eq!(next_bookmark(now, past_last, minute), None);
    }
}
