//! The original product's flags: uploads (`-u` with `-s/-a/-c/-k` and
//! `-f`) and syncpack activation/installation (`-A/-I` with `-n`, `-V`,
//! `-F`, and `--timeout`, which the original lacked; `-V` is also
//! `--pack-version`, and `--version VERSION` reaches it through `Cli`), combinable as short
//! flags (`-usf`, `-AIkn`), and the checks that turn them into an `Action`.

use std::path::PathBuf;

use clap::{ArgGroup, Args};

use super::{usage, Action};
use crate::error::CliError;

/// The original product's flags: uploads and syncpack activation.
#[derive(Debug, Clone, Default, Args)]
#[command(next_help_heading = "Upload and syncpack flags (original iscli)")]
#[command(group(
    ArgGroup::new("kind")
        .args(["step", "application", "configuration", "syncpack"])
        .multiple(false)
))]
pub(crate) struct LegacyArgs {
    /// Upload the file or directory given with -f (with one of -s/-a/-c/-k)
    #[arg(short = 'u', long)]
    pub(crate) upload: bool,

    /// The content is a step (a .py file, or a directory of them)
    #[arg(short = 's', long)]
    pub(crate) step: bool,

    /// The content is an application (a .json file, or a directory of them)
    #[arg(short = 'a', long)]
    pub(crate) application: bool,

    /// The content is a configuration (a .json file, or a directory of them)
    #[arg(short = 'c', long)]
    pub(crate) configuration: bool,

    /// The content is a syncpack (a .whl file, a source directory with
    /// setup.py, or a directory of those)
    #[arg(short = 'k', long)]
    pub(crate) syncpack: bool,

    /// File or directory to upload; a directory uploads every file of the
    /// chosen kind in it
    #[arg(
        short = 'f',
        long = "fileLocation",
        value_name = "FILE|DIR",
        visible_alias = "file-location"
    )]
    pub(crate) file_location: Option<PathBuf>,

    /// Activate the syncpack named with -n (register its content)
    #[arg(short = 'A', long)]
    pub(crate) activate: bool,

    /// Install the syncpack named with -n (build its environment on the
    /// nodes); after activating when both are given
    #[arg(short = 'I', long)]
    pub(crate) install: bool,

    /// Name of the syncpack to activate or install
    #[arg(short = 'n', long, value_name = "NAME")]
    pub(crate) name: Option<String>,

    /// Syncpack version to activate or install [default: the newest
    /// uploaded]; `--version VERSION`, the original iscli's spelling, works
    /// too
    #[arg(short = 'V', long = "pack-version", value_name = "VERSION")]
    pub(crate) version: Option<String>,

    /// Activate or install even if the server would refuse otherwise (e.g.
    /// the same version is already active)
    #[arg(short = 'F', long)]
    pub(crate) force: bool,

    /// Replace a syncpack wheel of the same name and version already
    /// uploaded (steps, applications and configurations are always replaced)
    #[arg(short = 'O', long)]
    pub(crate) overwrite: bool,

    /// With -I: seconds to wait for every node to finish installing before
    /// giving up (the install goes on; see it with 'iscli pack show NAME')
    /// [default: 600]
    #[arg(long = "timeout", value_name = "SECONDS",
          value_parser = clap::value_parser!(u64).range(1..))]
    pub(crate) install_timeout: Option<u64>,
}

/// How long `-I` waits for the nodes when --timeout is not given: building
/// a virtualenv with a pack's requirements can take minutes.
const DEFAULT_INSTALL_TIMEOUT_SECS: u64 = 600;

/// The kind of content an upload carries.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum ContentKind {
    Step,
    Application,
    Configuration,
    SyncPack,
}

impl ContentKind {
    /// The word used in messages ("step", "application" ...).
    pub(crate) fn noun(self) -> &'static str {
        match self {
            ContentKind::Step => "step",
            ContentKind::Application => "application",
            ContentKind::Configuration => "configuration",
            ContentKind::SyncPack => "syncpack",
        }
    }
}

/// Activate and/or install one syncpack.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct SyncPackOps {
    pub(crate) name: String,
    /// None = the newest uploaded version.
    pub(crate) version: Option<String>,
    pub(crate) activate: bool,
    pub(crate) install: bool,
    pub(crate) force: bool,
    /// How long `-I` waits for every node to finish installing.
    pub(crate) install_timeout_secs: u64,
}

