//! argon2's working memory, kept and reused instead of allocated per check.
//!
//! An argon2id check at the default parameters fills 19 MiB. Allocated per
//! call, that memory lands in the allocator arena of whichever blocking
//! thread ran the check, and glibc keeps it there: after a burst of logins a
//! process held ~19 MiB for every thread that ever checked a password
//! (680–720 MB measured). Here a few buffers are kept and lent out, so the
//! memory of password checks is bounded by how many run at once.

use std::sync::Mutex;

use argon2::Block;

/// Buffers of argon2 blocks, lent one per running check.
pub(crate) struct Memory {
    free: Mutex<Vec<Vec<Block>>>,
    /// The most buffers kept between checks; more running at once are
    /// allocated and dropped.
    keep: usize,
    /// The largest buffer kept, in blocks; a larger one is dropped after
    /// its check, so one costly hash does not hold its memory for good.
    max_blocks: usize,
}

impl Memory {
    pub(crate) fn new(keep: usize, max_blocks: usize) -> Self {
        Memory {
            free: Mutex::new(Vec::new()),
            keep,
            max_blocks,
        }
    }

    /// Runs `work` on `blocks` argon2 blocks, zeroed before it gets them and
    /// after it is done (they hold what the password was stretched into).
    pub(crate) fn with<R>(&self, blocks: usize, work: impl FnOnce(&mut [Block]) -> R) -> R {
        let mut buffer = self
            .free
            .lock()
            .ok()
            .and_then(|mut free| free.pop())
            .unwrap_or_default();
        if buffer.len() < blocks {
            buffer.resize(blocks, Block::new());
        }
        let answer = work(&mut buffer[..blocks]);
        buffer[..blocks].fill(Block::new());
        if buffer.len() > self.max_blocks {
            return answer;
        }
        if let Ok(mut free) = self.free.lock()
            && free.len() < self.keep
        {
            free.push(buffer);
        }
        answer
    }

    /// How many buffers are kept now.
    #[cfg(test)]
    pub(crate) fn kept(&self) -> usize {
        self.free.lock().map_or(0, |free| free.len())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn buffers_are_reused_zeroed_and_bounded() {
        let memory = Memory::new(1, 8);
        let address = memory.with(8, |blocks| {
            blocks[3].as_mut().fill(7);
            blocks.as_ptr() as usize
        });
        assert_eq!(memory.kept(), 1);
        let (again, clean) = memory.with(8, |blocks| {
            (
                blocks.as_ptr() as usize,
                blocks
                    .iter()
                    .all(|block| block.as_ref().iter().all(|word| *word == 0)),
            )
        });
        assert_eq!(again, address, "the same buffer, lent again");
        assert!(clean, "nothing of the last check is left in it");
        // Two at once: the second is allocated, and dropped after, as one is kept.
        memory.with(4, |_| memory.with(4, |_| ()));
        assert_eq!(memory.kept(), 1);
        // A buffer larger than the kept size is given back, not kept.
        let kept = memory.with(8, |blocks| blocks.as_ptr() as usize);
        memory.with(8, |_| memory.with(16, |_| ()));
        assert_eq!(memory.kept(), 1);
        assert_eq!(memory.with(8, |blocks| blocks.as_ptr() as usize), kept);
    }
}
