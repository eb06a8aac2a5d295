//! The Python step runtime: the pipe protocol, the runner process (CPython
//! embedded with pyo3), the host side that drives a runner, and the embedded
//! `ipaascore`/`ipaascommon` packages. Nothing outside this module touches
//! pyo3.

pub mod embedded;
pub mod process;
pub mod protocol;
pub mod runner;
pub mod validator;
