//! A NULL-terminated array of C strings (argv, envp), built in the **parent** and read by
//! the kernel at the child's execve.
//!
//! # Safety
//! The two `unsafe impl`s declare the raw pointer array `Send` and `Sync`: it points only into
//! strings the value owns and never changes.

use std::ffi::{CStr, CString};
use std::os::raw::c_char;

/// Owns its strings and the pointer array the kernel reads, so the pointers stay valid for
/// as long as the value lives.
#[derive(Debug)]
pub struct CStrArray {
    strings: Vec<CString>,
    ptrs: Vec<*const c_char>,
}

// SAFETY: the raw pointers point into `strings`, which the value owns and never mutates;
// sharing or sending it is as safe as sharing the `CString`s themselves.
unsafe impl Send for CStrArray {}
// SAFETY: as above: nothing is mutated through a shared reference.
unsafe impl Sync for CStrArray {}

impl CStrArray {
    pub fn new(strings: Vec<CString>) -> Self {
        let mut ptrs: Vec<*const c_char> = strings.iter().map(|s| s.as_ptr()).collect();
        ptrs.push(std::ptr::null());
        CStrArray { strings, ptrs }
    }

    /// The NULL-terminated pointer array.
    pub fn as_ptr(&self) -> *const *const c_char {
        self.ptrs.as_ptr()
    }

    pub fn iter(&self) -> impl Iterator<Item = &CStr> {
        self.strings.iter().map(|s| s.as_c_str())
    }
}

impl Clone for CStrArray {
    fn clone(&self) -> Self {
        CStrArray::new(self.strings.clone())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn pointers_are_null_terminated_and_point_at_the_strings() {
        let arr = CStrArray::new(vec![CString::new("a").unwrap(), CString::new("bc").unwrap()]);
        assert_eq!(arr.ptrs.len(), 3);
        assert_eq!(arr.ptrs[0], arr.strings[0].as_ptr());
        assert_eq!(arr.ptrs[1], arr.strings[1].as_ptr());
        assert!(arr.ptrs[2].is_null());
        let copy = arr.clone();
        assert_eq!(copy.iter().collect::<Vec<_>>(), arr.iter().collect::<Vec<_>>());
        assert_eq!(copy.ptrs[1], copy.strings[1].as_ptr(), "a clone points at its own strings");
    }
}
