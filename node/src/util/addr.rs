//! `HOST:PORT` addresses as configured and advertised.

/// Splits `HOST:PORT` at its last colon; None if there is no numeric port.
pub fn split_addr(addr: &str) -> Option<(&str, u16)> {
    let (host, port) = addr.rsplit_once(':')?;
    Some((host, port.parse().ok()?))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn splits_at_the_last_colon() {
        assert_eq!(split_addr("127.0.0.1:8080"), Some(("127.0.0.1", 8080)));
        assert_eq!(split_addr("[::1]:9"), Some(("[::1]", 9)));
        assert_eq!(split_addr("host"), None);
        assert_eq!(split_addr("host:http"), None);
    }
}
