//! A node's dispatch inbox: the address, reachable from every node, where
//! workers report that they are idle. It hands each report to this node's
//! dispatcher. Every node keeps track of every idle worker this way, so a
//! node that becomes leader can dispatch at once.
//!
//! Inboxes are members of the process group [`INBOXES`]; a worker reports to
//! its own node's dispatcher directly and to the other nodes' inboxes
//! ([`tell_all`]).

use ractor::{Actor, ActorProcessingErr, ActorRef};

use super::dispatcher::{dispatcher, DispatchMsg};
use super::messages::Readiness;

/// Process group of every node's dispatch inbox.
pub const INBOXES: &str = "is-dispatch-inboxes";

#[derive(ractor_cluster::RactorClusterMessage)]
pub enum InboxMsg {
    /// An encoded [`Readiness`].
    WorkerReady(Vec<u8>),
}

pub struct Inbox;

impl Actor for Inbox {
    type Msg = InboxMsg;
    type State = ();
    type Arguments = ();

    async fn pre_start(&self, myself: ActorRef<InboxMsg>, _: ()) -> Result<(), ActorProcessingErr> {
        ractor::pg::join(INBOXES.to_string(), vec![myself.get_cell()]);
        Ok(())
    }

    async fn handle(
        &self,
        _myself: ActorRef<InboxMsg>,
        msg: InboxMsg,
        _: &mut (),
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            InboxMsg::WorkerReady(bytes) => match crate::util::wire::decode::<Readiness>(&bytes) {
                Ok(r) => {
                    if let Some(d) = dispatcher() {
                        let _ = d.cast(DispatchMsg::WorkerReady(r));
                    }
                }
                Err(e) => {
                    tracing::error!(error = %e, "undecodable worker report (nodes of different versions?)")
                }
            },
        }
        Ok(())
    }
}

/// Reports `r` to this node's dispatcher directly and to every other
/// node's inbox; false if this node's dispatcher is not running.
pub fn tell_all(r: &Readiness) -> bool {
    let Some(local) = dispatcher() else {
        return false;
    };
    let remote: Vec<_> = ractor::pg::get_members(&INBOXES.to_string())
        .into_iter()
        .filter(|c| !c.get_id().is_local())
        .collect();
    if !remote.is_empty() {
        let bytes = crate::util::wire::encode(r).unwrap_or_default();
        for cell in remote {
            let inbox: ActorRef<InboxMsg> = cell.into();
            let _ = inbox.cast(InboxMsg::WorkerReady(bytes.clone()));
        }
    }
    local.cast(DispatchMsg::WorkerReady(r.clone())).is_ok()
}
