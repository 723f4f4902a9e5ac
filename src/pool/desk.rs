//! Where a process pool's idle worker waits while its manager waits for chunks: a thread that
//! calls `apply` borrows it there and runs its task on the worker's socket itself, sparing the
//! two hand-offs between threads (to the manager and back) that a queued chunk takes.
//!
//! The manager parks its worker on the desk only while it has nothing in flight, and takes it
//! back (waiting while it is lent) before it does anything else with it: the worker is busy for
//! the manager all the while it is lent. A borrower brings back what it did ([`News`]); what the
//! manager must act on (a worker lost or gone, a chunk still running, the quota run) wakes it.

use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};

use crossbeam::channel::{self, Receiver, Sender};

use super::in_flight::{InFlight, LastRun};
use super::jobs::Chunk;

/// What a borrower leaves for the manager to act on.
pub(super) enum Trouble {
    /// The worker was gone before it had the chunk: the chunk never started.
    Unsent(Chunk),
    /// The worker still runs the chunk (the borrower stopped waiting: its timeout).
    Pending(InFlight),
    /// The worker ended running the chunk, as the message says.
    Lost(Box<(Chunk, String)>),
    /// The chunk was failed without being sent, and the worker may have been killed meanwhile.
    Check,
    /// The borrower stopped halfway (a panic): the worker's stream is in an unknown state.
    Broken,
}

/// What borrowers did with a worker since its manager parked it.
#[derive(Default)]
pub(super) struct News {
    /// Chunks they sent it.
    pub(super) sent: usize,
    /// How long it ran the last one that came back.
    pub(super) last_run: Option<LastRun>,
    /// What the manager must act on; the worker is not lent again until it has.
    pub(super) trouble: Option<Trouble>,
}

impl News {
    /// Whether nothing happened.
    pub(super) fn is_empty(&self) -> bool {
        self.sent == 0 && self.trouble.is_none()
    }
}

/// Where the worker is.
enum Held<W> {
    /// With its manager.
    Away,
    /// On the desk, to be lent.
    Parked(W),
    /// With a borrower.
    Lent,
}

struct State<W> {
    worker: Held<W>,
    /// How many more chunks borrowers may send it (its quota of tasks per child).
    room: usize,
    news: News,
    /// The manager waits for the worker to come back.
    waiting: bool,
}

/// One worker's desk (see the module docs).
pub(super) struct Desk<W> {
    state: Mutex<State<W>>,
    /// Told when a borrower brings the worker back.
    returned: Condvar,
    /// A token when a borrower brings news the manager must act on (the manager selects on it
    /// beside the pool's queue).
    wake_tx: Sender<()>,
    wake_rx: Receiver<()>,
}

impl<W> std::fmt::Debug for Desk<W> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Desk").finish_non_exhaustive()
    }
}

impl<W> Default for Desk<W> {
    fn default() -> Self {
        let (wake_tx, wake_rx) = channel::bounded(1);
        Desk {
            state: Mutex::new(State {
                worker: Held::Away,
                room: 0,
                news: News::default(),
                waiting: false,
            }),
            returned: Condvar::new(),
            wake_tx,
            wake_rx,
        }
    }
}

