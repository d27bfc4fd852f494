//! Crash safety of the embedded store: a child process (this test binary
//! re-executed to run only `crash_child`) writes from many tasks and prints
//! every write as it is acknowledged; the parent SIGKILLs it at a random
//! moment, reopens the data directory and checks that
//!
//! - every acknowledged write is there, at its revision, with its value
//!   (or was overwritten by a later write of the same writer),
//! - every stored value is whole (no torn or foreign write is visible),
//! - revisions keep increasing after the restart,
//! - a watch from before the crash replays the acknowledged writes in
//!   order, or fails with `Compacted`.
//!
//! The child also compacts while it writes, so a crash can hit a
//! compaction too. Several crashes in a row hit the same directory.

use std::collections::{BTreeMap, HashMap};
use std::io::{BufRead, BufReader, Write};
use std::process::{Command, Stdio};
use std::sync::Arc;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use bytes::Bytes;
use futures::StreamExt;
use runtime::storage::embedded::EmbeddedStore;
use runtime::storage::{Revision, Storage, StorageError};

/// Set in the child's environment: the data directory to write to.
const DIR_VAR: &str = "FERROKUBE_CRASH_DIR";
/// Set in the child's environment: the round, which names its keys.
const ROUND_VAR: &str = "FERROKUBE_CRASH_ROUND";
const WRITERS: usize = 16;
const ROUNDS: usize = 5;
/// The rounds stop early once this much time has gone by.
const BUDGET: Duration = Duration::from_secs(15);

fn prefix(round: usize) -> String {
    format!("/registry/crash/{round}/")
}

/// Writer `w` creates a key at each step, except every fourth step, which
/// updates the key of the step before it.
fn key(round: usize, writer: usize, step: u64) -> String {
    let created = if step % 4 == 3 { step - 1 } else { step };
    format!("{}{writer}/{created}", prefix(round))
}

/// The value of step `step` of writer `writer`: a header naming both, then
/// bytes derived from them, of a length that varies between 64 B and 1 KiB
/// so that a torn value cannot pass for a whole one.
fn value(writer: usize, step: u64) -> Vec<u8> {
    let len = 64 + ((writer as u64 * 7919 + step * 104_729) % 960) as usize;
    let mut value = format!("{writer}:{step}:").into_bytes();
    let seed = writer as u64 * 31 + step * 17;
    value.extend((value.len()..len).map(|j| (seed.wrapping_add(j as u64 * 13) % 251) as u8));
    value
}

/// The writer and step a stored value claims to be, if it is whole.
fn parse(stored: &[u8]) -> Option<(usize, u64)> {
    let mut fields = stored.splitn(3, |&b| b == b':');
    let mut number = || {
        std::str::from_utf8(fields.next()?)
            .ok()?
            .parse::<u64>()
            .ok()
    };
    let writer = usize::try_from(number()?).ok()?;
    let step = number()?;
    (value(writer, step) == stored).then_some((writer, step))
}

/// The child: writes until killed (or 30 s, should the parent be gone).
#[test]
fn crash_child() {
    let (Ok(dir), Ok(round)) = (std::env::var(DIR_VAR), std::env::var(ROUND_VAR)) else {
        return;
    };
    let round: usize = round.parse().expect("round");
    let runtime = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .expect("runtime");
    runtime.block_on(async move {
        let store = Arc::new(EmbeddedStore::open(&dir).expect("the child opens the store"));
        println!("ready");
        let compactor = {
            let store = Arc::clone(&store);
            tokio::spawn(async move {
                loop {
                    tokio::time::sleep(Duration::from_millis(50)).await;
                    let current = store.current_revision().await.expect("revision");
                    if current.0 > 40 {
                        store
                            .compact(Revision(current.0 - 40))
                            .await
                            .expect("compact");
                    }
                }
            })
        };
        let mut writers = Vec::new();
        for writer in 0..WRITERS {
            let store = Arc::clone(&store);
            writers.push(tokio::spawn(async move {
                let deadline = Instant::now() + Duration::from_secs(30);
                let mut last = Revision(0);
                for step in 0.. {
                    if Instant::now() > deadline {
                        break;
                    }
                    let key = key(round, writer, step);
                    let value = Bytes::from(value(writer, step));
                    let kv = if step % 4 == 3 {
                        store.update(&key, value, last).await
                    } else {
                        store.create(&key, value).await
                    }
                    .expect("the child's write");
                    last = kv.mod_revision;
                    let mut out = std::io::stdout().lock();
                    writeln!(out, "ack {writer} {step} {}", kv.mod_revision).expect("stdout");
                    out.flush().expect("stdout");
                }
            }));
        }
        for writer in writers {
            writer.await.expect("writer");
        }
        compactor.abort();
    });
}

