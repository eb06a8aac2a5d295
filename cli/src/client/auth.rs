//! `BasicAuth`: the interceptor that puts the user's HTTP Basic
//! credentials on every call.

use base64::Engine as _;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

/// Adds HTTP Basic credentials to every request.
#[derive(Clone)]
pub(crate) struct BasicAuth {
    header: MetadataValue<Ascii>,
}

impl BasicAuth {
    pub(crate) fn new(user: &str, password: &str) -> Self {
        let token = base64::engine::general_purpose::STANDARD.encode(format!("{user}:{password}"));
        // Base64 output is plain ASCII, so this cannot fail.
        let header =
            MetadataValue::try_from(format!("Basic {token}")).expect("base64 text is a valid header value");
        BasicAuth { header }
    }
}

impl tonic::service::Interceptor for BasicAuth {
    fn call(&mut self, mut request: Request<()>) -> Result<Request<()>, Status> {
        request
            .metadata_mut()
            .insert("authorization", self.header.clone());
        Ok(request)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn basic_auth_header_is_encoded() {
        use tonic::service::Interceptor;
        let mut auth = BasicAuth::new("isadmin", "s3cret:x");
        let req = auth.call(Request::new(())).unwrap();
        let value = req.metadata().get("authorization").unwrap().to_str().unwrap();
        // base64("isadmin:s3cret:x")
        assert_eq!(value, "Basic aXNhZG1pbjpzM2NyZXQ6eA==");
    }
}
