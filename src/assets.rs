//! Templates and static files. A release build carries both inside the binary (with
//! the migrations, which sqlx embeds), so `./rocket-auth` runs from any directory and
//! a container image needs nothing but the binary. A debug build reads them from the
//! source tree on every use (rust-embed's debug behaviour; rocket_dyn_templates
//! reloads changed templates), so edits show without a rebuild, from any directory.
//!
//! Static files are served at `/static/<path>` with their content type, an `ETag`
//! (the start of their SHA-256), and `304 Not Modified` for a matching
//! `If-None-Match`. Pages link them through the Tera function `static_url`, which adds
//! `?v=<hash>`: a request that names the current hash may be cached for a year
//! (`immutable`), since a changed file gets a new URL; any other is revalidated.

use std::collections::HashMap;
use std::path::PathBuf;

use rocket::http::{ContentType, Header, Status};
use rocket::request::{self, FromRequest, Request};
use rocket::response::{self, Responder, Response};
use rocket::{get, routes, Route};
use rocket_dyn_templates::{tera, Engines};

/// The files under `static/`.
#[derive(rust_embed::Embed)]
#[folder = "static/"]
struct StaticFiles;

/// The templates under `templates/`.
#[derive(rust_embed::Embed)]
#[folder = "templates/"]
struct TemplateFiles;

/// The extension every template file has; its name is the path without it.
const TEMPLATE_EXTENSION: &str = ".html.tera";

/// Hex digits of the SHA-256 used in ETags and `?v=`: 64 bits, plenty to tell
/// versions of one file apart.
const HASH_HEX: usize = 16;

/// Where rocket_dyn_templates looks for template files. Debug: the source tree's
/// `templates/` (an absolute path, so a debug binary started elsewhere finds them and
/// edits reload). Release: none are read from disk; the templates are added from the
/// binary in [`customize`]. rocket_dyn_templates insists on an existing path, so it
/// is given the binary itself: a single file that holds no `.tera` file.
pub fn template_dir() -> PathBuf {
    if cfg!(debug_assertions) {
        PathBuf::from(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))
    } else {
        std::env::current_exe().unwrap_or_else(|_| PathBuf::from("/"))
    }
}

/// The Tera set-up: the escape function, `static_url`, and in a release build the
/// embedded templates.
pub fn customize(engines: &mut Engines) -> Result<(), Box<dyn std::error::Error>> {
    // Every page is HTML: escape in every template, whatever its name. Tera decides by
    // the template's path or name ending in `.html`, and the templates a release build
    // adds from the binary have no path and names without one (`signin`), so they
    // would not be escaped at all.
    engines.tera.autoescape_on(vec![""]);
    engines.tera.set_escape_fn(crate::views::escape_html);
    engines.tera.register_function("static_url", static_url);
    if !cfg!(debug_assertions) {
        let mut templates = Vec::new();
        for path in TemplateFiles::iter() {
            let Some(name) = path.strip_suffix(TEMPLATE_EXTENSION) else { continue };
            let file = TemplateFiles::get(&path).ok_or("an embedded template vanished")?;
            let text = String::from_utf8(file.data.into_owned())?;
            templates.push((name.to_string(), text));
        }
        engines.tera.add_raw_templates(templates)?;
    }
    Ok(())
}

fn short_hash(file: &rust_embed::EmbeddedFile) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    file.metadata
        .sha256_hash()
        .iter()
        .flat_map(|b| [DIGITS[(b >> 4) as usize] as char, DIGITS[(b & 15) as usize] as char])
        .take(HASH_HEX)
        .collect()
}

/// The URL of a static file with its version: `/static/css/app.css?v=…`.
pub fn url_of(path: &str) -> Option<String> {
    StaticFiles::get(path).map(|file| format!("/static/{path}?v={}", short_hash(&file)))
}

/// Tera: `{{ static_url(path="css/app.css") }}`. An unknown file is an error, so a
/// typo fails the page in tests rather than linking nothing.
fn static_url(args: &HashMap<String, tera::Value>) -> tera::Result<tera::Value> {
    let path = args.get("path").and_then(|v| v.as_str()).ok_or("static_url needs path=\"…\"")?;
    url_of(path).map(tera::Value::String).ok_or_else(|| format!("no static file {path:?}").into())
}

pub fn routes() -> Vec<Route> {
    routes![file]
}

/// The request's `If-None-Match`, if any.
struct IfNoneMatch(Option<String>);

#[rocket::async_trait]
impl<'r> FromRequest<'r> for IfNoneMatch {
    type Error = std::convert::Infallible;

    async fn from_request(req: &'r Request<'_>) -> request::Outcome<Self, Self::Error> {
        request::Outcome::Success(IfNoneMatch(req.headers().get_one("If-None-Match").map(str::to_string)))
    }
}

/// A static file, or `304` when the client's copy is current.
struct StaticFile {
    body: Option<Vec<u8>>,
    content_type: ContentType,
    etag: String,
    immutable: bool,
}

impl<'r> Responder<'r, 'static> for StaticFile {
    fn respond_to(self, _: &'r Request<'_>) -> response::Result<'static> {
        let cache = if self.immutable { "public, max-age=31536000, immutable" } else { "no-cache" };
        let mut response = Response::build();
        response
            .header(self.content_type)
            .header(Header::new("ETag", self.etag))
            .header(Header::new("Cache-Control", cache));
        match self.body {
            Some(body) => response.sized_body(body.len(), std::io::Cursor::new(body)),
            None => response.status(Status::NotModified),
        };
        Ok(response.finalize())
    }
}

/// `GET /static/<path>?v=<hash>`: 404 for a file that is not there (or a path that
/// tries to leave the folder: rust-embed knows only the files it holds).
#[get("/<path..>?<v>")]
fn file(path: PathBuf, v: Option<&str>, if_none_match: IfNoneMatch) -> Option<StaticFile> {
    let path = path.to_str()?;
    let file = StaticFiles::get(path)?;
    let hash = short_hash(&file);
    let etag = format!("\"{hash}\"");
    let content_type = std::path::Path::new(path)
        .extension()
        .and_then(|e| e.to_str())
        .and_then(ContentType::from_extension)
        .unwrap_or(ContentType::Binary);
    let fresh =
        if_none_match.0.is_some_and(|tags| tags.split(',').any(|t| t.trim() == etag || t.trim() == "*"));
    Some(StaticFile {
        body: (!fresh).then(|| file.data.into_owned()),
        content_type,
        etag,
        immutable: v == Some(hash.as_str()),
    })
}
