//! A `NETLINK_ROUTE` socket: open, bind, send, receive.
//!
//! Each call is one raw system call through `child::call` (errno-free, no allocation), so the
//! same functions serve the **parent** (`net::netlink`, which owns the descriptor through
//! [`open_owned`]) and, later, the **child**, which sends messages the parent encoded.
//!
//! # Safety
//! One `unsafe` block takes ownership of the descriptor socket(2) just returned; every system
//! call passes only integers and pointers from live references (see `child::call`).

#![allow(dead_code)] // Used by `net::netlink`, which the veth network mode (issue 13) will call.

use std::os::fd::{FromRawFd, OwnedFd, RawFd};

use nix::errno::Errno;

use super::child::{call, close};

/// `setsockopt(SOL_NETLINK, NETLINK_CAP_ACK)`: an error ack carries only the request's header.
const NETLINK_CAP_ACK: i32 = 10;
/// `setsockopt(SOL_NETLINK, NETLINK_EXT_ACK)`: an error ack carries the kernel's message.
const NETLINK_EXT_ACK: i32 = 11;

/// The kernel's `struct sockaddr_nl`.
#[repr(C)]
struct SockaddrNl {
    family: u16,
    pad: u16,
    pid: u32,
    groups: u32,
}

impl SockaddrNl {
    /// Port id 0, no groups: as a bind address, "choose my port id"; as a destination, the kernel.
    const KERNEL_CHOOSES: Self = Self { family: libc::AF_NETLINK as u16, pad: 0, pid: 0, groups: 0 };
    const LEN: usize = std::mem::size_of::<Self>();

    fn ptr(&self) -> usize {
        self as *const Self as usize
    }
}

/// Opens a `NETLINK_ROUTE` socket (`SOCK_CLOEXEC`), bound to a kernel-chosen port id, with
/// extended acks and capped error acks asked for (both best effort: old kernels lack them).
/// Async-signal-safe: does not allocate.
pub fn open() -> Result<RawFd, Errno> {
    let kind = (libc::SOCK_RAW | libc::SOCK_CLOEXEC) as usize;
    let fd = call(libc::SYS_socket, [libc::AF_NETLINK as usize, kind, libc::NETLINK_ROUTE as usize, 0, 0, 0])? as RawFd;
    let addr = SockaddrNl::KERNEL_CHOOSES;
    let bound = call(libc::SYS_bind, [fd as usize, addr.ptr(), SockaddrNl::LEN, 0, 0, 0]);
    if let Err(e) = bound {
        let _ = close(fd);
        return Err(e);
    }
    let _ = set_flag(fd, NETLINK_EXT_ACK);
    let _ = set_flag(fd, NETLINK_CAP_ACK);
    Ok(fd)
}

/// [`open`], the descriptor owned (**parent**).
pub fn open_owned() -> Result<OwnedFd, Errno> {
    let fd = open()?;
    // SAFETY: `fd` was just made by socket(2) in `open` and nothing else owns it.
    Ok(unsafe { OwnedFd::from_raw_fd(fd) })
}

/// `getsockopt(SOL_SOCKET, SO_NETNS_COOKIE)` (Linux 5.14): the id of the socket's network
/// namespace. Unlike the namespace's inode, which the kernel gives to a new namespace once
/// the old one is freed, a cookie is never used again while the machine runs.
const SO_NETNS_COOKIE: i32 = 71;

/// The cookie of the network namespace `fd` was made in; `ENOPROTOOPT` before Linux 5.14.
pub fn netns_cookie(fd: RawFd) -> Result<u64, Errno> {
    let mut cookie: u64 = 0;
    let mut len: u32 = 8;
    let (out, len_ptr) = (&mut cookie as *mut u64 as usize, &mut len as *mut u32 as usize);
    call(libc::SYS_getsockopt, [fd as usize, libc::SOL_SOCKET as usize, SO_NETNS_COOKIE as usize, out, len_ptr, 0])?;
    Ok(cookie)
}

/// Turns on the int socket option `opt` of level `SOL_NETLINK`.
fn set_flag(fd: RawFd, opt: i32) -> Result<(), Errno> {
    let one: i32 = 1;
    let args = [fd as usize, libc::SOL_NETLINK as usize, opt as usize, &one as *const i32 as usize, 4, 0];
    call(libc::SYS_setsockopt, args).map(drop)
}

/// Sends one datagram (one or more netlink messages) to the kernel, retried on EINTR.
/// Async-signal-safe: does not allocate.
pub fn send(fd: RawFd, msg: &[u8]) -> Result<usize, Errno> {
    let kernel = SockaddrNl::KERNEL_CHOOSES;
    let (addr, len) = (kernel.ptr(), SockaddrNl::LEN);
    loop {
        match call(libc::SYS_sendto, [fd as usize, msg.as_ptr() as usize, msg.len(), 0, addr, len]) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}

/// Receives one datagram into `buf`, retried on EINTR. Returns its full length
/// (`MSG_TRUNC`): a length above `buf.len()` means it did not fit and was cut.
/// Async-signal-safe: does not allocate.
pub fn recv(fd: RawFd, buf: &mut [u8]) -> Result<usize, Errno> {
    let flags = libc::MSG_TRUNC as usize;
    loop {
        match call(libc::SYS_recvfrom, [fd as usize, buf.as_mut_ptr() as usize, buf.len(), flags, 0, 0]) {
            Err(Errno::EINTR) => continue,
            other => return other,
        }
    }
}
