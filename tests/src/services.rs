//! Real servers the Base Steps pack's steps talk to, each started by the
//! test on loopback in a temporary directory and stopped when dropped: a
//! MariaDB server (`mariadbd`, for the MySQL steps) and an OpenSSH server
//! (`sshd`, for the SSH step). `.ci/run` installs both; a machine without
//! them fails the test with a message naming the package.

use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::time::Duration;

use anyhow::{bail, Context, Result};

use crate::{poll, Progress};

const START_WITHIN: Duration = Duration::from_secs(30);

/// A port free on 127.0.0.1 now. Servers that cannot listen on port 0
/// (mariadbd takes 0 as 3306) get one this way; the port stays below the
/// ephemeral range only by chance, so a server that fails to bind is
/// reported with its log.
fn free_port() -> Result<u16> {
    Ok(std::net::TcpListener::bind("127.0.0.1:0")?.local_addr()?.port())
}

fn program(name: &str, package: &str) -> Result<PathBuf> {
    for dir in ["/usr/sbin", "/usr/bin", "/sbin", "/bin"] {
        let path = Path::new(dir).join(name);
        if path.exists() {
            return Ok(path);
        }
    }
    bail!("{name} is not installed: install the Debian package {package} (.ci/run does)")
}

fn run(cmd: &mut Command, what: &str) -> Result<()> {
    let out = cmd.output().with_context(|| format!("start {what}"))?;
    if !out.status.success() {
        bail!(
            "{what} failed ({}): {}{}",
            out.status,
            String::from_utf8_lossy(&out.stdout),
            String::from_utf8_lossy(&out.stderr)
        );
    }
    Ok(())
}

fn log_of(path: &Path) -> String {
    std::fs::read_to_string(path).unwrap_or_default()
}

/// A MariaDB server with a database `is_test` and a user who may do
/// anything with it, logging in over TCP with a password.
pub struct MariaDb {
    dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
    pub user: &'static str,
    pub password: &'static str,
    pub database: &'static str,
}

