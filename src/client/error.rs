use crate::crypto::CryptoError;
use crate::error::{Actor, ErrorCode};
use crate::keys::{KeySetError, VerifyError};
use crate::model::FieldsError;
use crate::request_auth::RequestAuthError;

/// A message an application can show its user, in Chinese and English.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct UserMessage {
    /// 简体中文.
    pub zh_cn: &'static str,
    /// English.
    pub en: &'static str,
}

/// Everything that can go wrong talking to the platform. [`ClientError::kind`] says who acts.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ClientError {
    /// The user declined in the identity app (or declined to release the requested fields).
    #[error("the user declined the verification")]
    Declined,
    /// Nobody answered before the authorization expired.
    #[error("the authorization expired before the user answered")]
    NotAnswered,
    /// The identity app is not installed on the user's device (launch result `C0412002`).
    #[error("the national network identity app is not installed")]
    AppNotInstalled,
    /// The platform could not be reached or answered 5xx/429; the call may succeed later.
    #[error("the platform is unavailable: {0}")]
    Unavailable(String),
    /// The relying party's setup is wrong (keys, app id, URLs, request parameters).
    #[error("configuration: {0}")]
    Config(String),
    /// A key of the relying party's setup does not parse or is not a usable SM2 key: the
    /// configuration must be fixed. The cause is kept as the error's source.
    #[error("configuration: an SM2 key could not be used")]
    Keys(#[source] CryptoError),
    /// The request asks for more than the law allows (Art. 8 §2): caught before any network
    /// call.
    #[error("request exceeds its legal basis: {0}")]
    Minimization(String),
    /// The platform refused the request with a problem document.
    #[error("the platform refused the request: {code} ({status}): {detail}")]
    Rejected {
        /// HTTP status.
        status: u16,
        /// The platform's stable code (`netid.*`).
        code: String,
        /// The platform's explanation.
        detail: String,
    },
    /// The result token failed verification.
    #[error(transparent)]
    Token(#[from] VerifyError),
    /// The plaintext fields could not be opened.
    #[error(transparent)]
    Fields(#[from] FieldsError),
    /// A webhook's signature, freshness or form is wrong.
    #[error("webhook refused: {0}")]
    Webhook(#[from] RequestAuthError),
    /// A valid token that does not answer what was asked: more than requested, another
    /// authorization, a lower assurance, a reused authorization. Never trimmed, always refused.
    #[error("the platform's answer does not match the request: {0}")]
    Mismatch(&'static str),
    /// The platform sent something that is not protocol v1.
    #[error("the platform's response is invalid: {0}")]
    InvalidResponse(String),
    /// The replay guard could not be asked whether a result or webhook was already used, so
    /// it was not accepted (fail closed). The authorization stays pending: retry.
    #[error("replay guard: {0}")]
    Store(#[from] crate::store::StoreError),
}

impl ClientError {
    /// Who must act.
    pub fn kind(&self) -> Actor {
        self.actor()
    }

    /// A message for the end user, for the kinds an end user can do something about.
    pub fn user_message(&self) -> Option<UserMessage> {
        Some(match self.kind() {
            Actor::User => match self {
                ClientError::Declined => UserMessage {
                    zh_cn: "您已取消网络身份认证。",
                    en: "You cancelled the network identity verification.",
                },
                ClientError::AppNotInstalled => UserMessage {
                    zh_cn: "请先安装“国家网络身份认证”App。",
                    en: "Please install the national network identity app first.",
                },
                _ => UserMessage {
                    zh_cn: "认证已超时，请重新发起认证。",
                    en: "The verification timed out. Please start again.",
                },
            },
            Actor::RetryLater => UserMessage {
                zh_cn: "网络身份认证服务暂时不可用，请稍后再试。",
                en: "The identity service is temporarily unavailable. Please try again later.",
            },
            _ => UserMessage {
                zh_cn: "认证失败，请稍后再试或联系客服。",
                en: "Verification failed. Please try again later or contact support.",
            },
        })
    }
}

impl ErrorCode for ClientError {
    fn code(&self) -> &'static str {
        match self {
            ClientError::Declined => "client.declined",
            ClientError::NotAnswered => "client.not_answered",
            ClientError::AppNotInstalled => "client.app_not_installed",
            ClientError::Unavailable(_) => "client.unavailable",
            ClientError::Config(_) => "client.config",
            ClientError::Keys(e) => e.code(),
            ClientError::Minimization(_) => "client.minimization",
            ClientError::Rejected { .. } => "client.rejected",
            ClientError::Token(e) => e.code(),
            ClientError::Fields(e) => e.code(),
            ClientError::Webhook(e) => e.code(),
            ClientError::Mismatch(_) => "client.mismatch",
            ClientError::InvalidResponse(_) => "client.invalid_response",
            ClientError::Store(e) => e.code(),
        }
    }

    fn actor(&self) -> Actor {
        match self {
            ClientError::Declined | ClientError::NotAnswered | ClientError::AppNotInstalled => {
                Actor::User
            }
            ClientError::Unavailable(_) => Actor::RetryLater,
            ClientError::Config(_) | ClientError::Keys(_) | ClientError::Minimization(_) => {
                Actor::Configuration
            }
            ClientError::Rejected { code, .. } => platform_code_actor(code),
            ClientError::Token(e) => e.actor(),
            ClientError::Fields(e) => e.actor(),
            ClientError::Webhook(e) => e.actor(),
            ClientError::Mismatch(_) | ClientError::InvalidResponse(_) => Actor::SecurityEvent,
            ClientError::Store(e) => e.actor(),
        }
    }
}

/// Who acts on a platform problem code (PROTOCOL.md §9.2).
fn platform_code_actor(code: &str) -> Actor {
    use crate::problem::ProblemKind;
    match ProblemKind::from_code(code) {
        Some(ProblemKind::RateLimited | ProblemKind::Internal | ProblemKind::Unavailable) => {
            Actor::RetryLater
        }
        Some(ProblemKind::AuthorizationExpired) => Actor::User,
        Some(ProblemKind::RequestReplayed | ProblemKind::AuthorizationUsed) => Actor::SecurityEvent,
        // Unknown codes too: the relying party's configuration or code must be looked at.
        _ => Actor::Configuration,
    }
}

impl From<CryptoError> for ClientError {
    fn from(e: CryptoError) -> Self {
        ClientError::Keys(e)
    }
}

impl From<crate::token::TokenError> for ClientError {
    fn from(e: crate::token::TokenError) -> Self {
        ClientError::Token(VerifyError::Token(e))
    }
}

impl From<KeySetError> for ClientError {
    fn from(e: KeySetError) -> Self {
        ClientError::Token(VerifyError::Keys(e))
    }
}

/// Maps a result code of the national identity app's launch SDK (reported by a front end) to
/// `Ok` or the error kind it stands for.
///
/// ```
/// use netid::client::launch_result;
/// use netid::Actor;
/// assert!(launch_result("C0000000").is_ok());
/// assert_eq!(launch_result("C0412002").unwrap_err().kind(), Actor::User);
/// assert_eq!(launch_result("C0405001").unwrap_err().kind(), Actor::Configuration);
/// ```
pub fn launch_result(code: &str) -> Result<(), ClientError> {
    match code {
        "C0000000" => Ok(()),
        "C0405001" => Err(ClientError::Config(
            "the identity app reported a parameter error (C0405001)".into(),
        )),
        "C0412001" => Err(ClientError::Unavailable(
            "the identity app could not be launched (C0412001)".into(),
        )),
        "C0412002" => Err(ClientError::AppNotInstalled),
        // Reported by a front end, not signed by anyone: log it and offer another try.
        _ => Err(ClientError::Unavailable(
            "the identity app reported an unknown launch result code".into(),
        )),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_key_error_keeps_its_cause_and_code_and_asks_the_configuration() {
        let err = ClientError::from(CryptoError::DistId);
        assert_eq!(err.code(), "crypto.key_distid");
        assert_eq!(err.kind(), Actor::Configuration);
        let source = std::error::Error::source(&err).expect("the crypto error is the source");
        assert_eq!(source.to_string(), CryptoError::DistId.to_string());
        // The cause is not repeated in the error's own text (it is the source's to say).
        assert!(!err.to_string().contains(&source.to_string()));
    }
}