impl<W> Desk<W> {
    fn lock(&self) -> MutexGuard<'_, State<W>> {
        self.state.lock().unwrap_or_else(PoisonError::into_inner)
    }

    /// The manager leaves its idle worker here, to be lent for at most `room` chunks.
    pub(super) fn park(&self, worker: W, room: usize) {
        while self.wake_rx.try_recv().is_ok() {} // a token of news already taken
        let mut state = self.lock();
        state.worker = Held::Parked(worker);
        state.room = room;
        state.news = News::default();
    }

    /// The manager takes its worker back, waiting while it is lent, with the borrowers' news;
    /// `None` if it was not parked here.
    pub(super) fn reclaim(&self) -> Option<(W, News)> {
        let mut state = self.lock();
        loop {
            match std::mem::replace(&mut state.worker, Held::Away) {
                Held::Parked(worker) => return Some((worker, std::mem::take(&mut state.news))),
                Held::Lent => {
                    state.worker = Held::Lent;
                    state.waiting = true;
                    state = self
                        .returned
                        .wait(state)
                        .unwrap_or_else(PoisonError::into_inner);
                    state.waiting = false;
                }
                Held::Away => return None,
            }
        }
    }

    /// Where a token arrives when a borrower brings news the manager must act on.
    pub(super) fn wake(&self) -> &Receiver<()> {
        &self.wake_rx
    }

    /// Borrows the parked worker, if it is parked, has room for a chunk, and no news waits for
    /// its manager.
    pub(super) fn lend(&self) -> Option<Loan<'_, W>> {
        let mut state = self.lock();
        if state.room == 0 || state.news.trouble.is_some() {
            return None;
        }
        match std::mem::replace(&mut state.worker, Held::Lent) {
            Held::Parked(worker) => Some(Loan {
                desk: self,
                worker: Some(worker),
            }),
            other => {
                state.worker = other;
                None
            }
        }
    }

    /// A borrower brings the worker back with `news`; wakes the manager if it must act on it.
    fn bring_back(&self, worker: W, news: News) {
        let mut state = self.lock();
        state.worker = Held::Parked(worker);
        state.room = state.room.saturating_sub(news.sent);
        state.news.sent += news.sent;
        if news.last_run.is_some() {
            state.news.last_run = news.last_run;
        }
        state.news.trouble = news.trouble;
        let wake = state.room == 0 || state.news.trouble.is_some();
        let waiting = state.waiting;
        drop(state);
        if waiting {
            self.returned.notify_all();
        }
        if wake {
            let _ = self.wake_tx.try_send(()); // full: a token already waits
        }
    }
}

/// A worker borrowed from its [`Desk`]: brought back with [`Loan::bring_back`], or, when the
/// borrower stops halfway (a panic), with [`Trouble::Broken`].
pub(super) struct Loan<'a, W> {
    desk: &'a Desk<W>,
    worker: Option<W>,
}

impl<W> Loan<'_, W> {
    /// The worker.
    pub(super) fn worker(&mut self) -> &mut W {
        self.worker
            .as_mut()
            .unwrap_or_else(|| unreachable!("a loan holds its worker until it ends"))
    }

    /// Brings the worker back with what the borrower did.
    pub(super) fn bring_back(mut self, news: News) {
        if let Some(worker) = self.worker.take() {
            self.desk.bring_back(worker, news);
        }
    }
}

impl<W> Drop for Loan<'_, W> {
    fn drop(&mut self) {
        if let Some(worker) = self.worker.take() {
            let broken = News {
                trouble: Some(Trouble::Broken),
                ..News::default()
            };
            self.desk.bring_back(worker, broken);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_parked_worker_is_lent_once_and_its_news_reach_the_manager() {
        let desk = Desk::<u32>::default();
        assert!(desk.lend().is_none(), "nothing parked");
        desk.park(7, 2);
        let mut loan = desk.lend().expect("parked");
        assert_eq!(*loan.worker(), 7);
        assert!(desk.lend().is_none(), "lent already");
        loan.bring_back(News {
            sent: 1,
            ..News::default()
        });
        assert!(desk.wake().try_recv().is_err(), "nothing to act on yet");
        let loan = desk.lend().expect("back, with room for one more");
        loan.bring_back(News {
            sent: 1,
            ..News::default()
        });
        assert!(
            desk.wake().try_recv().is_ok(),
            "the quota is run: the manager is woken"
        );
        assert!(desk.lend().is_none(), "no room left");
        let (worker, news) = desk.reclaim().expect("parked");
        assert_eq!((worker, news.sent), (7, 2));
        assert!(desk.reclaim().is_none(), "with the manager now");
    }

    #[test]
    fn a_borrower_that_stops_halfway_leaves_the_worker_broken() {
        let desk = Desk::<u32>::default();
        desk.park(7, usize::MAX);
        let loan = desk.lend().expect("parked");
        let manager = std::thread::scope(|s| {
            let waits = s.spawn(|| desk.reclaim());
            std::thread::sleep(std::time::Duration::from_millis(20));
            drop(loan); // as a panic would
            waits.join().unwrap()
        });
        let (_, news) = manager.expect("brought back");
        assert!(matches!(news.trouble, Some(Trouble::Broken)));
        assert!(desk.wake().try_recv().is_ok());
    }
}
