//! The message templates, `templates/email/<kind>.txt` and `<kind>.html`: inside the
//! binary in a release build, read from the source tree in a debug one. Their own Tera
//! instance: the HTML parts are escaped (names ending in `.html`), the text parts are
//! not (they are text, and nothing in them is markup).

use rocket_dyn_templates::tera;

#[derive(rust_embed::Embed)]
#[folder = "templates/email/"]
struct EmailTemplates;

pub(super) fn load() -> Result<tera::Tera, String> {
    let mut tera = tera::Tera::default();
    tera.autoescape_on(vec![".html"]);
    tera.set_escape_fn(crate::primitives::escape_html);
    let mut templates = Vec::new();
    for name in EmailTemplates::iter() {
        let file = EmailTemplates::get(&name).ok_or("an email template vanished")?;
        let text =
            String::from_utf8(file.data.into_owned()).map_err(|e| format!("templates/email/{name}: {e}"))?;
        templates.push((name.to_string(), text));
    }
    tera.add_raw_templates(templates).map_err(|e| format!("templates/email: {e:?}"))?;
    Ok(tera)
}
