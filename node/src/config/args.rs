//! The `isnode` command line: the node's flags and the text of `--help`
//! (every setting with its environment override), and the hidden runner
//! mode with the sandbox flags the node passes its runners.

use std::path::PathBuf;

use clap::Parser;

/// `isnode` command line. Settings not given here come from the environment,
/// then the config file, then the defaults shown.
#[derive(Debug, Parser, Default)]
#[command(
    name = "isnode",
    version,
    about = "Integration Service node. With no arguments it starts the embedded default: a one-node \
             cluster with data in ./is-data serving REST and gRPC on 127.0.0.1:8080.",
    after_help = "CONFIG FILE (TOML, all keys optional)      ENVIRONMENT OVERRIDE\n  \
        node_id = 1                                IS_NODE_ID\n  \
        data_dir = \"./is-data\"                     IS_DATA_DIR\n  \
        listen = \"127.0.0.1:8080\"  port 0: any     IS_LISTEN\n  \
        advertise = \"<listen>\"  address peers use  IS_ADVERTISE (port 0: the bound port)\n  \
        max_body_bytes = 33554432  request limit     IS_MAX_BODY_BYTES\n  \
        snapshot_every = 5000  entries per snapshot  IS_SNAPSHOT_EVERY\n  \
        keep_after_snapshot = 1000  log kept         IS_KEEP_AFTER_SNAPSHOT\n  \
        log_format = \"text\" | \"json\"               IS_LOG_FORMAT\n  \
        runner_memory_limit_mb = 2048  per runner    IS_RUNNER_MEMORY_MB (0: no limit; with a cgroup, its whole process tree)\n  \
        runner_user = \"nobody\"  runners run as it  IS_RUNNER_USER (when the node runs as root)\n  \
        runner_shared_dirs = []  steps read+write    IS_RUNNER_SHARED_DIRS (comma-separated; all else is closed to steps)\n  \
        validation_timeout_seconds = 30  step upload IS_VALIDATION_TIMEOUT_SECONDS (loading longer is a 400)\n  \
        max_output_bytes = 67108864  step output     IS_MAX_OUTPUT_BYTES\n  \
        max_app_steps = 2000  per application        IS_MAX_APP_STEPS\n  \
        max_app_edges = 20000  per application       IS_MAX_APP_EDGES\n  \
        max_task_log_bytes = 10485760  task log      IS_MAX_TASK_LOG_BYTES\n  \
        max_inline_result_bytes = 1048576  result    IS_MAX_INLINE_RESULT_BYTES\n  \
        result_expires_seconds = 86400  run history  IS_RESULT_EXPIRES_SECONDS\n  \
        audit_expires_seconds = 7776000  audit trail IS_AUDIT_EXPIRES_SECONDS (90 days)\n  \
        session_expires_seconds = 3600  web UI idle  IS_SESSION_EXPIRES_SECONDS (renewed while in use; 24 h at most)\n  \
        step_timeout_seconds = 0  default; 0: none   IS_STEP_TIMEOUT_SECONDS\n  \
        [[worker_pools]] queues = [\"default\"], concurrency = <cores>\n  \
            (repeatable; a pool with no queues serves default)  IS_WORKERS (size of the default pool)\n  \
        log_level = \"info,openraft=warn\"           IS_LOG\n  \
        cluster_secret = \"...\"  node-to-node auth   IS_CLUSTER_SECRET (same on every node, >= 16 chars)\n  \
        key_file = \"DATA/key-encryption-key\"  seals the cluster key  IS_KEY_FILE (or IS_KEY: base64 of 32 bytes;\n  \
                                              the same on every node; generated, mode 0600, when missing)\n  \
        join = [\"host:port\", ...]  members to join  IS_JOIN (comma-separated; only read when DIR is new)\n  \
        drain_timeout_seconds = 30  on SIGTERM       IS_DRAIN_TIMEOUT_SECONDS\n  \
        schedule_grace_seconds = 60  late slots fire IS_SCHEDULE_GRACE_SECONDS (older ones are recorded as missed)\n  \
        header_read_timeout_seconds = 10  slow or silent clients are closed  IS_HEADER_READ_TIMEOUT_SECONDS\n  \
        max_connections = 4096  open at once on the listener  IS_MAX_CONNECTIONS\n  \
        leader_wait_seconds = 10  a write waits for a leader  IS_LEADER_WAIT_SECONDS (then 503)\n  \
        cluster_listen = \"<listen host>:<port+10000>\"  actor network  IS_CLUSTER_LISTEN (with cluster_secret)\n  \
        tls = \"self-signed\" | \"off\"  TLS with a certificate generated once in DIR  IS_TLS\n  \
                                              (DIR/tls-cert.pem, key DIR/tls-key.pem mode 0600; its SHA-256 is logged at start)\n  \
        tls_cert_file = \"/path/cert.pem\"  PEM chain   IS_TLS_CERT_FILE (with tls_key_file: TLS on; default: plain)\n  \
        tls_key_file = \"/path/key.pem\"  PEM key       IS_TLS_KEY_FILE\n  \
        tls_ca_file = \"/path/ca.pem\"  verifies peers  IS_TLS_CA_FILE (CA or the peers' certificates, concatenated;\n  \
                                              default: this node's own certificate)\n  \
        allow_plain_loopback = false  with TLS      IS_ALLOW_PLAIN_LOOPBACK (true: plain HTTP from 127.0.0.1/::1 too)\n  \
        syncpack_max_bytes = 104857600  wheel upload  IS_SYNCPACK_MAX_BYTES\n  \
        syncpack_wheel_dir = \"/path\"  local wheels   IS_SYNCPACK_WHEEL_DIR (offline installs; pip --find-links)\n  \
        syncpack_use_index = true  PyPI or index_url IS_SYNCPACK_USE_INDEX (false: only the wheel dir)\n  \
        syncpack_index_url = \"https://...\"         IS_SYNCPACK_INDEX_URL (default: pip's)\n  \
        syncpack_base_packages = [\"requests\", \"future\", \"jinja2\", \"six\"]  IS_SYNCPACK_BASE_PACKAGES (comma-separated)\n  \
        syncpack_python = \"python3\"  runs pip     IS_SYNCPACK_PYTHON\n  \
        syncpack_install_timeout_seconds = 600       IS_SYNCPACK_INSTALL_TIMEOUT_SECONDS\n  \
        base_pack = true  Base Steps pack at bootstrap  IS_BASE_PACK (false: a cluster without it)\n  \
        otlp_endpoint = \"http://host:4318\"  spans   IS_OTLP_ENDPOINT (or OTEL_EXPORTER_OTLP_ENDPOINT; OTLP/HTTP,\n  \
                                              http:// only; a span per step attempt, a trace per run; default: none)\n\n\
        Once listening, the node writes the bound address (HOST:PORT and a newline) to \
        DIR/listen-address, replaced atomically: with listen port 0 this is how scripts learn the port.\n\
        IS_ADMIN_PASSWORD sets the password of the administrator 'isadmin' when the data directory \
        is new; without it a random password is generated, written to DIR/initial-admin-password \
        (mode 0600) and printed once.\n\
        SIGTERM or Ctrl-C drains the node: it takes no more steps, lets running ones finish \
        (up to drain_timeout_seconds), hands Raft leadership to another voter and exits 0."
)]
pub struct Args {
    /// Directory holding this node's Raft log, snapshots and keys.
    #[arg(long, value_name = "DIR")]
    pub data_dir: Option<PathBuf>,
    /// Address of the REST + gRPC listener (port 0: any free port; the
    /// bound address is written to DIR/listen-address).
    #[arg(long, value_name = "HOST:PORT")]
    pub listen: Option<String>,
    /// TOML file with further settings (see below).
    #[arg(long, value_name = "FILE")]
    pub config: Option<PathBuf>,
    #[command(subcommand)]
    pub mode: Option<Mode>,
}

