//! The single writer of an embedded index: a thread of its own that owns the tantivy
//! `IndexWriter`, applies changes as they come, and commits in batches — when the oldest
//! uncommitted change is [`EmbeddedOptions::commit_interval`] old, when
//! [`EmbeddedOptions::max_pending`] operations wait, or when asked to — then reloads the
//! reader so searches see the commit. A thread rather than a task because every writer call
//! may block (on a full indexing queue, on the disk).
//!
//! Callers wait for their change to be *applied* (not committed), so at most one command
//! per caller is queued: that is the backpressure.

use super::EmbeddedOptions;
use crate::SearchError;
use std::sync::mpsc::{Receiver, RecvTimeoutError, Sender};
use std::thread::JoinHandle;
use std::time::Instant;
use tantivy::indexer::UserOperation;
use tantivy::{IndexReader, IndexWriter};
use tokio::sync::oneshot;

type Reply = oneshot::Sender<Result<(), SearchError>>;

enum Command {
    /// Operations applied as one group (a delete and its re-add land in the same commit).
    Apply {
        operations: Vec<UserOperation>,
        reply: Reply,
    },
    Commit {
        reply: Reply,
    },
}

/// The channel to the writer thread; dropping it commits what is pending and stops the
/// thread.
pub(crate) struct WriterHandle {
    commands: Option<Sender<Command>>,
    thread: Option<JoinHandle<()>>,
}

impl WriterHandle {
    pub(crate) fn start(
        writer: IndexWriter,
        reader: IndexReader,
        options: EmbeddedOptions,
        name: &str,
    ) -> Result<Self, SearchError> {
        let (commands, receiver) = std::sync::mpsc::channel();
        let worker = Worker {
            writer,
            reader,
            options,
            receiver,
            dirty_since: None,
            pending: 0,
        };
        let thread = std::thread::Builder::new()
            .name(format!("search-writer-{name}"))
            .spawn(move || worker.run())
            .map_err(|source| SearchError::Engine {
                action: "start the index writer thread",
                source: Box::new(source),
            })?;
        Ok(Self {
            commands: Some(commands),
            thread: Some(thread),
        })
    }

    /// Applies `operations` as one group; returns once they are in the writer.
    pub(crate) async fn apply(&self, operations: Vec<UserOperation>) -> Result<(), SearchError> {
        if operations.is_empty() {
            return Ok(());
        }
        self.ask(|reply| Command::Apply { operations, reply }).await
    }

    /// Commits everything applied so far and reloads the reader.
    pub(crate) async fn commit(&self) -> Result<(), SearchError> {
        self.ask(|reply| Command::Commit { reply }).await
    }

    async fn ask(&self, command: impl FnOnce(Reply) -> Command) -> Result<(), SearchError> {
        let (reply, answer) = oneshot::channel();
        self.commands
            .as_ref()
            .ok_or(SearchError::WriterStopped)?
            .send(command(reply))
            .map_err(|_| SearchError::WriterStopped)?;
        answer.await.map_err(|_| SearchError::WriterStopped)?
    }
}

impl Drop for WriterHandle {
    fn drop(&mut self) {
        // Closing the channel makes the thread commit and exit; joining releases the
        // index directory's lock before a new writer may take it.
        drop(self.commands.take());
        if let Some(thread) = self.thread.take() {
            let _ = thread.join();
        }
    }
}

struct Worker {
    writer: IndexWriter,
    reader: IndexReader,
    options: EmbeddedOptions,
    receiver: Receiver<Command>,
    /// When the oldest uncommitted change was applied.
    dirty_since: Option<Instant>,
    /// Operations applied since the last commit.
    pending: usize,
}

impl Worker {
    fn run(mut self) {
        loop {
            let command = match self.dirty_since {
                None => match self.receiver.recv() {
                    Ok(command) => command,
                    Err(_) => break,
                },
                Some(since) => {
                    let wait = (since + self.options.commit_interval)
                        .saturating_duration_since(Instant::now());
                    match self.receiver.recv_timeout(wait) {
                        Ok(command) => command,
                        Err(RecvTimeoutError::Timeout) => {
                            self.commit_in_background();
                            continue;
                        }
                        Err(RecvTimeoutError::Disconnected) => break,
                    }
                }
            };
            match command {
                Command::Apply { operations, reply } => {
                    let count = operations.len();
                    let applied = self
                        .writer
                        .run(operations)
                        .map(drop)
                        .map_err(SearchError::engine("apply index changes"));
                    if applied.is_ok() {
                        self.dirty_since.get_or_insert_with(Instant::now);
                        self.pending += count;
                    }
                    let _ = reply.send(applied);
                    if self.pending >= self.options.max_pending {
                        self.commit_in_background();
                    }
                }
                Command::Commit { reply } => {
                    let _ = reply.send(self.commit());
                }
            }
        }
        if self.dirty_since.is_some() {
            self.commit_in_background();
        }
        if let Err(error) = self.writer.wait_merging_threads() {
            tracing::warn!(error = %error, "search index merges did not finish");
        }
    }

    fn commit(&mut self) -> Result<(), SearchError> {
        if self.dirty_since.is_none() {
            return Ok(());
        }
        self.writer
            .commit()
            .map_err(SearchError::engine("commit the index"))?;
        self.dirty_since = None;
        self.pending = 0;
        self.reader
            .reload()
            .map_err(SearchError::engine("reload the index reader"))
    }

    /// A commit nobody waits for: a failure is logged, and the changes stay pending, so the
    /// next interval (or an explicit commit, which reports the error) tries again.
    fn commit_in_background(&mut self) {
        if let Err(error) = self.commit() {
            tracing::warn!(error = %error, source = ?std::error::Error::source(&error), "search index commit failed; retrying");
            // Wait a whole interval before the next try rather than spinning.
            self.dirty_since = Some(Instant::now());
        }
    }
}
