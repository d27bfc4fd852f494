//! How much memory the watch cache spends per object, against the size of
//! the object's JSON: a counting allocator measures what realistic pods
//! (the load generator's, about 4 KiB each) cost once cached.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicIsize, Ordering};

use runtime::cache::object::CachedObject;
use runtime::storage::Revision;

#[allow(dead_code)]
#[path = "../src/bin/ferrokube-loadgen/objects.rs"]
mod objects;
#[allow(dead_code)]
#[path = "../src/bin/ferrokube-loadgen/stats.rs"]
mod stats;

/// The system allocator, keeping a running total of bytes held.
struct Counting;

static HELD: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        HELD.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        HELD.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        HELD.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOCATOR: Counting = Counting;

#[test]
fn a_cached_pod_costs_less_than_twice_its_json() {
    const PODS: u64 = 2_000;
    let stored: Vec<(String, Vec<u8>)> = (0..PODS)
        .map(|i| {
            let name = format!("pod-{i}");
            let pod = objects::as_stored(objects::pod("bench", &name, i), i);
            let key = format!("/registry/pods/bench/{name}");
            (key, serde_json::to_vec(&pod).unwrap())
        })
        .collect();
    let json_bytes: usize = stored.iter().map(|(_, bytes)| bytes.len()).sum();

    let before = HELD.load(Ordering::Relaxed);
    let cached: Vec<CachedObject> = stored
        .iter()
        .map(|(key, bytes)| CachedObject::decode(key.clone(), bytes, Revision(1_000_000)).unwrap())
        .collect();
    let held = (HELD.load(Ordering::Relaxed) - before) as usize;

    let per_object = held / cached.len();
    let json_per_object = json_bytes / cached.len();
    let ratio = held as f64 / json_bytes as f64;
    eprintln!(
        "cached pod: {per_object} bytes held for {json_per_object} bytes of JSON ({ratio:.2}x)"
    );
    assert!(
        json_per_object > 2_500,
        "the pods are realistic: {json_per_object} bytes"
    );
    assert!(
        ratio < 2.0,
        "{per_object} bytes per {json_per_object}-byte pod ({ratio:.2}x)"
    );
}
