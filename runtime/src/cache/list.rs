//! Lists served from a resource cache: one page of a snapshot, its items
//! encoded straight from the cached objects into the response body.

use std::sync::Arc;

use bytes::{BufMut, Bytes, BytesMut};
use serde_json::{Value, json};

use super::object::{CachedObject, Form};
use super::resource::ResourceCache;
use crate::registry::object::api_version;
use crate::registry::store::{Filter, encode_continue};
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
/// objects in `namespace` (all for `None`) that `filter` takes.
pub fn page(
    cache: &ResourceCache,
    endpoint: Endpoint,
    namespace: Option<&str>,
    filter: Option<&Filter>,
    limit: Option<usize>,
) -> Result<Page, ApiError> {
    let prefix = keys::list_prefix(endpoint.stored, namespace);
    let snapshot = cache.snapshot(&prefix);
    let limit = limit.filter(|l| *l > 0).unwrap_or(usize::MAX);
    let mut items = Vec::new();
    let mut candidates = snapshot.objects.into_iter();
    for object in candidates.by_ref() {
        if let Some(filter) = filter
            && !filter(&*object.served(endpoint)?)
        {
            continue;
        }
        items.push(object);
        if items.len() == limit {
            break;
        }
    }
    let rest = candidates.as_slice();
    let continue_token = rest
        .first()
        .map(|next| encode_continue(&next.key, &prefix, snapshot.revision));
    let remaining = (continue_token.is_some() && filter.is_none()).then_some(rest.len() as u64);
    Ok(Page {
        revision: snapshot.revision,
        items,
        continue_token,
        remaining,
    })
}

/// The list object of a page as JSON bytes, each item's encoding reused
/// from the cache.
pub fn encode(endpoint: Endpoint, page: &Page) -> Result<Bytes, ApiError> {
    let served = endpoint.served;
    let mut body = BytesMut::new();
    let head = json!({
        "kind": format!("{}List", served.kind),
        "apiVersion": api_version(served.group, served.version),
        "metadata": metadata(page),
    })
    .to_string();
    // The head without its closing brace, then the items.
    body.put_slice(&head.as_bytes()[..head.len() - 1]);
    body.put_slice(b",\"items\":[");
    for (n, item) in page.items.iter().enumerate() {
        if n > 0 {
            body.put_u8(b',');
        }
        body.put_slice(&item.encoded(endpoint, Form::ListItem, true)?);
    }
    body.put_slice(b"]}");
    Ok(body.freeze())
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
