//! Lists served from a resource cache: one page of a snapshot, its items
//! encoded straight from the cached objects into the response body.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex, MutexGuard};
use std::time::{Duration, Instant};

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};

use super::object::{CachedObject, Form};
use super::resource::ResourceCache;
use crate::codec::protobuf;
use crate::endpoints::negotiate::unencodable;
use crate::registry::object::api_version;
use crate::registry::store::{Filter, decode_continue, encode_continue};
use crate::registry::{Endpoint, keys};
use crate::status::ApiError;
use crate::storage::Revision;

/// One page of a list, as of one revision.
pub struct Page {
    pub revision: Revision,
    /// The objects the selectors took, in key order.
    pub items: Vec<Arc<CachedObject>>,
    /// The token for the rest, when the limit cut the list.
    pub continue_token: Option<String>,
    /// How many objects come after the page (without selectors only).
    pub remaining: Option<u64>,
}

/// The first page (at most `limit` objects, all without one) of the
/// objects in `namespace` (all for `None`) that `filter` takes. A page cut
/// short keeps its snapshot for the continue pages.
pub fn page(
    cache: &ResourceCache,
    endpoint: Endpoint,
    namespace: Option<&str>,
    filter: Option<&Filter>,
    limit: Option<usize>,
) -> Result<Page, ApiError> {
    let prefix = keys::list_prefix(endpoint.stored, namespace);
    let snapshot = cache.snapshot(&prefix);
    let objects: Arc<[Arc<CachedObject>]> = snapshot.objects.into();
    let page = cut(
        &objects,
        0,
        snapshot.revision,
        &prefix,
        endpoint,
        filter,
        limit,
    )?;
    if page.continue_token.is_some() {
        cache.retained().keep(prefix, snapshot.revision, objects);
    }
    Ok(page)
}

/// The page a continue token asks for, from the snapshot its first page
/// kept; `None` when that snapshot is no longer kept.
pub fn continued(
    cache: &ResourceCache,
    endpoint: Endpoint,
    namespace: Option<&str>,
    filter: Option<&Filter>,
    limit: Option<usize>,
    token: &str,
) -> Result<Option<Page>, ApiError> {
    let prefix = keys::list_prefix(endpoint.stored, namespace);
    // A token without a revision continues at the latest state: storage.
    let (start, Some(revision)) = decode_continue(token, &prefix)? else {
        return Ok(None);
    };
    let Some(objects) = cache.retained().find(&prefix, revision) else {
        return Ok(None);
    };
    let from = objects.partition_point(|o| o.key < start);
    let page = cut(&objects, from, revision, &prefix, endpoint, filter, limit)?;
    if page.continue_token.is_none() {
        cache.retained().forget(&prefix, revision);
    }
    Ok(Some(page))
}

/// The page of `objects` from `from` on.
fn cut(
    objects: &[Arc<CachedObject>],
    from: usize,
    revision: Revision,
    prefix: &str,
    endpoint: Endpoint,
    filter: Option<&Filter>,
    limit: Option<usize>,
) -> Result<Page, ApiError> {
    let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut candidates = objects[from.min(objects.len())..].iter();
    for object in candidates.by_ref() {
        if let Some(filter) = filter
            && !object.selected_by(endpoint, &**filter)?
        {
            continue;
        }
        items.push(object.clone());
        if items.len() == limit {
            break;
        }
    }
    let rest = candidates.as_slice();
    let continue_token = rest
        .first()
        .map(|next| encode_continue(&next.key, prefix, revision));
    let remaining = (continue_token.is_some() && filter.is_none()).then_some(rest.len() as u64);
    Ok(Page {
        revision,
        items,
        continue_token,
        remaining,
    })
}

/// Snapshots of paged lists kept a while for their continue pages (only
/// pointers to the shared objects), so that a paged list reads one
/// snapshot from memory, as upstream's cache snapshots allow.
#[derive(Default)]
pub struct Retained(Mutex<VecDeque<Kept>>);

struct Kept {
    prefix: String,
    revision: Revision,
    at: Instant,
    objects: Arc<[Arc<CachedObject>]>,
}

/// How many snapshots a resource keeps, and for how long.
const KEPT: usize = 8;
const KEPT_FOR: Duration = Duration::from_secs(60);

impl Retained {
    fn keep(&self, prefix: String, revision: Revision, objects: Arc<[Arc<CachedObject>]>) {
        let mut kept = self.lock();
        if kept
            .iter()
            .any(|k| k.prefix == prefix && k.revision == revision)
        {
            return;
        }
        kept.push_back(Kept {
            prefix,
            revision,
            at: Instant::now(),
            objects,
        });
        while kept.len() > KEPT {
            kept.pop_front();
        }
    }

    fn find(&self, prefix: &str, revision: Revision) -> Option<Arc<[Arc<CachedObject>]>> {
        self.lock()
            .iter()
            .find(|k| k.prefix == prefix && k.revision == revision)
            .map(|k| k.objects.clone())
    }

