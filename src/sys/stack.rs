//! The child's stack (**parent** side): an anonymous mapping with a guard page, kept for
//! reuse between spawns.
//!
//! # Safety
//! The `unsafe` blocks map, protect and unmap the memory, and mark the type `Send`.

use std::ffi::c_void;
use std::io;
use std::sync::Mutex;

/// The usable size of each stack.
const STACK_SIZE: usize = 256 * 1024;

/// An anonymous mapping for the child's stack, with a guard page at the bottom so an overflow
/// faults instead of writing into the parent's memory.
pub struct Stack {
    pub base: *mut c_void,
    pub len: usize,
}

// SAFETY: a Stack is an anonymous mapping owned by one value at a time; moving it between
// threads is moving a pointer to memory nobody else uses.
unsafe impl Send for Stack {}

/// Stacks kept for reuse: mapping and unmapping one per spawn costs system calls, page faults
/// and, in a multi-threaded parent, TLB shootdowns on every CPU.
static SPARE_STACKS: Mutex<Vec<Stack>> = Mutex::new(Vec::new());
const MAX_SPARE_STACKS: usize = 8;

impl Stack {
    /// A spare stack, or a new one.
    pub fn take() -> io::Result<Stack> {
        let spare = SPARE_STACKS.lock().unwrap_or_else(|p| p.into_inner()).pop();
        spare.map_or_else(|| Stack::new(STACK_SIZE), Ok)
    }

    /// Keeps the stack for the next spawn (or unmaps it if enough are kept). Only for a stack
    /// no child runs on any more.
    pub fn give_back(self) {
        let mut spare = SPARE_STACKS.lock().unwrap_or_else(|p| p.into_inner());
        if spare.len() < MAX_SPARE_STACKS {
            spare.push(self);
        }
    }

    fn new(size: usize) -> io::Result<Stack> {
        let guard = page_size();
        let len = size + guard;
        let prot = libc::PROT_READ | libc::PROT_WRITE;
        let flags = libc::MAP_PRIVATE | libc::MAP_ANONYMOUS | libc::MAP_STACK | libc::MAP_NORESERVE;
        // SAFETY: a fresh anonymous mapping; no existing memory is affected.
        let base = unsafe { libc::mmap(std::ptr::null_mut(), len, prot, flags, -1, 0) };
        if base == libc::MAP_FAILED {
            return Err(io::Error::last_os_error());
        }
        let stack = Stack { base, len };
        // SAFETY: the first page lies inside the mapping just created.
        if unsafe { libc::mprotect(base, guard, libc::PROT_NONE) } != 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(stack)
    }

    pub fn top(&mut self) -> *mut c_void {
        // SAFETY: one past the end of the mapping, where a downward-growing stack starts.
        unsafe { self.base.cast::<u8>().add(self.len).cast() }
    }
}

impl Drop for Stack {
    fn drop(&mut self) {
        // SAFETY: unmaps exactly the mapping created in `new`; nothing runs on it any more.
        unsafe { libc::munmap(self.base, self.len) };
    }
}

fn page_size() -> usize {
    // SAFETY: sysconf has no preconditions.
    let size = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    if size > 0 {
        size as usize
    } else {
        4096
    }
}
