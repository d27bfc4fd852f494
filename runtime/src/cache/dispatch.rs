//! The one storage watch that keeps every resource cache current: it
//! watches all keys from the current revision, hands each event to the
//! cache of its resource, and records how far it got. When the watch ends
//! (an error, a compaction it fell behind) every cache ends and the watch
//! starts again from the then current revision.

use std::sync::{Arc, Weak};
use std::time::Duration;

use futures::StreamExt;

use super::{Progress, Shared};
use crate::registry::keys;
use crate::storage::{Event, Revision, Storage, StorageError, WatchStream};

/// Pause before watching again after a failure.
const RETRY: Duration = Duration::from_millis(500);

/// Runs until the caches are dropped.
pub(super) async fn run(shared: Weak<Shared>, storage: Arc<dyn Storage>) {
    loop {
        let started = match storage.current_revision().await {
            Ok(revision) => watch_all(&*storage, revision)
                .await
                .map(|events| (revision, events)),
            Err(error) => Err(error),
        };
        let (revision, mut events) = match started {
            Ok(started) => started,
            Err(error) => {
                tracing::warn!(%error, "starting the watch cache's storage watch");
                tokio::time::sleep(RETRY).await;
                continue;
            }
        };
        match shared.upgrade() {
            Some(shared) => shared.progress.send_replace(Progress {
                revision,
                running: true,
            }),
            None => return,
        };
        while let Some(item) = events.next().await {
            let Some(shared) = shared.upgrade() else {
                return;
            };
            match item {
                Ok(event) => shared.dispatch(event),
                Err(error) => {
                    tracing::warn!(%error, "the watch cache's storage watch ended; re-listing");
                    break;
                }
            }
        }
        let Some(shared) = shared.upgrade() else {
            return;
        };
        shared.reset();
        tokio::time::sleep(RETRY).await;
    }
}

/// Watches every key, so that the recorded progress reaches the storage's
/// current revision even when others write outside `/registry` (a shared
/// etcd) and consistent reads need not wait for a change of ours; upstream
/// asks etcd for progress notifications instead. Where only `/registry`
/// can be watched (etcd under `--etcd-prefix`), that.
async fn watch_all(storage: &dyn Storage, after: Revision) -> Result<WatchStream, StorageError> {
    match storage.watch("/", after).await {
        Err(StorageError::Internal(_)) => storage.watch(&format!("{}/", keys::ROOT), after).await,
        other => other,
    }
}

impl Shared {
    /// Gives an event to the cache of its resource, if there is one, and
    /// records its revision. The cache table stays locked throughout, so a
    /// cache registered meanwhile sees either this event or a revision
    /// that includes it.
    fn dispatch(&self, event: Event) {
        let revision = event.revision();
        let caches = self.caches.read().unwrap_or_else(|e| e.into_inner());
        let cache = resource_prefixes(&event.kv.key).find_map(|p| caches.get(p).cloned());
        if let Some(cache) = cache {
            cache.apply(event);
        }
        self.progress.send_if_modified(|p| {
            let newer = p.revision < revision;
            p.revision = p.revision.max(revision);
            newer
        });
    }

    /// Ends every cache; the next read of a resource builds a new one.
    fn reset(&self) {
        let mut caches = self.caches.write().unwrap_or_else(|e| e.into_inner());
        self.progress.send_modify(|p| p.running = false);
        for (_, cache) in caches.drain() {
            cache.end();
        }
    }
}

/// The prefixes a key's resource may be cached under, longest first:
/// `/registry/services/specs/ns/a` gives `/registry/services/specs/` and
/// `/registry/services/` (resources are stored one or two segments deep).
fn resource_prefixes(key: &str) -> impl Iterator<Item = &str> {
    let ends: Vec<usize> = key
        .match_indices('/')
        .map(|(at, _)| at + 1)
        .skip(2)
        .take(2)
        .collect();
    ends.into_iter().rev().map(move |end| &key[..end])
}

#[cfg(test)]
mod tests {
    use super::resource_prefixes;

    #[test]
    fn keys_map_to_their_resource_prefixes() {
        let prefixes: Vec<&str> = resource_prefixes("/registry/services/specs/ns/a").collect();
        assert_eq!(
            prefixes,
            ["/registry/services/specs/", "/registry/services/"]
        );
        let prefixes: Vec<&str> = resource_prefixes("/registry/namespaces/a").collect();
        assert_eq!(prefixes, ["/registry/namespaces/"]);
    }
}