    fn forget(&self, prefix: &str, revision: Revision) {
        self.lock()
            .retain(|k| !(k.prefix == prefix && k.revision == revision));
    }

    /// The kept snapshots, the expired ones dropped.
    fn lock(&self) -> MutexGuard<'_, VecDeque<Kept>> {
        let mut kept = self.0.lock().unwrap_or_else(|e| e.into_inner());
        kept.retain(|k| k.at.elapsed() < KEPT_FOR);
        kept
    }
}

/// The list object of a page as JSON, each item's encoding reused from
/// the cache: the pieces in order, joined into chunks only as the response
/// is sent, so that a large list never exists as one more copy in memory.
pub struct EncodedList {
    parts: Vec<Bytes>,
    len: usize,
}

/// About how many bytes each chunk of a streamed list holds.
const CHUNK: usize = 64 * 1024;

impl EncodedList {
    /// The length of the whole document in bytes.
    pub fn content_length(&self) -> usize {
        self.len
    }

    /// The document in chunks of about [`CHUNK`] bytes; small pieces are
    /// joined, large ones pass through without a copy.
    pub fn into_chunks(self) -> impl Iterator<Item = Bytes> + Send {
        let mut parts = self.parts.into_iter().peekable();
        std::iter::from_fn(move || {
            let first = parts.next()?;
            if first.len() >= CHUNK {
                return Some(first);
            }
            let mut chunk = BytesMut::with_capacity(CHUNK + first.len());
            chunk.put_slice(&first);
            while let Some(next) = parts.next_if(|p| chunk.len() + p.len() <= CHUNK) {
                chunk.put_slice(&next);
            }
            Some(chunk.freeze())
        })
    }

    /// The whole document in one buffer.
    pub fn to_bytes(&self) -> Bytes {
        let mut body = BytesMut::with_capacity(self.len);
        for part in &self.parts {
            body.put_slice(part);
        }
        body.freeze()
    }
}

/// The list object of a page as JSON; fails before anything is sent when
/// an item cannot be served in the endpoint's version.
pub fn encode(endpoint: Endpoint, page: &Page) -> Result<EncodedList, ApiError> {
    let served = endpoint.served;
    let head = json!({
        "kind": format!("{}List", served.kind),
        "apiVersion": api_version(served.group, served.version),
        "metadata": metadata(page),
    })
    .to_string();
    let mut parts = Vec::with_capacity(2 * page.items.len() + 2);
    // The head without its closing brace, then the items.
    let mut opening = BytesMut::from(&head.as_bytes()[..head.len() - 1]);
    opening.put_slice(b",\"items\":[");
    parts.push(opening.freeze());
    for (n, item) in page.items.iter().enumerate() {
        if n > 0 {
            parts.push(Bytes::from_static(b","));
        }
        parts.push(item.encoded(endpoint, Form::ListItem, true)?);
    }
    parts.push(Bytes::from_static(b"]}"));
    let len = parts.iter().map(Bytes::len).sum();
    Ok(EncodedList { parts, len })
}

/// The list object of a page as a protobuf body, each item's message
/// encoded once per object and kept by the cache.
pub fn encode_protobuf(endpoint: Endpoint, page: &Page) -> Result<Vec<u8>, ApiError> {
    let served = endpoint.served;
    let head = json!({
        "kind": format!("{}List", served.kind),
        "apiVersion": api_version(served.group, served.version),
        "metadata": metadata(page),
    });
    let items = page
        .items
        .iter()
        .map(|item| item.encoded(endpoint, Form::Protobuf, true))
        .collect::<Result<Vec<Bytes>, ApiError>>()?;
    protobuf::encode_list(&head, &items).map_err(unencodable)
}

/// The list's metadata: resourceVersion, continue, remainingItemCount.
pub fn metadata(page: &Page) -> Value {
    let mut metadata = json!({"resourceVersion": page.revision.to_string()});
    if let Some(token) = &page.continue_token {
        metadata["continue"] = json!(token);
        if let Some(remaining) = page.remaining {
            metadata["remainingItemCount"] = json!(remaining);
        }
    }
    metadata
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn chunks_join_small_pieces_and_pass_large_ones_through() {
        let small = Bytes::from(vec![b'a'; 1000]);
        let large = Bytes::from(vec![b'b'; CHUNK + 10]);
        let mut parts = vec![small.clone(); 100];
        parts.push(large.clone());
        parts.extend(vec![small; 3]);
        let len = parts.iter().map(Bytes::len).sum();
        let list = EncodedList { parts, len };
        let whole = list.to_bytes();
        let chunks: Vec<Bytes> = list.into_chunks().collect();
        assert_eq!(chunks.concat(), whole.to_vec());
        let sizes: Vec<usize> = chunks.iter().map(Bytes::len).collect();
        assert_eq!(sizes, [65_000, 35_000, CHUNK + 10, 3_000]);
        // The large piece was not copied.
        assert_eq!(chunks[2].as_ptr(), large.as_ptr());
    }
}
