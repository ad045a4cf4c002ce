//! Time namespaces: [`spec`] (`TimeOffsets`, public), [`plan`] (at `build()`), [`apply`]
//! (**child**), [`describe`].

pub(crate) mod apply;
pub(crate) mod describe;
pub(crate) mod plan;
pub(crate) mod spec;
