//! Why an OAuth flow failed.

/// Why an OAuth flow failed. Each becomes a page that says what happened and changes
/// nothing.
#[derive(Debug, thiserror::Error)]
pub enum OAuthError {
    #[error("the user did not grant access at the provider")]
    Denied,
    #[error("the provider answered the authorization with an error: {0}")]
    AuthorizationError(String),
    #[error("the flow's state is missing, unknown, expired, replayed or from another browser")]
    State,
    #[error("the callback carries no authorization code")]
    MissingCode,
    #[error("the provider refused the authorization code: {0}")]
    Refused(String),
    #[error("the provider did not answer in time: {0}")]
    Timeout(String),
    #[error("the provider's answer could not be used: {0}")]
    Provider(String),
    #[error("the provider gave no verified email")]
    NoVerifiedEmail,
    #[error("the provider account is linked to another user")]
    AccountTaken,
    #[error("an existing user has this email; the provider must be connected from the account page")]
    EmailTaken,
    #[error("the user already has another account of this provider linked")]
    AlreadyConnected,
    #[error("the session that started connecting a provider is gone")]
    LinkSessionLost,
    #[error(transparent)]
    Database(#[from] sqlx::Error),
}

impl OAuthError {
    /// A failed call to a provider, told apart by timeout.
    pub(super) fn from_http(what: &str, e: &(dyn std::error::Error + 'static)) -> Self {
        let mut source: Option<&(dyn std::error::Error + 'static)> = Some(e);
        while let Some(err) = source {
            // The oauth2 crate wraps reqwest's error in a Box.
            let reqwest = err
                .downcast_ref::<reqwest::Error>()
                .or_else(|| err.downcast_ref::<Box<reqwest::Error>>().map(|b| b.as_ref()));
            if reqwest.is_some_and(|e| e.is_timeout()) {
                return OAuthError::Timeout(what.to_string());
            }
            source = err.source();
        }
        OAuthError::Provider(format!("{what}: {}", error_chain(e)))
    }
}

fn error_chain(e: &(dyn std::error::Error + 'static)) -> String {
    let mut text = e.to_string();
    let mut source = e.source();
    while let Some(err) = source {
        text.push_str(": ");
        text.push_str(&err.to_string());
        source = err.source();
    }
    text
}
