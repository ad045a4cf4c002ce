//! The program's identity and privileges (**child**), the same for a spawn and for an exec
//! into a live sandbox: a new session, the capability sets and ids in the order each needs
//! the privilege the next one drops, the death signal again (a change of credentials clears
//! it), no_new_privs. See `recipe.rs` for why each sits where it does.

use super::control;
use super::plan::ChildLaunch;
use super::record::{at, each, Record};
use super::step::Step;
use crate::child::plan::ChildSetup;
use crate::{caps, user};

/// From the new session to no_new_privs.
pub(crate) fn settle(setup: &ChildSetup, launch: &ChildLaunch<'_>) -> Result<(), Record> {
    let ids = &launch.exec.ids;
    at(Step::NewSession, control::new_session(setup.new_session))?;
    at(Step::ClearAmbient, caps::apply::clear_ambient())?;
    each(Step::DropBounding, caps::apply::drop_bounding(&setup.caps))?;
    at(Step::KeepCaps, caps::apply::keep_caps(&setup.caps, ids))?;
    at(Step::Groups, user::apply::groups(ids))?;
    at(Step::Gid, user::apply::gid(ids))?;
    at(Step::Uid, user::apply::uid(ids))?;
    at(Step::Capabilities, caps::apply::set(&setup.caps))?;
    each(Step::AmbientCapabilities, caps::apply::raise_ambient(&setup.caps))?;
    at(Step::DeathSignal, control::rearm_death_signal(setup.die_with_parent, &launch.control))?;
    at(Step::NoNewPrivs, control::set_no_new_privs(setup.no_new_privs))
}
