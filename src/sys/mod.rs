//! The only place in isobox with `unsafe` code: thin wrappers over system calls.
//!
//! - [`raw`] and [`child`]: errno-free system calls for the **child** between clone and exec;
//!   [`mount_api`]: the fd-based mount calls (openat2, open_tree, move_mount, fsopen…) it
//!   uses inside the new root.
//!   [`caps`]: its capability calls (prctl with every argument, capset); [`overlay`]: the
//!   few more an overlay root needs.
//! - [`vmclone`]: the clone that shares the parent's memory, and the rules that make it sound;
//!   [`clone3`]: the stack-switching clone3 call it prefers; [`stack`]: the child's stack;
//!   [`launch`]: its one call, with the child's recipe (**parent**).
//! - [`join`]: `Child::exec`'s setns and second clone (**child**); [`join_start`]: that
//!   clone's one call; [`launch_join`]: the start of its first process (**parent**).
//! - [`netlink`]: a `NETLINK_ROUTE` socket's calls, errno-free (**parent** now, **child** later).
//! - [`process`]: waiting and signalling from the **parent**; [`fd`]: descriptor helpers;
//!   [`sched`]: the CPU priority of isobox's background threads and of pooled commands
//!   (**parent**).
//! - [`cstr_array`]: argv/envp arrays; [`image_xattr`]: an xattr read by the **parent** (an
//!   image's opaque directories).
//! - [`doctor`]: the doctor's probes of which system calls the kernel has (**parent**).
//! - [`build`]: reading an upper directory's overlay xattrs to commit it (**parent**).
//! - [`tree`]: directory calls by descriptor, for the **parent** to remove a tree that
//!   someone else may be changing (an overlay's upper directory).
//! - `landlock` (feature `landlock`): Landlock's system calls, for the **child** (and the ABI
//!   query of the **parent**).
//! - [`seccomp`]: installing a filter, for the **child**; [`notify`]: taking its listener and
//!   answering it, for the **parent**.
//!
//! # Safety
//! Each module's own `# Safety` section says what its `unsafe` code relies on; every block
//! carries a `// SAFETY:` comment (`clippy::undocumented_unsafe_blocks` is denied).
#![allow(unsafe_code)]

pub mod build;
pub mod caps;
pub mod child;
pub mod clone3;
pub mod cstr_array;
pub mod doctor;
pub mod fd;
pub mod image_xattr;
pub mod init_exe;
pub mod join;
pub mod join_start;
#[cfg(feature = "landlock")]
pub mod landlock;
pub mod launch;
pub mod launch_join;
pub mod launch_program;
pub mod mount_api;
pub mod netlink;
pub mod notify;
pub mod overlay;
pub mod process;
pub mod raw;
pub mod sched;
pub mod seccomp;
pub mod stack;
pub mod syscall6;
pub mod tree;
pub mod usermode;
pub mod vfork;
pub mod vmclone;
pub mod xattr;

pub use cstr_array::CStrArray;
