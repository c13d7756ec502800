//! jsonwebtoken's process-wide crypto provider.

use jsonwebtoken::crypto::{CryptoProvider, aws_lc};

/// Makes sure jsonwebtoken has a crypto provider before a key is built.
///
/// jsonwebtoken picks its provider from its crate features; when an app also
/// enables its `rust_crypto` feature, both are on and none is picked, and the
/// first signature would panic. Then aws-lc-rs, which jwt-core is built and
/// measured with, is installed. An app that installed its own provider keeps
/// it.
pub(super) fn ensure() {
    if CryptoProvider::try_get_default().is_none() {
        // Losing a race to another installer is fine: a provider is set.
        let _ = aws_lc::DEFAULT_PROVIDER.install_default();
    }
}
