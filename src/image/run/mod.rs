//! Running an image (**parent**): [`SandboxBuilder::image`](crate::SandboxBuilder::image)
//! makes the root an overlay of the image's layers (through `mount/overlay/`) and its
//! config's Entrypoint, Cmd, Env, WorkingDir and User the defaults of the sandbox's commands.
//!
//! - spec: [`spec`] (what the builder records), [`error`] (`ImageRunError`, public);
//! - plan: [`plan`] (the defaults compiled at `build()`: the environment, directory and ids),
//!   [`user`] (`User` resolved against the image's `/etc/passwd` and `/etc/group`), read from
//!   the layers by [`layers`] (top first, whiteouts and opaque directories respected);
//! - [`command`]: the image's command (`Sandbox::image_command`);
//! - [`options`]: `UnpackOptions::for_user_namespace`, a store's layers owned as a user
//!   namespace's mapping shows them.
//!
//! There is no child side: the overlay is the mount wing's, and the defaults end up in the
//! command's `ExecPlan` (`spawn::prepare`).

pub(crate) mod command;
pub(crate) mod error;
pub(crate) mod layers;
pub(crate) mod options;
pub(crate) mod plan;
pub(crate) mod spec;
pub(crate) mod user;
