//! What a browser sees when something fails, and how every page is answered.

use rocket::http::{ContentType, Status};
use rocket::request::Request;
use rocket::response::{self, Responder};
use rocket_dyn_templates::Template;
use serde::Serialize;

/// A page: a Tera template answered as `text/html; charset=utf-8`, whichever way the
/// template was loaded (rocket_dyn_templates reads the type from a file's name, and the
/// templates a release build carries inside the binary have none).
pub struct Html(Template);

impl Html {
    pub fn render(name: &'static str, context: impl Serialize) -> Self {
        Html(Template::render(name, context))
    }
}

impl<'r> Responder<'r, 'static> for Html {
    fn respond_to(self, req: &'r Request<'_>) -> response::Result<'static> {
        let mut response = self.0.respond_to(req)?;
        response.set_header(ContentType::HTML);
        Ok(response)
    }
}

/// A JSON file to download (`Content-Disposition: attachment`): the data export.
pub struct Download {
    pub filename: String,
    pub body: String,
}

impl<'r> Responder<'r, 'static> for Download {
    fn respond_to(self, _req: &'r Request<'_>) -> response::Result<'static> {
        let name: String =
            self.filename.chars().filter(|c| c.is_ascii_alphanumeric() || "-_.".contains(*c)).collect();
        rocket::Response::build()
            .header(ContentType::JSON)
            .raw_header("Content-Disposition", format!("attachment; filename=\"{name}\""))
            .sized_body(self.body.len(), std::io::Cursor::new(self.body))
            .ok()
    }
}

/// The error page: Auth.js's error codes, plus HTTP statuses.
#[derive(Serialize)]
pub struct ErrorPage {
    pub status: u16,
    pub code: &'static str,
    pub title: &'static str,
    pub message: &'static str,
    pub action_url: Option<&'static str>,
    pub action_label: Option<&'static str>,
    /// A sentence for this occurrence (when to retry).
    pub detail: Option<String>,
}

impl ErrorPage {
    pub fn new(status: u16, code: &'static str, title: &'static str, message: &'static str) -> Self {
        ErrorPage { status, code, title, message, action_url: None, action_label: None, detail: None }
    }

    pub fn with_status(mut self, status: u16) -> Self {
        self.status = status;
        self
    }

    pub fn with_action(mut self, url: &'static str, label: &'static str) -> Self {
        self.action_url = Some(url);
        self.action_label = Some(label);
        self
    }

    /// The page for an Auth.js error code (`/error?error=…`); unknown codes get the
    /// generic page rather than an echo of the parameter.
    pub fn for_code(code: &str) -> Self {
        let signin = |page: Self| page.with_action("/signin", "Sign in");
        match code {
            "CredentialsSignin" => signin(Self::new(401, "CredentialsSignin", "Sign-in failed", "The email or password is not correct.")),
            "SessionRequired" => signin(Self::new(401, "SessionRequired", "Please sign in", "You need to be signed in to see this page.")),
            "MissingCSRF" => signin(Self::new(403, "MissingCSRF", "This form has expired", "For your safety the form could not be accepted. Go back, reload the page and try again.")),
            "AccessDenied" => Self::new(403, "AccessDenied", "Access denied", "You do not have permission to sign in."),
            "OAuthSignin" => signin(Self::new(400, "OAuthSignin", "Could not start sign-in", "Signing in with this provider could not be started. Try again, or use another way to sign in.")),
            "OAuthCallbackError" => signin(Self::new(400, "OAuthCallbackError", "Sign-in was not completed", "The provider did not grant access, or its answer could not be used. Try again.")),
            "OAuthAccountNotLinked" => signin(Self::new(409, "OAuthAccountNotLinked", "Account not linked", "This email already belongs to an account. Sign in the way you did before, then connect this provider from your account page.")),
            "TooManyAttempts" => signin(Self::new(429, "TooManyAttempts", "Too many attempts", "Too many attempts were made. Wait a few minutes and try again.")),
            "Configuration" => Self::new(500, "Configuration", "Server error", "There is a problem with the server configuration."),
            "Verification" => signin(Self::new(400, "Verification", "This link is no longer valid", "It may have been used already, replaced by a newer one, or it may have expired. Ask for a new one.")),
            "ReauthRequired" => Self::new(403, "ReauthRequired", "Confirm it is you", "This action needs a recent sign-in. Confirm it is you, then try again.").with_action("/reauth", "Confirm it is you"),
            "EmailSignin" => signin(Self::new(400, "EmailSignin", "Could not send the email", "Check the address and try again.")),
            _ => Self::new(400, "Default", "Something went wrong", "The request could not be completed."),
        }
    }

    /// The page for a bare HTTP status (catchers, internal errors).
    pub fn for_status(status: Status) -> Self {
        match status.code {
            400 => Self::new(400, "BadRequest", "Bad request", "The request could not be read."),
            401 => Self::for_code("SessionRequired"),
            403 => Self::for_code("MissingCSRF"),
            404 => Self::new(404, "NotFound", "Page not found", "There is nothing at this address."),
            413 => Self::new(
                413,
                "PayloadTooLarge",
                "Too much data",
                "The form sent more data than this page accepts.",
            ),
            415 => Self::new(
                415,
                "UnsupportedMediaType",
                "Unsupported format",
                "Send the form as a form or as JSON.",
            ),
            422 => Self::new(422, "InvalidInput", "Invalid input", "Some fields could not be accepted."),
            429 => Self::for_code("TooManyAttempts"),
            503 => Self::new(
                503,
                "ServiceUnavailable",
                "Temporarily unavailable",
                "The service cannot answer right now. Try again in a moment.",
            ),
            code if code >= 500 => Self::new(
                code,
                "InternalError",
                "Server error",
                "Something went wrong on our side. Try again in a moment.",
            ),
            code => Self::new(code, "Default", "Something went wrong", "The request could not be completed."),
        }
    }
}