/// Internal process roles of the same binary.
#[derive(Debug, clap::Subcommand)]
pub enum Mode {
    /// A Python step runner, started by a node's step actors (not for direct use).
    #[command(hide = true)]
    Runner {
        /// Directory holding the embedded ipaascore/ipaascommon packages.
        #[arg(long, value_name = "DIR")]
        lib: PathBuf,
        /// Site directories of a SyncPack environment (the pack's, those of
        /// packs it requires, the base packages'), searched after `--lib`.
        #[arg(long, value_name = "DIR")]
        site: Vec<PathBuf>,
        #[command(flatten)]
        sandbox: RunnerSandboxArgs,
    },
}

/// The sandbox a runner applies to itself (decided by the node,
/// `python::sandbox`; applied by `python::confine`).
#[derive(Debug, Clone, Default, clap::Args)]
pub struct RunnerSandboxArgs {
    /// The runner's private temporary directory (its only writable place).
    #[arg(long, value_name = "DIR")]
    pub tmp: Option<PathBuf>,
    /// Switch to this user id (with --gid).
    #[arg(long, requires = "gid")]
    pub uid: Option<u32>,
    #[arg(long, requires = "uid")]
    pub gid: Option<u32>,
    /// cgroup directories to join.
    #[arg(long, value_name = "DIR")]
    pub cgroup: Vec<PathBuf>,
    /// New PID and mount namespaces.
    #[arg(long)]
    pub namespaces: bool,
    /// Restrict the file system with Landlock to --read, --tmp and devices.
    #[arg(long)]
    pub landlock: bool,
    /// Paths readable under Landlock.
    #[arg(long, value_name = "PATH")]
    pub read: Vec<PathBuf>,
    /// Directories readable and writable under Landlock.
    #[arg(long, value_name = "DIR")]
    pub shared: Vec<PathBuf>,
    /// RLIMIT_AS of each process.
    #[arg(long)]
    pub memory_bytes: Option<u64>,
    /// RLIMIT_NPROC.
    #[arg(long)]
    pub max_processes: Option<u64>,
}
