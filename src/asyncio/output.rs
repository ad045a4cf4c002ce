//! [`AsyncChild::wait_with_output`] (**parent**): both pipes read concurrently, then the wait.

use std::future::{poll_fn, Future};
use std::pin::pin;
use std::task::Poll;

use tokio::io::{AsyncRead, AsyncReadExt};

use super::child::AsyncChild;
use crate::error::Error;
use crate::spawn::exit_report::Output;

impl AsyncChild {
    /// Waits for the program to exit while collecting all of its stdout and stderr (read
    /// concurrently, so neither pipe can fill up and stall the program), as
    /// [`Child::wait_with_output`](crate::Child::wait_with_output) does. Stdin is closed first.
    /// Dropping the future drops the child: it is killed and reaped off the runtime.
    pub async fn wait_with_output(mut self) -> Result<Output, Error> {
        drop(self.stdin.take());
        let (stdout, stderr) = both(read_all(self.stdout.take()), read_all(self.stderr.take())).await;
        let (stdout, stderr) = (stdout.map_err(Error::Output)?, stderr.map_err(Error::Output)?);
        let report = self.wait().await?;
        Ok(Output { report, stdout, stderr })
    }
}

/// Everything `pipe` yields until EOF (nothing without a pipe).
async fn read_all(pipe: Option<impl AsyncRead + Unpin>) -> std::io::Result<Vec<u8>> {
    let mut buf = Vec::new();
    if let Some(mut pipe) = pipe {
        pipe.read_to_end(&mut buf).await?;
    }
    Ok(buf)
}

/// Runs both futures to completion, concurrently on this task (tokio's `join!` without its
/// `macros` feature).
async fn both<A: Future, B: Future>(a: A, b: B) -> (A::Output, B::Output) {
    let (mut a, mut b) = (pin!(a), pin!(b));
    let (mut a_out, mut b_out) = (None, None);
    poll_fn(|cx| {
        if a_out.is_none() {
            if let Poll::Ready(out) = a.as_mut().poll(cx) {
                a_out = Some(out);
            }
        }
        if b_out.is_none() {
            if let Poll::Ready(out) = b.as_mut().poll(cx) {
                b_out = Some(out);
            }
        }
        match (a_out.take(), b_out.take()) {
            (Some(a), Some(b)) => Poll::Ready((a, b)),
            (a, b) => {
                (a_out, b_out) = (a, b);
                Poll::Pending
            }
        }
    })
    .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn both_waits_for_the_slower_of_two_and_keeps_their_order() {
        let rt = tokio::runtime::Builder::new_current_thread().enable_time().build().unwrap();
        let slow = async {
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
            "slow"
        };
        let fast = async { "fast" };
        assert_eq!(rt.block_on(both(slow, fast)), ("slow", "fast"));
    }
}
