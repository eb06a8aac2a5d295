//! The Python step runtime: the pipe protocol, the runner process (CPython
//! embedded with pyo3), the host side that drives a runner, and the embedded
//! `ipaascore`/`ipaascommon` packages; and the sandbox runners run in.
//! Nothing outside this module touches pyo3.

pub mod cgroup;
pub mod confine;
pub mod embedded;
mod fs_access;
pub mod process;
pub mod protocol;
pub mod runner;
pub mod sandbox;
pub mod validator;
