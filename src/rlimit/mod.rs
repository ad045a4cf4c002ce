//! Resource limits set with setrlimit before exec: [`spec`] (public), [`plan`] (checked at
//! `build()`), [`apply`] (**child**), [`describe`].

pub(crate) mod apply;
pub(crate) mod describe;
pub(crate) mod plan;
pub(crate) mod spec;