/// Upload a file or a directory of files.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct UploadRequest {
    pub(crate) kind: ContentKind,
    pub(crate) path: PathBuf,
    pub(crate) overwrite: bool,
    /// Syncpack activation/installation to do after a successful upload.
    pub(crate) then: Option<SyncPackOps>,
}

impl LegacyArgs {
    /// True when any of these flags was given.
    pub(crate) fn any(&self) -> bool {
        self.upload
            || self.kind().is_some()
            || self.file_location.is_some()
            || self.activate
            || self.install
            || self.name.is_some()
            || self.version.is_some()
            || self.force
            || self.overwrite
            || self.install_timeout.is_some()
    }

    fn kind(&self) -> Option<ContentKind> {
        if self.step {
            Some(ContentKind::Step)
        } else if self.application {
            Some(ContentKind::Application)
        } else if self.configuration {
            Some(ContentKind::Configuration)
        } else if self.syncpack {
            Some(ContentKind::SyncPack)
        } else {
            None
        }
    }

    /// The action of a line without a subcommand: an upload (possibly
    /// followed by activation/installation), or activation/installation
    /// alone; a flag that does nothing in its company is a usage error.
    pub(crate) fn action(&self) -> Result<Action, CliError> {
        let ops = self.syncpack_ops()?;
        if self.upload {
            let Some(kind) = self.kind() else {
                return Err(usage(
                    "-u/--upload needs the kind of content: -s (step), -a (application), \
                     -c (configuration) or -k (syncpack)",
                ));
            };
            let Some(path) = self.file_location.clone() else {
                return Err(usage("-u/--upload needs the file or directory: -f FILE|DIR"));
            };
            return Ok(Action::Upload(UploadRequest {
                kind,
                path,
                overwrite: self.overwrite,
                then: ops,
            }));
        }
        if self.file_location.is_some() {
            return Err(usage("-f/--fileLocation is only used with -u/--upload"));
        }
        if self.overwrite {
            return Err(usage("-O/--overwrite is only used with -u/--upload"));
        }
        if let Some(ops) = ops {
            return Ok(Action::SyncPack(ops));
        }
        Err(usage(
            "nothing to do: use -u to upload, -A/-I to activate or install a syncpack, \
             or a subcommand such as 'iscli step list'",
        ))
    }

