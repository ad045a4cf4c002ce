//! A failed id switch in the child, in words (**parent**).

use nix::errno::Errno;

/// Why setgroups, setresgid or setresuid failed, where the mapping is the likely cause.
pub(crate) fn id_hint(errno: Errno) -> Option<&'static str> {
    (errno == Errno::EINVAL || errno == Errno::EPERM).then_some(
        "the id must be mapped in the user namespace (see UserMapping), and setgroups is denied without privileges",
    )
}
