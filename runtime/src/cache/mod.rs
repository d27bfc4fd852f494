//! The watch cache: upstream kube-apiserver's "cacher". Watches and most
//! lists are served from memory instead of one storage watch and one
//! decode of every object per request.
//!
//! One storage watch over every key ([`dispatch`]) keeps a
//! [`ResourceCache`] per resource current. The server makes one for every
//! watchable resource when it starts ([`Caches::start`]): each is
//! registered first, so that the storage watch keeps its events from then
//! on, then filled from a storage range in the background. It holds the
//! current objects, decoded once and shared, and a bounded window of recent
//! events for watchers that resume from an older resourceVersion. When the
//! storage watch ends with an error (etcd lost, history compacted) every
//! cache is dropped and its watchers' streams end, so that clients watch
//! again or re-list; the next read of a resource builds a fresh cache.
//!
//! Start with [`Caches::resource`]; [`watcher`] turns a subscription into
//! the event lines of an HTTP watch, [`list`] serves lists.

mod dispatch;
pub mod list;
pub mod object;
mod printed;
pub mod resource;
pub mod watcher;

#[cfg(test)]
mod tests;

use std::collections::HashMap;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, RwLock};
use std::time::Duration;

use generated::support::meta::ResourceDescriptor;
use tokio::sync::watch;

pub use self::resource::{Expired, Objects, ResourceCache, Start, Subscription};
use crate::registry::keys;
use crate::storage::{RangeRequest, Revision, Storage, StorageError};

/// Sizes of the cache.
#[derive(Clone, Copy, Debug)]
pub struct Settings {
    /// Recent events kept per resource for watches that resume.
    pub window: usize,
    /// Events buffered per watcher; a watcher that falls further behind
    /// is disconnected.
    pub watcher_buffer: usize,
}

impl Default for Settings {
    fn default() -> Self {
        Settings {
            window: 1024,
            watcher_buffer: 1024,
        }
    }
}

/// Where the storage watch has got to.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Progress {
    /// Every change up to this revision was given to the caches.
    pub revision: Revision,
    /// Whether the storage watch is running.
    pub running: bool,
}

/// How long a request waits for the storage watch to restart.
const RESTART_WAIT: Duration = Duration::from_secs(5);

/// Keys read per storage range while a cache fills: small enough to bound
/// the bytes held at once, large enough that the few pages of a big
/// resource cost little (each range also counts the keys after it).
const FILL_PAGE: usize = 10_000;

/// The caches of every resource read so far, over one storage.
#[derive(Clone)]
pub struct Caches {
    shared: Arc<Shared>,
}

struct Shared {
    storage: Arc<dyn Storage>,
    settings: Settings,
    caches: RwLock<HashMap<String, Arc<ResourceCache>>>,
    progress: watch::Sender<Progress>,
    started: AtomicBool,
}

impl Caches {
    /// Caches over `storage`; nothing runs until the first read.
    pub fn new(storage: Arc<dyn Storage>, settings: Settings) -> Caches {
        Caches {
            shared: Arc::new(Shared {
                storage,
                settings,
                caches: RwLock::new(HashMap::new()),
                progress: watch::Sender::new(Progress::default()),
                started: AtomicBool::new(false),
            }),
        }
    }

