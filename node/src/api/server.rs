//! The actor that owns the REST + gRPC listener. The socket is bound once by
//! the node (so a port conflict fails start-up at once); each incarnation of
//! this actor serves a duplicate of it. If serving ends with an error the
//! actor fails and the node's supervisor restarts it ([`ListenerChild`] is
//! how the supervisor, a layer below, knows how to start it).

use ractor::{Actor, ActorCell, ActorProcessingErr, ActorRef};
use tokio::sync::oneshot;
use tokio::task::JoinHandle;

pub struct ApiServer;

/// The listener as a child of the node's supervisor.
pub struct ListenerChild {
    pub router: axum::Router,
    pub listener: std::net::TcpListener,
    pub limits: super::listen::ListenLimits,
    pub tls: Option<super::listen::ListenTls>,
}

impl crate::actors::supervisor::ChildSpec for ListenerChild {
    fn name(&self) -> String {
        "api-server".to_string()
    }

    fn spawn(
        &self,
        supervisor: ActorCell,
    ) -> std::pin::Pin<Box<dyn std::future::Future<Output = Result<ActorCell, ActorProcessingErr>> + Send>>
    {
        let router = self.router.clone();
        let listener = self.listener.try_clone();
        let name = self.name();
        let limits = self.limits;
        let tls = self.tls.clone();
        Box::pin(async move {
            let args = ApiServerArgs {
                router,
                listener: listener?,
                limits,
                tls,
            };
            let (actor, _) = Actor::spawn_linked(Some(name), ApiServer, args, supervisor).await?;
            Ok(actor.get_cell())
        })
    }
}

pub struct ApiServerArgs {
    pub router: axum::Router,
    pub listener: std::net::TcpListener,
    pub limits: super::listen::ListenLimits,
    pub tls: Option<super::listen::ListenTls>,
}

#[derive(ractor_cluster::RactorMessage)]
pub enum ApiServerMsg {
    /// The serving task ended; `Err` carries why.
    Exited(Result<(), String>),
}

pub struct ApiServerState {
    shutdown: Option<oneshot::Sender<()>>,
    task: JoinHandle<()>,
}

impl Actor for ApiServer {
    type Msg = ApiServerMsg;
    type State = ApiServerState;
    type Arguments = ApiServerArgs;

    async fn pre_start(
        &self,
        myself: ActorRef<Self::Msg>,
        args: ApiServerArgs,
    ) -> Result<Self::State, ActorProcessingErr> {
        let std_listener = args.listener.try_clone()?;
        std_listener.set_nonblocking(true)?;
        let listener = tokio::net::TcpListener::from_std(std_listener)?;
        let (tx, rx) = oneshot::channel();
        let task = tokio::spawn(async move {
            let shutdown = async {
                let _ = rx.await;
            };
            let result = super::listen::serve(listener, args.router, args.limits, args.tls, shutdown)
                .await
                .map_err(|e| e.to_string());
            let _ = myself.cast(ApiServerMsg::Exited(result));
        });
        Ok(ApiServerState {
            shutdown: Some(tx),
            task,
        })
    }

    async fn handle(
        &self,
        myself: ActorRef<Self::Msg>,
        msg: Self::Msg,
        _state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        match msg {
            ApiServerMsg::Exited(Ok(())) => {
                myself.stop(Some("listener closed".into()));
                Ok(())
            }
            ApiServerMsg::Exited(Err(e)) => Err(format!("the API listener failed: {e}").into()),
        }
    }

    async fn post_stop(
        &self,
        _myself: ActorRef<Self::Msg>,
        state: &mut Self::State,
    ) -> Result<(), ActorProcessingErr> {
        if let Some(tx) = state.shutdown.take() {
            let _ = tx.send(());
        }
        // Give in-flight requests a moment, then drop the task.
        if tokio::time::timeout(std::time::Duration::from_secs(5), &mut state.task)
            .await
            .is_err()
        {
            state.task.abort();
        }
        Ok(())
    }
}
