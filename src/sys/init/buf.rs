//! The waiter's memory for the command (**its own program**): one spare region mapped while
//! the sandbox waits in its pool, its first pages touched then, so the command's arrival
//! costs no `mmap` and few page faults. The body is received straight into it, with the
//! header, and the pointer arrays follow the body there; a command that does not fit gets mappings
//! of its own, as before. Mapped, not static: the same program is every sandbox's init,
//! which must not need a large data segment (a small `RLIMIT_DATA` would kill it), and a
//! limit too small for the spare region only means the command maps its own.

use crate::sys::{self, nr2};

/// The spare region's length.
const SPARE_LEN: usize = 64 * 1024;
/// How much of it is touched while the sandbox waits (resident from then on).
const TOUCHED: usize = 8 * 1024;
const PAGE: usize = 4096;

/// The spare region, or an empty slice if it could not be mapped.
pub fn spare() -> &'static mut [u8] {
    match map(SPARE_LEN) {
        Ok(at) => {
            for page in (0..TOUCHED).step_by(PAGE) {
                // SAFETY: inside the fresh mapping of SPARE_LEN bytes; a write faults the page in.
                unsafe { at.add(page).write_volatile(0) };
            }
            // SAFETY: a fresh private mapping of SPARE_LEN bytes, zeroed, used only through this.
            unsafe { core::slice::from_raw_parts_mut(at, SPARE_LEN) }
        }
        Err(_) => &mut [],
    }
}

/// Anonymous memory for `len` bytes (at least one page), zeroed, never unmapped: exec
/// replaces it.
fn map(len: usize) -> Result<*mut u8, isize> {
    let len = len.max(1);
    let r = sys::call(nr2::MMAP, [0, len, 3 /* PROT_READ|PROT_WRITE */, 0x22 /* MAP_PRIVATE|MAP_ANONYMOUS */, usize::MAX, 0]);
    if (-4095..0).contains(&r) {
        Err(r)
    } else {
        Ok(r as *mut u8)
    }
}

/// `len` bytes of new memory.
pub fn map_bytes(len: usize) -> Result<&'static mut [u8], isize> {
    let at = map(len)?;
    // SAFETY: a fresh private mapping of at least `len` bytes, zeroed, used only through this.
    Ok(unsafe { core::slice::from_raw_parts_mut(at, len) })
}

/// `n` pointers: at the start of `room` if they fit there (its start 8-aligned), else new
/// memory.
pub fn pointers(room: &'static mut [u8], n: usize) -> Result<&'static mut [*const u8], isize> {
    let bytes = n * core::mem::size_of::<*const u8>();
    let at = if room.len() >= bytes && (room.as_ptr() as usize) % 8 == 0 { room.as_mut_ptr() } else { map(bytes)? };
    // SAFETY: `at` is 8-aligned and holds `bytes` bytes used only through this: the rest of
    // the spare region past the body (nothing else refers to it), or a fresh mapping. Every
    // slot is written before it is read (`wait::run` fills each one).
    Ok(unsafe { core::slice::from_raw_parts_mut(at as *mut *const u8, n) })
}

/// Where the pointer arrays may go in the spare region once `body_len` bytes of it are the
/// body: the rest, from the next 8-byte boundary.
pub fn after(spare: &'static mut [u8], body_len: usize) -> (&'static mut [u8], &'static mut [u8]) {
    let cut = ((body_len + 7) & !7).min(spare.len());
    let (body, rest) = spare.split_at_mut(cut);
    (&mut body[..body_len.min(cut)], rest)
}