    /// Starts the storage watch and a cache for each of `resources` (by
    /// storage descriptor), so that their windows reach back to the
    /// server's start; they fill from storage in the background, and reads
    /// wait until they are ready.
    pub async fn start<'a>(
        &self,
        resources: impl IntoIterator<Item = &'a ResourceDescriptor>,
    ) -> Result<(), StorageError> {
        let mut unfilled = Vec::new();
        for resource in resources {
            let (cache, fill) = self
                .find_or_register(&keys::list_prefix(resource, None))
                .await?;
            if fill {
                unfilled.push(cache);
            }
        }
        let caches = self.clone();
        tokio::spawn(async move {
            for cache in unfilled {
                if let Err(error) = caches.fill(&cache).await {
                    tracing::warn!(prefix = cache.prefix(), %error, "filling a watch cache");
                }
            }
        });
        Ok(())
    }

    /// The ready cache of a resource (by its storage descriptor), made and
    /// filled from storage if no cache has it (yet, or since the storage
    /// watch restarted).
    pub async fn resource(
        &self,
        stored: &ResourceDescriptor,
    ) -> Result<Arc<ResourceCache>, StorageError> {
        let prefix = keys::list_prefix(stored, None);
        loop {
            let (cache, fill) = self.find_or_register(&prefix).await?;
            if fill {
                self.fill(&cache).await?;
            }
            if cache.ready().await {
                return Ok(cache);
            }
            // It ended (the storage watch restarted, its fill failed): retry
            // with a new one.
        }
    }

    /// Fills a newly registered cache from storage; on failure it ends.
    async fn fill(&self, cache: &Arc<ResourceCache>) -> Result<(), StorageError> {
        match self.read_all(cache.prefix()).await {
            Ok((objects, revision)) => {
                cache.fill(objects, revision);
                Ok(())
            }
            Err(error) => {
                self.forget(cache);
                Err(error)
            }
        }
    }

    /// Every object under `prefix` at one revision, read a page at a time
    /// and each page decoded before the next is read, so that a large
    /// resource is never held twice (stored bytes and cached objects).
    async fn read_all(&self, prefix: &str) -> Result<(Objects, Revision), StorageError> {
        let mut objects = Objects::new();
        let mut start = None;
        let mut revision = None;
        loop {
            let page = self
                .shared
                .storage
                .range(RangeRequest {
                    prefix: prefix.to_owned(),
                    start: start.take(),
                    limit: Some(FILL_PAGE),
                    revision,
                })
                .await?;
            revision = Some(page.revision);
            let last = page.kvs.last().map(|kv| format!("{}\0", kv.key));
            resource::decode_into(&mut objects, page.kvs);
            match last {
                Some(next) if page.more => start = Some(next),
                _ => return Ok((objects, page.revision)),
            }
        }
    }

    /// Waits until the storage watch has passed `revision`; `false` when
    /// `timeout` came first.
    pub async fn wait_for(&self, revision: Revision, timeout: Duration) -> bool {
        let mut progress = self.shared.progress.subscribe();
        tokio::time::timeout(
            timeout,
            progress.wait_for(|p| p.running && p.revision >= revision),
        )
        .await
        .is_ok_and(|r| r.is_ok())
    }

    /// The revision the storage watch has got to.
    pub fn revision(&self) -> Revision {
        self.shared.progress.borrow().revision
    }

    /// The storage the caches read.
    pub fn storage(&self) -> &Arc<dyn Storage> {
        &self.shared.storage
    }

    /// The registered cache of `prefix`, or a new one to fill (`true`).
    async fn find_or_register(
        &self,
        prefix: &str,
    ) -> Result<(Arc<ResourceCache>, bool), StorageError> {
        self.start_watch();
        if let Some(cache) = self.read_caches().get(prefix) {
            return Ok((cache.clone(), false));
        }
        let mut progress = self.shared.progress.subscribe();
        tokio::time::timeout(RESTART_WAIT, progress.wait_for(|p| p.running))
            .await
            .map_err(|_| StorageError::Unavailable("the watch cache is not running".into()))?
            .map_err(|_| StorageError::Unavailable("the watch cache stopped".into()))?;
        let mut caches = self
            .shared
            .caches
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if let Some(cache) = caches.get(prefix) {
            return Ok((cache.clone(), false));
        }
        let cache = Arc::new(ResourceCache::new(
            prefix.to_owned(),
            self.shared.settings,
            self.shared.progress.subscribe(),
        ));
        caches.insert(prefix.to_owned(), cache.clone());
        Ok((cache, true))
    }

    fn forget(&self, cache: &Arc<ResourceCache>) {
        let mut caches = self
            .shared
            .caches
            .write()
            .unwrap_or_else(|e| e.into_inner());
        if caches
            .get(cache.prefix())
            .is_some_and(|c| Arc::ptr_eq(c, cache))
        {
            caches.remove(cache.prefix());
        }
        cache.end();
    }

    /// Starts the storage watch once.
    fn start_watch(&self) {
        if !self.shared.started.swap(true, Ordering::SeqCst) {
            tokio::spawn(dispatch::run(
                Arc::downgrade(&self.shared),
                self.shared.storage.clone(),
            ));
        }
    }

    fn read_caches(&self) -> std::sync::RwLockReadGuard<'_, HashMap<String, Arc<ResourceCache>>> {
        self.shared.caches.read().unwrap_or_else(|e| e.into_inner())
    }
}