/// A few bits of randomness without a dependency: the clock's nanoseconds.
fn random_below(bound: u64) -> u64 {
    let nanos = SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map_or(0, |d| d.subsec_nanos());
    (u64::from(nanos).wrapping_mul(0x9E37_79B9_7F4A_7C15) >> 32) % bound.max(1)
}

/// Runs one child on `dir` and kills it after `run`; returns the
/// acknowledged writes as (writer, step) -> revision.
fn run_child(
    dir: &std::path::Path,
    round: usize,
    run: Duration,
) -> HashMap<(usize, u64), Revision> {
    let mut child = Command::new(std::env::current_exe().expect("current_exe"))
        .args(["--exact", "crash_child", "--nocapture", "--test-threads=1"])
        .env(DIR_VAR, dir)
        .env(ROUND_VAR, round.to_string())
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .expect("spawn the child");
    let stdout = child.stdout.take().expect("piped stdout");
    let (ready_tx, ready) = std::sync::mpsc::channel();
    // Read while it runs, so that a full pipe never slows the child down.
    let reader = std::thread::spawn(move || {
        let mut acked = HashMap::new();
        for line in BufReader::new(stdout).split(b'\n') {
            let Ok(line) = line else { break };
            let line = String::from_utf8_lossy(&line);
            // libtest may have started the line with the test's name.
            if line.ends_with("ready") {
                let _ = ready_tx.send(());
            }
            let fields: Vec<&str> = line.split(' ').collect();
            // The last line may have been cut by the kill.
            if let ["ack", writer, step, revision] = fields[..]
                && let (Ok(writer), Ok(step), Ok(revision)) =
                    (writer.parse(), step.parse(), revision.parse())
            {
                acked.insert((writer, step), Revision(revision));
            }
        }
        acked
    });
    // The clock starts once the child has opened the store (recovering
    // the previous round's journal takes a while in a debug build).
    let opened = ready.recv_timeout(Duration::from_secs(20)).is_ok();
    std::thread::sleep(run);
    child.kill().expect("SIGKILL the child");
    let status = child.wait().expect("wait for the child");
    assert!(opened, "the child did not open the store within 20 s");
    assert!(
        !status.success(),
        "the child was killed, not finished: {status}"
    );
    reader.join().expect("reader")
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn acknowledged_writes_survive_sigkill() {
    let dir = tempfile::tempdir().expect("tempdir");
    let started = Instant::now();
    let mut previous_max = Revision(0);
    for round in 0..ROUNDS {
        if round > 0 && started.elapsed() > BUDGET {
            break;
        }
        let run = Duration::from_millis(200 + random_below(600));
        let acked = run_child(dir.path(), round, run);
        let reopening = Instant::now();
        let store = EmbeddedStore::open(dir.path()).expect("reopen after the crash");
        let reopened = reopening.elapsed();
        let current = store.current_revision().await.expect("revision");
        let max_acked = acked.values().copied().max().unwrap_or(previous_max);
        println!(
            "round {round}: killed {run:?} after opening, {} acknowledged writes, revision \
             {current}, reopened in {reopened:?}",
            acked.len()
        );
        assert!(
            current >= max_acked,
            "revision {current} < acknowledged {max_acked}"
        );
        assert!(max_acked >= previous_max, "revisions go on after a restart");
        check_acknowledged(&store, round, &acked).await;
        check_whole(&store, round, current).await;
        check_watch(&store, round, &acked, current).await;
        let next = store
            .create(
                &format!("/registry/crash/after/{round}"),
                Bytes::from_static(b"x"),
            )
            .await;
        let next = next.expect("a write after the restart");
        assert!(
            next.mod_revision > current,
            "revisions keep increasing after a restart"
        );
        previous_max = next.mod_revision;
    }
}

/// Each acknowledged write is the key's value, or a later write of the same
/// writer replaced it; its own revision reads back unless compacted.
async fn check_acknowledged(
    store: &EmbeddedStore,
    round: usize,
    acked: &HashMap<(usize, u64), Revision>,
) {
    for (&(writer, step), &revision) in acked {
        let key = key(round, writer, step);
        let kv = store
            .get(&key, None)
            .await
            .expect("get")
            .unwrap_or_else(|| panic!("{key} is lost"));
        let (w, s) = parse(&kv.value).unwrap_or_else(|| panic!("{key} holds a torn value"));
        assert_eq!(w, writer, "{key} was written by its writer");
        if kv.mod_revision == revision {
            assert_eq!(s, step, "{key} at {revision} holds the acknowledged value");
        } else {
            assert!(
                kv.mod_revision > revision,
                "{key} went back to {}",
                kv.mod_revision
            );
            assert!(s > step, "{key} was replaced by a later step");
        }
        match store.get(&key, Some(revision)).await {
            Ok(Some(old)) => assert_eq!(
                parse(&old.value),
                Some((writer, step)),
                "{key} at {revision}"
            ),
            Ok(None) => panic!("{key} is missing at its acknowledged revision {revision}"),
            Err(StorageError::Compacted { .. }) => {}
            Err(other) => panic!("{key} at {revision}: {other}"),
        }
    }
}

/// Every key of the round holds a whole value under the right key.
async fn check_whole(store: &EmbeddedStore, round: usize, current: Revision) {
    let listed = store
        .range(runtime::storage::RangeRequest {
            prefix: prefix(round),
            ..Default::default()
        })
        .await
        .expect("range");
    for kv in listed.kvs {
        let (writer, step) =
            parse(&kv.value).unwrap_or_else(|| panic!("{} holds a torn value", kv.key));
        assert_eq!(
            kv.key,
            key(round, writer, step),
            "a value under the key it was written to"
        );
        assert!(kv.mod_revision <= current);
    }
}

/// A watch from before the round's first write replays every acknowledged
/// write in order, or fails with `Compacted`.
async fn check_watch(
    store: &EmbeddedStore,
    round: usize,
    acked: &HashMap<(usize, u64), Revision>,
    current: Revision,
) {
    let Some(first) = acked.values().min() else {
        return;
    };
    let after = Revision(first.0 - 1);
    let mut stream = match store.watch(&prefix(round), after).await {
        Ok(stream) => stream,
        Err(StorageError::Compacted { .. }) => return,
        Err(other) => panic!("watch after {after}: {other}"),
    };
    let mut seen = BTreeMap::new();
    let mut last = after;
    while last < current {
        let next = tokio::time::timeout(Duration::from_secs(10), stream.next()).await;
        match next.expect("the replay keeps coming") {
            Some(Ok(event)) => {
                assert!(event.revision() > last, "events in revision order");
                last = event.revision();
                seen.insert(event.revision(), event.kv.key);
            }
            Some(Err(StorageError::Compacted { .. })) if seen.is_empty() => return,
            other => panic!("watch after {after}: {other:?}"),
        }
        // Only the round's own writes are under its prefix; stop once the
        // last acknowledged one has been replayed.
        if acked.values().all(|revision| *revision <= last) {
            break;
        }
    }
    for (&(writer, step), revision) in acked {
        assert_eq!(
            seen.get(revision),
            Some(&key(round, writer, step)),
            "the write at {revision} is replayed"
        );
    }
}
