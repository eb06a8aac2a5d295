//! `Authorization`: the interceptor that puts the caller's credentials on
//! every call — HTTP Basic for a user's password, `Bearer` for an API key —
//! marked sensitive so that no tonic or hyper log shows them.

use base64::Engine as _;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::{Request, Status};

use crate::error::CliError;
use crate::settings::Credentials;

/// Adds the `authorization` header to every request.
#[derive(Clone)]
pub(crate) struct Authorization {
    header: MetadataValue<Ascii>,
}

impl Authorization {
    /// The header for `credentials`; fails (without showing them) when an
    /// API key holds characters a header cannot carry.
    pub(crate) fn new(credentials: &Credentials) -> Result<Self, CliError> {
        let text = match credentials {
            Credentials::Password { username, password } => {
                let token =
                    base64::engine::general_purpose::STANDARD.encode(format!("{username}:{password}"));
                format!("Basic {token}")
            }
            Credentials::ApiKey(key) => format!("Bearer {key}"),
        };
        let mut header = MetadataValue::try_from(text).map_err(|_| {
            CliError::Usage(
                "the API key holds characters a request header cannot carry; copy it whole from \
                 what 'iscli key create' printed"
                    .to_string(),
            )
        })?;
        header.set_sensitive(true);
        Ok(Authorization { header })
    }
}

impl tonic::service::Interceptor for Authorization {
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
    use tonic::service::Interceptor;

    fn header_of(credentials: &Credentials) -> String {
        let mut auth = Authorization::new(credentials).unwrap();
        let req = auth.call(Request::new(())).unwrap();
        let value = req.metadata().get("authorization").unwrap();
        assert!(value.is_sensitive());
        value.to_str().unwrap().to_string()
    }

    #[test]
    fn passwords_go_as_basic_and_keys_as_bearer() {
        // base64("isadmin:s3cret:x")
        assert_eq!(
            header_of(&Credentials::password("isadmin", "s3cret:x")),
            "Basic aXNhZG1pbjpzM2NyZXQ6eA=="
        );
        assert_eq!(
            header_of(&Credentials::ApiKey("isk_1a2b_s3cr3t".into())),
            "Bearer isk_1a2b_s3cr3t"
        );
    }

    #[test]
    fn a_key_a_header_cannot_carry_is_a_usage_error_that_does_not_show_it() {
        let err = match Authorization::new(&Credentials::ApiKey("isk_1a_x\nsecret".into())) {
            Ok(_) => panic!("a newline went into a header"),
            Err(e) => e,
        };
        assert_eq!(err.exit_code(), 2);
        assert!(!err.render().contains("secret"), "{}", err.render());
    }
}
