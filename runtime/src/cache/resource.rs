//! The cache of one resource (one key prefix): its current objects, a
//! bounded window of its recent events, and the watchers they go to.

use std::collections::{BTreeMap, VecDeque};
use std::sync::{Arc, RwLock, RwLockReadGuard, RwLockWriteGuard};

use tokio::sync::{mpsc, watch};

use super::list::Retained;
use super::object::{CachedEvent, CachedObject};
use super::{Progress, Settings};
use crate::storage::{Event, EventKind, KeyValue, Revision};

/// A resource's cached objects by key.
pub type Objects = BTreeMap<String, Arc<CachedObject>>;

/// Decodes stored keys into `objects`; an object that does not decode is
/// left out with a warning, as one bad value must not keep a resource from
/// being served.
pub(super) fn decode_into(objects: &mut Objects, kvs: Vec<KeyValue>) {
    for kv in kvs {
        match CachedObject::decode(kv.key.clone(), &kv.value, kv.mod_revision) {
            Ok(object) => {
                objects.insert(kv.key, Arc::new(object));
            }
            Err(error) => {
                tracing::warn!(key = %kv.key, %error, "skipping an undecodable object")
            }
        }
    }
}

/// The objects and recent events of one resource, kept current by the
/// cache set's storage watch.
pub struct ResourceCache {
    prefix: String,
    settings: Settings,
    state: RwLock<State>,
    /// Where the storage watch has got to, over all resources.
    progress: watch::Receiver<Progress>,
    phase: watch::Sender<Phase>,
    retained: Retained,
}

/// Whether a cache can serve.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Phase {
    /// Its first read of storage is under way.
    Filling,
    Ready,
    /// Its storage watch ended; it is no longer kept current.
    Ended,
}

#[derive(Default)]
struct State {
    /// Storage events that arrived while the first read was under way.
    pending: Vec<Event>,
    objects: Objects,
    /// The revision of the last change applied (or of the first read).
    revision: Revision,
    window: VecDeque<Arc<CachedEvent>>,
    /// Every event after this revision is in the window.
    window_start: Revision,
    watchers: Vec<mpsc::Sender<Arc<CachedEvent>>>,
}

/// Where a new watcher starts.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Start {
    /// From the current objects (which it may be sent first), then every
    /// later change.
    Now,
    /// With every change after this revision.
    After(Revision),
}

/// A registered watcher: what it is sent first, then its live events.
pub struct Subscription {
    /// The revision the watcher starts at: that of `objects` for [`Start::Now`].
    pub revision: Revision,
    /// The current objects, in key order, for [`Start::Now`].
    pub objects: Vec<Arc<CachedObject>>,
    /// Events from the window, for [`Start::After`].
    pub replay: Vec<Arc<CachedEvent>>,
    /// Events as they happen; closed when the watcher falls too far behind
    /// or the cache ends.
    pub live: mpsc::Receiver<Arc<CachedEvent>>,
}

/// A watch from a revision older than the window.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Expired {
    pub requested: Revision,
    /// The oldest revision a watch can still start after.
    pub oldest: Revision,
}

/// A consistent view of some of the current objects.
pub struct Snapshot {
    pub revision: Revision,
    /// In key order.
    pub objects: Vec<Arc<CachedObject>>,
}

impl ResourceCache {
    pub(super) fn new(
        prefix: String,
        settings: Settings,
        progress: watch::Receiver<Progress>,
    ) -> ResourceCache {
        ResourceCache {
            prefix,
            settings,
            state: RwLock::new(State::default()),
            progress,
            phase: watch::Sender::new(Phase::Filling),
            retained: Retained::default(),
        }
    }

    /// The key prefix it caches (`/registry/pods/`).
    pub fn prefix(&self) -> &str {
        &self.prefix
    }

    /// Snapshots kept for the continue pages of paged lists.
    pub fn retained(&self) -> &Retained {
        &self.retained
    }

    /// Waits until the first read is done; `false` if the cache ended.
    pub async fn ready(&self) -> bool {
        let mut phase = self.phase.subscribe();
        matches!(
            phase.wait_for(|p| *p != Phase::Filling).await.as_deref(),
            Ok(Phase::Ready)
        )
    }

    /// Takes the result of the first read (the prefix at `revision`) and
    /// the events that arrived meanwhile.
    pub(super) fn fill(&self, objects: Objects, revision: Revision) {
        let mut state = self.write();
        state.objects = objects;
        state.revision = revision;
        state.window_start = revision;
        for event in std::mem::take(&mut state.pending) {
            if event.revision() > revision {
                apply(&mut state, &self.settings, event);
            }
        }
        // Still locked, so that no event can slip between the pending ones
        // and the first applied directly.
        self.phase.send_if_modified(|p| {
            let filling = *p == Phase::Filling;
            if filling {
                *p = Phase::Ready;
            }
            filling
        });
    }