    /// `-A`/`-I` with what they need, None without them (then `-n`, `-V`
    /// and `-F` have nothing to act on).
    fn syncpack_ops(&self) -> Result<Option<SyncPackOps>, CliError> {
        if self.install_timeout.is_some() && !self.install {
            return Err(usage(
                "--timeout is only used with -I/--install (how long to wait for the nodes)",
            ));
        }
        if !(self.activate || self.install) {
            for (given, flag) in [
                (self.name.is_some(), "-n/--name"),
                (self.version.is_some(), "-V/--pack-version"),
                (self.force, "-F/--force"),
            ] {
                if given {
                    return Err(usage(&format!(
                        "{flag} is only used with -A/--activate or -I/--install"
                    )));
                }
            }
            return Ok(None);
        }
        if matches!(self.kind(), Some(k) if k != ContentKind::SyncPack) {
            return Err(usage(
                "-A/--activate and -I/--install work on syncpacks only: use -k",
            ));
        }
        let Some(name) = self.name.clone().filter(|n| !n.is_empty()) else {
            return Err(usage(
                "-A/--activate and -I/--install need the syncpack's name: -n NAME",
            ));
        };
        Ok(Some(SyncPackOps {
            name,
            version: self.version.clone().filter(|v| !v.is_empty()),
            activate: self.activate,
            install: self.install,
            force: self.force,
            install_timeout_secs: self.install_timeout.unwrap_or(DEFAULT_INSTALL_TIMEOUT_SECS),
        }))
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::args::tests::{action, parse};
    use crate::args::Cli;
    use crate::settings::ConnectionFlags;
    use clap::Parser;

    fn upload(kind: ContentKind, path: &str) -> Action {
        Action::Upload(UploadRequest {
            kind,
            path: PathBuf::from(path),
            overwrite: false,
            then: None,
        })
    }

    #[test]
    fn combined_short_flags_upload() {
        assert_eq!(
            action(&["-usf", "step.py"]).unwrap(),
            upload(ContentKind::Step, "step.py")
        );
        assert_eq!(
            action(&["-uaf", "app.json"]).unwrap(),
            upload(ContentKind::Application, "app.json")
        );
        assert_eq!(
            action(&["-ucf", "cfg.json"]).unwrap(),
            upload(ContentKind::Configuration, "cfg.json")
        );
        assert_eq!(
            action(&["-ukf", "./pack.whl"]).unwrap(),
            upload(ContentKind::SyncPack, "./pack.whl")
        );
        assert_eq!(
            action(&["-u", "-s", "--fileLocation", "steps/"]).unwrap(),
            upload(ContentKind::Step, "steps/")
        );
        assert_eq!(
            action(&["-ukOf", "p.whl"]).unwrap(),
            Action::Upload(UploadRequest {
                kind: ContentKind::SyncPack,
                path: PathBuf::from("p.whl"),
                overwrite: true,
                then: None,
            })
        );
    }

    #[test]
    fn combined_short_flags_activate_install() {
        assert_eq!(
            action(&["-AIkn", "test_syncpack", "-V", "0.0.1"]).unwrap(),
            Action::SyncPack(SyncPackOps {
                name: "test_syncpack".into(),
                version: Some("0.0.1".into()),
                activate: true,
                install: true,
                force: false,
                install_timeout_secs: 600,
            })
        );
        assert_eq!(
            action(&["-AkFn", "p"]).unwrap(),
            Action::SyncPack(SyncPackOps {
                name: "p".into(),
                version: None,
                activate: true,
                install: false,
                force: true,
                install_timeout_secs: 600,
            })
        );
    }

    #[test]
    fn install_waits_as_long_as_timeout_says() {
        let ops = |line: &[&str]| match action(line).unwrap() {
            Action::SyncPack(ops) => ops,
            other => panic!("{line:?} gave {other:?}"),
        };
        assert_eq!(ops(&["-Ikn", "p"]).install_timeout_secs, 600);
        assert_eq!(
            ops(&["-AIkn", "p", "-V", "1", "--timeout", "30"]).install_timeout_secs,
            30
        );
        // Only -I waits; 0 or a word is refused by clap.
        for line in [&["-Akn", "p", "--timeout", "30"][..], &["--timeout", "30"]] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
            assert!(
                err.render().contains("--timeout is only used with -I"),
                "{line:?}"
            );
        }
        assert!(Cli::try_parse_from(["iscli", "-Ikn", "p", "--timeout", "0"]).is_err());
        assert!(Cli::try_parse_from(["iscli", "-Ikn", "p", "--timeout", "soon"]).is_err());
        // A subcommand's own --timeout is not this one.
        assert!(matches!(
            action(&["step", "run", "S", "--timeout", "5"]).unwrap(),
            Action::Command(_)
        ));
    }

    #[test]
    fn connection_flags_combine_with_the_original_flags() {
        let cli = parse(&[
            "-iH", "node1", "-P", "9090", "-U", "ops", "-p", "pw", "-usf", "x.py",
        ]);
        assert!(cli.connection.insecure);
        assert_eq!(
            cli.connection.flags(),
            ConnectionFlags {
                host: Some("node1".into()),
                port: Some(9090),
                username: Some("ops".into()),
                password: Some("pw".into()),
                api_key: None,
                insecure: true,
                ca: None,
            }
        );
    }

    #[test]
    fn version_flag_is_a_syncpack_version_not_clap_version() {
        // -V alone parses (it is a value-taking flag) but is a usage error.
        let err = action(&["-V", "1.0"]).unwrap_err();
        assert_eq!(err.exit_code(), 2);
        assert!(err.render().contains("-V/--pack-version"));
    }

    #[test]
    fn bad_combinations_are_usage_errors() {
        for line in [
            &["-u", "-f", "x.py"][..],
            &["-us"],
            &["-AI"],
            &["-Asn", "x"],
            &["-sf", "x.py"],
            &["-n", "x"],
            &["-i"],
            &["-O", "-k"],
            &["-usf", "x.py", "step", "list"],
        ] {
            let err = action(line).unwrap_err();
            assert_eq!(err.exit_code(), 2, "{line:?}");
        }
        // Two kinds at once is refused by clap itself.
        assert!(Cli::try_parse_from(["iscli", "-usaf", "x"]).is_err());
    }

    #[test]
    fn upload_can_chain_activate_and_install() {
        assert_eq!(
            action(&["-uAIkf", "p.whl", "-n", "p"]).unwrap(),
            Action::Upload(UploadRequest {
                kind: ContentKind::SyncPack,
                path: PathBuf::from("p.whl"),
                overwrite: false,
                then: Some(SyncPackOps {
                    name: "p".into(),
                    version: None,
                    activate: true,
                    install: true,
                    force: false,
                    install_timeout_secs: 600,
                }),
            })
        );
    }
}
