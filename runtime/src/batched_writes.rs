//! Write batching under HTTP/2: one socket write for many frames.
//!
//! The HTTP/2 library flushes after every DATA frame larger than a few
//! hundred bytes (it keeps at most one such frame queued). Over TLS each
//! flush is a TLS record and a `sendmsg`, so an event fanned out to a
//! hundred watch streams of one connection cost a hundred records and a
//! hundred system calls. [`BatchedWrites`] sits between the HTTP layer and
//! TLS: writes are copied into a buffer, and a flush that follows new
//! writes is put off until the connection's task runs again (it is woken
//! at once), so everything the task wrote in one turn goes out together.
//! A flush with nothing new since the last one, a read, a shutdown, or a
//! full buffer writes the buffer out for real, so nothing waits longer
//! than one turn of the scheduler.
//!
//! This relies on the task that flushed touching the stream again when
//! woken, as hyper's HTTP/1 and HTTP/2 connection tasks do (each turn
//! reads and flushes). Code that takes over an upgraded connection and
//! then waits on something else must not run over this stream.

use std::io;
use std::pin::Pin;
use std::task::{Context, Poll, ready};

use tokio::io::{AsyncRead, AsyncWrite, ReadBuf};

/// Bytes buffered before a write waits for the buffer to go out.
const LIMIT: usize = 64 * 1024;

/// An I/O stream whose writes are gathered and flushed one turn later.
pub struct BatchedWrites<T> {
    inner: T,
    buffer: Vec<u8>,
    /// How much of `buffer` the inner stream has taken.
    written: usize,
    /// Bytes were written since the last flush was asked for.
    fresh: bool,
    /// A flush was put off and has not been done yet.
    owed: bool,
}

impl<T> BatchedWrites<T> {
    pub fn new(inner: T) -> BatchedWrites<T> {
        BatchedWrites {
            inner,
            buffer: Vec::new(),
            written: 0,
            fresh: false,
            owed: false,
        }
    }
}

impl<T: AsyncWrite + Unpin> BatchedWrites<T> {
    /// Writes the buffer out and flushes the inner stream.
    fn poll_drain(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        while self.written < self.buffer.len() {
            let n = ready!(Pin::new(&mut self.inner).poll_write(cx, &self.buffer[self.written..]))?;
            if n == 0 {
                return Poll::Ready(Err(io::ErrorKind::WriteZero.into()));
            }
            self.written += n;
        }
        self.buffer.clear();
        self.written = 0;
        ready!(Pin::new(&mut self.inner).poll_flush(cx))?;
        self.owed = false;
        Poll::Ready(Ok(()))
    }

    /// Makes room before more bytes are taken: drains a full buffer.
    fn poll_room(&mut self, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        if self.buffer.len() >= LIMIT {
            ready!(self.poll_drain(cx))?;
        }
        Poll::Ready(Ok(()))
    }
}

impl<T: AsyncRead + AsyncWrite + Unpin> AsyncRead for BatchedWrites<T> {
    fn poll_read(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &mut ReadBuf<'_>,
    ) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if this.owed {
            // A put-off flush goes out before the task waits for input. An
            // error here shows again on the next write or flush.
            let _ = this.poll_drain(cx);
        }
        Pin::new(&mut this.inner).poll_read(cx, buf)
    }
}

impl<T: AsyncWrite + Unpin> AsyncWrite for BatchedWrites<T> {
    fn poll_write(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        buf: &[u8],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_room(cx))?;
        this.buffer.extend_from_slice(buf);
        this.fresh = true;
        Poll::Ready(Ok(buf.len()))
    }

    fn poll_write_vectored(
        self: Pin<&mut Self>,
        cx: &mut Context<'_>,
        bufs: &[io::IoSlice<'_>],
    ) -> Poll<io::Result<usize>> {
        let this = self.get_mut();
        ready!(this.poll_room(cx))?;
        let mut taken = 0;
        for buf in bufs {
            this.buffer.extend_from_slice(buf);
            taken += buf.len();
        }
        this.fresh = true;
        Poll::Ready(Ok(taken))
    }

    fn is_write_vectored(&self) -> bool {
        true
    }

    fn poll_flush(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        if std::mem::take(&mut this.fresh) {
            // More frames may follow in this turn: flush when the task
            // runs again, which this wake-up makes sure of.
            this.owed = true;
            cx.waker().wake_by_ref();
            return Poll::Ready(Ok(()));
        }
        this.poll_drain(cx)
    }

    fn poll_shutdown(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<io::Result<()>> {
        let this = self.get_mut();
        ready!(this.poll_drain(cx))?;
        Pin::new(&mut this.inner).poll_shutdown(cx)
    }
}

#[cfg(test)]
mod tests {
    use std::sync::Arc;
    use std::sync::atomic::{AtomicBool, Ordering};

    use tokio::io::{AsyncReadExt, AsyncWriteExt, duplex};

    use super::*;

    #[tokio::test]
    async fn a_flush_after_writes_goes_out_on_the_next_flush() {
        let (near, mut far) = duplex(1 << 20);
        let mut batched = BatchedWrites::new(near);
        batched.write_all(b"one ").await.unwrap();
        batched.flush().await.unwrap();
        batched.write_all(b"two").await.unwrap();
        batched.flush().await.unwrap();
        // Both writes are still buffered: each flush followed new writes.
        let mut byte = [0u8; 1];
        let nothing =
            tokio::time::timeout(std::time::Duration::from_millis(20), far.read(&mut byte)).await;
        assert!(nothing.is_err(), "nothing was written yet");
        batched.flush().await.unwrap();
        let mut got = vec![0u8; 7];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(got, b"one two");
    }

    #[tokio::test]
    async fn a_put_off_flush_wakes_the_task() {
        let (near, _far) = duplex(1 << 20);
        let mut batched = BatchedWrites::new(near);
        batched.write_all(b"x").await.unwrap();
        let woken = Arc::new(AtomicBool::new(false));
        let waker = futures::task::waker(Arc::new(Flag(woken.clone())));
        let mut cx = Context::from_waker(&waker);
        assert!(Pin::new(&mut batched).poll_flush(&mut cx).is_ready());
        assert!(woken.load(Ordering::SeqCst), "the task runs again");
        assert!(batched.owed);
    }

    /// A waker that records that it was woken.
    struct Flag(Arc<AtomicBool>);

    impl futures::task::ArcWake for Flag {
        fn wake_by_ref(flag: &Arc<Self>) {
            flag.0.store(true, Ordering::SeqCst);
        }
    }

    #[tokio::test]
    async fn shutdown_and_a_full_buffer_write_out() {
        let (near, mut far) = duplex(1 << 20);
        let mut batched = BatchedWrites::new(near);
        let big = vec![7u8; LIMIT];
        batched.write_all(&big).await.unwrap();
        // The buffer is full: the next write drains it first.
        batched.write_all(b"!").await.unwrap();
        let mut got = vec![0u8; LIMIT];
        far.read_exact(&mut got).await.unwrap();
        assert_eq!(got, big);
        batched.shutdown().await.unwrap();
        let mut rest = Vec::new();
        far.read_to_end(&mut rest).await.unwrap();
        assert_eq!(rest, b"!");
    }
}
