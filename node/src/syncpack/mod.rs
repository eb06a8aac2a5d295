//! SyncPacks on this node: reading uploaded wheels safely (`wheel`) and
//! building pack environments with pip (`env`). The replicated record of a
//! pack is `model::syncpack`'s; applying its commands is `store::packs`'s;
//! the installer that drives `env` on every node is `actors::installer`.

pub mod env;
pub mod wheel;
