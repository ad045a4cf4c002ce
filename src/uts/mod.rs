//! The UTS namespace's names: [`plan`] (checked at `build()`), [`apply`] (**child**).

pub(crate) mod apply;
pub(crate) mod plan;