    /// Applies one storage event under the prefix and sends it to every
    /// watcher; a watcher whose buffer is full is dropped.
    pub(super) fn apply(&self, event: Event) {
        let mut state = self.write();
        match *self.phase.borrow() {
            Phase::Filling => state.pending.push(event),
            Phase::Ready => apply(&mut state, &self.settings, event),
            Phase::Ended => {}
        }
    }

    /// Stops the cache: its watchers' streams end, so that their clients
    /// watch again (and re-list if they are too far behind).
    pub(super) fn end(&self) {
        let mut state = self.write();
        self.phase.send_replace(Phase::Ended);
        state.watchers.clear();
    }

    /// Registers a watcher starting at `start`.
    pub fn subscribe(&self, start: Start) -> Result<Subscription, Expired> {
        let (sender, live) = mpsc::channel(self.settings.watcher_buffer);
        let mut state = self.write();
        let revision = self.revision(&state);
        let subscription = match start {
            Start::Now => Subscription {
                revision,
                objects: state.objects.values().cloned().collect(),
                replay: Vec::new(),
                live,
            },
            Start::After(requested) => {
                if requested < state.window_start {
                    return Err(Expired {
                        requested,
                        oldest: state.window_start,
                    });
                }
                Subscription {
                    revision: requested,
                    objects: Vec::new(),
                    replay: state
                        .window
                        .iter()
                        .filter(|e| e.revision > requested)
                        .cloned()
                        .collect(),
                    live,
                }
            }
        };
        if *self.phase.borrow() == Phase::Ready {
            state.watchers.push(sender);
        }
        Ok(subscription)
    }

    /// The objects whose keys start with `prefix` (the cached prefix or a
    /// namespace within it) and the revision they are current at.
    pub fn snapshot(&self, prefix: &str) -> Snapshot {
        let state = self.read();
        let objects = state
            .objects
            .range(prefix.to_owned()..)
            .take_while(|(key, _)| key.starts_with(prefix))
            .map(|(_, object)| object.clone())
            .collect();
        Snapshot {
            revision: self.revision(&state),
            objects,
        }
    }

    /// The revision a bookmark may carry for a watcher that has taken
    /// every event from `live`; `None` while events wait there.
    pub fn bookmark_revision(&self, live: &mpsc::Receiver<Arc<CachedEvent>>) -> Option<Revision> {
        let state = self.read();
        live.is_empty().then(|| self.revision(&state))
    }

    /// The revision the cache is current at: its last change, or later if
    /// the storage watch has passed changes of other resources since.
    /// Called with the state locked, so no change of this resource is
    /// half applied.
    fn revision(&self, state: &State) -> Revision {
        state.revision.max(self.progress.borrow().revision)
    }

    fn read(&self) -> RwLockReadGuard<'_, State> {
        self.state.read().unwrap_or_else(|e| e.into_inner())
    }

    fn write(&self) -> RwLockWriteGuard<'_, State> {
        self.state.write().unwrap_or_else(|e| e.into_inner())
    }
}

fn apply(state: &mut State, settings: &Settings, event: Event) {
    let revision = event.revision();
    let key = event.kv.key.clone();
    let prev = state.objects.get(&key).cloned().or_else(|| {
        let kv = event.prev.as_ref()?;
        CachedObject::decode(key.clone(), &kv.value, kv.mod_revision)
            .ok()
            .map(Arc::new)
    });
    let cached = match event.kind {
        EventKind::Put => match CachedObject::decode(key.clone(), &event.kv.value, revision) {
            Ok(object) => {
                let object = Arc::new(object);
                state.objects.insert(key, object.clone());
                CachedEvent::new(revision, false, object, prev)
            }
            Err(error) => {
                tracing::warn!(%key, %error, "skipping an undecodable object");
                state.revision = revision;
                return;
            }
        },
        EventKind::Deleted => {
            state.objects.remove(&key);
            let Some(prev) = prev else {
                state.revision = revision;
                return;
            };
            CachedEvent::new(revision, true, Arc::new(prev.at(revision)), Some(prev))
        }
    };
    let cached = Arc::new(cached);
    state.revision = revision;
    state.window.push_back(cached.clone());
    while state.window.len() > settings.window.max(1) {
        state.window.pop_front();
        // As upstream: a watch may start just before the oldest event kept.
        if let Some(oldest) = state.window.front() {
            state.window_start = Revision(oldest.revision.0 - 1);
        }
    }
    state
        .watchers
        .retain(|watcher| watcher.try_send(cached.clone()).is_ok());
}