impl MariaDb {
    pub async fn start() -> Result<MariaDb> {
        let server = program("mariadbd", "mariadb-server")?;
        let install = program("mariadb-install-db", "mariadb-server")?;
        let dir = tempfile::tempdir()?;
        let data = dir.path().join("data");
        run(
            Command::new(install)
                .arg("--no-defaults")
                .arg(format!("--datadir={}", data.display()))
                .args([
                    "--user=root",
                    "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                ]),
            "mariadb-install-db",
        )?;
        let port = free_port()?;
        let socket = dir.path().join("sock");
        let log = dir.path().join("server.log");
        let child = Command::new(server)
            .arg("--no-defaults")
            .arg(format!("--datadir={}", data.display()))
            .arg(format!("--socket={}", socket.display()))
            .arg(format!("--port={port}"))
            .arg(format!("--log-error={}", log.display()))
            .arg(format!("--pid-file={}", dir.path().join("pid").display()))
            .args(["--bind-address=127.0.0.1", "--user=root", "--skip-name-resolve"])
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start mariadbd")?;
        let mut db = MariaDb {
            dir,
            child,
            port,
            user: "is_user",
            password: "is-pass-4711",
            database: "is_test",
        };
        let client = program("mariadb", "mariadb-client")?;
        poll(START_WITHIN, async || {
            if let Ok(Some(status)) = db.child.try_wait() {
                bail!("mariadbd exited ({status}):\n{}", log_of(&log));
            }
            let ready = Command::new(&client)
                .arg(format!("--socket={}", socket.display()))
                .args(["-u", "root", "-e", "SELECT 1"])
                .output()
                .is_ok_and(|o| o.status.success());
            Ok(if ready {
                Progress::Done(())
            } else {
                Progress::NotYet(format!(
                    "mariadbd did not answer within {START_WITHIN:?}:\n{}",
                    log_of(&log)
                ))
            })
        })
        .await?;
        db.sql_as_root(&format!(
            "CREATE DATABASE {db}; CREATE USER '{u}'@'127.0.0.1' IDENTIFIED BY '{p}'; \
             GRANT ALL ON {db}.* TO '{u}'@'127.0.0.1';",
            db = db.database,
            u = db.user,
            p = db.password
        ))?;
        Ok(db)
    }

    /// Runs SQL as the server's root (over its socket); answers what the
    /// client printed (tab-separated rows, no headers).
    pub fn sql_as_root(&mut self, sql: &str) -> Result<String> {
        let out = Command::new(program("mariadb", "mariadb-client")?)
            .arg(format!("--socket={}", self.dir.path().join("sock").display()))
            .args(["-u", "root", "--batch", "--skip-column-names", "-e", sql])
            .output()
            .context("run the mariadb client")?;
        if !out.status.success() {
            bail!("{sql}: {}", String::from_utf8_lossy(&out.stderr));
        }
        Ok(String::from_utf8_lossy(&out.stdout).into_owned())
    }
}

impl Drop for MariaDb {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// An OpenSSH server accepting one key pair for the user running the test.
pub struct Sshd {
    _dir: tempfile::TempDir,
    child: Child,
    pub port: u16,
    pub user: String,
    /// The client's private key (OpenSSH PEM text).
    pub private_key: String,
    /// The host key's SHA-256 fingerprint as `ssh-keygen -l` prints it.
    pub host_fingerprint: String,
}

impl Sshd {
    pub async fn start() -> Result<Sshd> {
        let server = program("sshd", "openssh-server")?;
        let keygen = program("ssh-keygen", "openssh-client")?;
        let dir = tempfile::tempdir()?;
        let path = |name: &str| dir.path().join(name);
        for key in ["host_key", "client_key"] {
            run(
                Command::new(&keygen)
                    .args(["-q", "-t", "ed25519", "-N", "", "-f"])
                    .arg(path(key)),
                "ssh-keygen",
            )?;
        }
        std::fs::copy(path("client_key.pub"), path("authorized_keys"))?;
        let fingerprint = Command::new(&keygen)
            .arg("-lf")
            .arg(path("host_key.pub"))
            .output()?;
        let host_fingerprint = String::from_utf8_lossy(&fingerprint.stdout)
            .split_whitespace()
            .nth(1)
            .context("ssh-keygen -l printed no fingerprint")?
            .to_string();
        // Privilege separation needs this directory (systemd usually makes it).
        std::fs::create_dir_all("/run/sshd")?;
        let port = free_port()?;
        let log = path("sshd.log");
        let config = format!(
            "Port {port}\nListenAddress 127.0.0.1\nHostKey {host}\nAuthorizedKeysFile {keys}\n\
             PasswordAuthentication no\nKbdInteractiveAuthentication no\nPermitRootLogin prohibit-password\n\
             StrictModes no\nUsePAM no\nPidFile {pid}\n",
            host = path("host_key").display(),
            keys = path("authorized_keys").display(),
            pid = path("sshd.pid").display(),
        );
        std::fs::write(path("sshd_config"), config)?;
        let child = Command::new(server)
            .arg("-D")
            .arg("-f")
            .arg(path("sshd_config"))
            .arg("-E")
            .arg(&log)
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .context("start sshd")?;
        let private_key = std::fs::read_to_string(path("client_key"))?;
        // The user running the test (its key is the one authorized).
        let whoami = Command::new("id").arg("-un").output().context("run id -un")?;
        let user = String::from_utf8_lossy(&whoami.stdout).trim().to_string();
        let mut sshd = Sshd {
            _dir: dir,
            child,
            port,
            user,
            private_key,
            host_fingerprint,
        };
        poll(START_WITHIN, async || {
            if let Ok(Some(status)) = sshd.child.try_wait() {
                bail!("sshd exited ({status}):\n{}", log_of(&log));
            }
            // Listening is enough: the step then speaks SSH to it.
            let greeted = tokio::net::TcpStream::connect(("127.0.0.1", port)).await.is_ok();
            Ok(if greeted {
                Progress::Done(())
            } else {
                Progress::NotYet(format!(
                    "sshd did not listen within {START_WITHIN:?}:\n{}",
                    log_of(&log)
                ))
            })
        })
        .await?;
        Ok(sshd)
    }
}

impl Drop for Sshd {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
