//! The console's pages and embedded assets.
//!
//! Pages are rendered on the server with every interpolated value through
//! [`escape::html`]; `console.js` then fills them from the JSON API and the event
//! stream. A page carries no inline script or style: its data travel in two
//! `<script type="application/json">` elements (`i18n`: the texts of the user's
//! language; `boot`: the page kind, the user, the asset URLs), which a browser never
//! executes. Assets (`console.js`, `console.css`, the platform icons) are compiled
//! into the binary and served from `/assets/<name>` with a content hash in the URL
//! (`?v=`), an `ETag` and a one-year immutable cache.
//!
//! Page handlers take a [`PageSession`] (a redirect to `/login` without one); the
//! login page gets its double-submit token from [`auth::login_form_token`].

use std::sync::{Arc, OnceLock};

use axum::extract::{Path, Query, State};
use axum::http::{HeaderMap, HeaderValue, StatusCode, header};
use axum::response::{Html, IntoResponse, Response};
use axum::routing::get;
use serde::Deserialize;
use serde_json::{Value, json};
use sha2::{Digest, Sha256};

use super::i18n::{Lang, script_json};
use super::{ConsoleState, PageSession, auth};
use crate::escape;

/// The page routes: `/login` (GET; the POST is `auth`'s), `/`, the author and
/// search pages and `/assets/{name}`.
pub(crate) fn routes() -> axum::Router<Arc<ConsoleState>> {
    axum::Router::new()
        .route("/login", get(login))
        .route("/", get(console))
        .route("/authors/{source}/{author}", get(author))
        .route("/search", get(search))
        .route("/assets/{name}", get(serve_asset))
}

/// `GET /login`'s query: `error=1` after a failed attempt, `next` the page to go to.
#[derive(Deserialize)]
struct LoginQuery {
    #[serde(default)]
    error: Option<String>,
    #[serde(default)]
    next: Option<String>,
}

async fn login(
    State(state): State<Arc<ConsoleState>>,
    headers: HeaderMap,
    Query(query): Query<LoginQuery>,
) -> Response {
    let (token, cookie) = auth::login_form_token(&state, &headers);
    let lang = Lang::from_code(auth::browser_lang(&headers)).unwrap_or(Lang::En);
    let page = login_page(&LoginForm {
        lang,
        csrf: &token,
        csrf_field: "csrf",
        users: !state.settings().users.is_empty(),
        token: state.settings().token.is_some(),
        failed: query.error.is_some(),
        next: query.next.as_deref().unwrap_or("/"),
    });
    let mut response = Html(page).into_response();
    if let Some(cookie) = cookie {
        response.headers_mut().append(header::SET_COOKIE, cookie);
    }
    response
}

fn viewer(session: &super::Session) -> Viewer<'_> {
    Viewer {
        user: &session.user,
        display_name: &session.display_name,
        csrf: &session.csrf,
        lang: Lang::from_code(&session.lang).unwrap_or(Lang::En),
    }
}

/// The page names the change log's position when it was made: its feed starts
/// there, so a hit stored between this answer and the columns' first read still
/// comes, and a stream cut before its first event resumes from there too.
async fn console(
    State(state): State<Arc<ConsoleState>>,
    PageSession(session): PageSession,
) -> Html<String> {
    let seq = *state.store.changes().borrow();
    Html(console_page(&viewer(&session), seq))
}

async fn author(
    PageSession(session): PageSession,
    Path((source, author)): Path<(String, String)>,
) -> Html<String> {
    Html(author_page(&viewer(&session), &source, &author))
}

/// `GET /search`'s query.
#[derive(Deserialize)]
struct SearchQuery {
    #[serde(default)]
    q: String,
}

async fn search(
    PageSession(session): PageSession,
    Query(query): Query<SearchQuery>,
) -> Html<String> {
    Html(search_page(&viewer(&session), &query.q))
}

/// `GET /assets/{name}`: the embedded file with its content type, its hash as
/// `ETag` (a matching `If-None-Match` is a 304) and a one-year immutable cache (the
/// pages' URLs change with the hash).
async fn serve_asset(Path(name): Path<String>, headers: HeaderMap) -> Response {
    let Some(asset) = find_asset(&name) else {
        return (StatusCode::NOT_FOUND, "no such asset").into_response();
    };
    let etag = format!("\"{}\"", asset.hash());
    let cached = headers
        .get(header::IF_NONE_MATCH)
        .and_then(|value| value.to_str().ok())
        .is_some_and(|value| value.split(',').any(|tag| tag.trim() == etag));
    let mut response = if cached {
        StatusCode::NOT_MODIFIED.into_response()
    } else {
        asset.body.into_response()
    };
    let headers = response.headers_mut();
    headers.insert(
        header::CONTENT_TYPE,
        HeaderValue::from_static(asset.content_type),
    );
    if let Ok(value) = HeaderValue::from_str(&etag) {
        headers.insert(header::ETAG, value);
    }
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("public, max-age=31536000, immutable"),
    );
    response
}

/// One file compiled into the binary and served under `/assets/`.
pub(crate) struct Asset {
    /// The file name in the URL (`console.js`).
    pub name: &'static str,
    /// Its `Content-Type`.
    pub content_type: &'static str,
    /// Its bytes.
    pub body: &'static [u8],
}

/// Every asset the pages use.
pub(crate) const ASSETS: &[Asset] = &[
    asset(
        "console.js",
        "text/javascript; charset=utf-8",
        include_bytes!("assets/console.js"),
    ),
    asset(
        "console.css",
        "text/css; charset=utf-8",
        include_bytes!("assets/console.css"),
    ),
    asset("x.svg", SVG, include_bytes!("assets/x.svg")),
    asset("mastodon.svg", SVG, include_bytes!("assets/mastodon.svg")),
    asset("bluesky.svg", SVG, include_bytes!("assets/bluesky.svg")),
    asset("reddit.svg", SVG, include_bytes!("assets/reddit.svg")),
    asset(
        "hackernews.svg",
        SVG,
        include_bytes!("assets/hackernews.svg"),
    ),
    asset("feed.svg", SVG, include_bytes!("assets/feed.svg")),
    asset("intake.svg", SVG, include_bytes!("assets/intake.svg")),
    asset("generic.svg", SVG, include_bytes!("assets/generic.svg")),
    asset("favicon.svg", SVG, include_bytes!("assets/favicon.svg")),
];

const SVG: &str = "image/svg+xml";

/// The platform icons `console.js` picks from, by the name it uses.
const ICONS: &[&str] = &[
    "x",
    "mastodon",
    "bluesky",
    "reddit",
    "hackernews",
    "feed",
    "intake",
    "generic",
];

const fn asset(name: &'static str, content_type: &'static str, body: &'static [u8]) -> Asset {
    Asset {
        name,
        content_type,
        body,
    }
}

/// The asset named `name`, if there is one.
pub(crate) fn find_asset(name: &str) -> Option<&'static Asset> {
    ASSETS.iter().find(|a| a.name == name)
}

impl Asset {
    /// The first 16 hex digits of the SHA-256 of the body: the `ETag` and the `?v=`
    /// of its URL, so a new build's asset is a new URL and old ones can be cached
    /// for a year.
    pub fn hash(&self) -> &'static str {
        static HASHES: OnceLock<Vec<String>> = OnceLock::new();
        let hashes = HASHES.get_or_init(|| {
            ASSETS
                .iter()
                .map(|a| {
                    let digest = Sha256::digest(a.body);
                    digest[..8].iter().map(|b| format!("{b:02x}")).collect()
                })
                .collect()
        });
        ASSETS
            .iter()
            .position(|a| a.name == self.name)
            .and_then(|i| hashes.get(i))
            .map_or("", String::as_str)
    }

    /// The URL the pages use for it: `/assets/<name>?v=<hash>`.
    pub fn url(&self) -> String {
        format!("/assets/{}?v={}", self.name, self.hash())
    }
}

fn asset_url(name: &str) -> String {
    find_asset(name).map_or_else(|| format!("/assets/{name}"), Asset::url)
}

/// Who is looking at a page, for its header.
pub(crate) struct Viewer<'a> {
    /// The user's login name (what `taken_by`/`acked_by` show).
    pub user: &'a str,
    /// The name shown in the header.
    pub display_name: &'a str,
    /// The session's CSRF token, for the logout form and `console.js`.
    pub csrf: &'a str,
    /// The interface language.
    pub lang: Lang,
}

/// A whole page: the head with the stylesheet, the two JSON data elements and the
/// deferred script, then `body` (already escaped HTML).
fn layout(lang: Lang, title: &str, boot: &Value, body: &str) -> String {
    format!(
        "<!doctype html>\n<html lang=\"{lang}\">\n<head>\n<meta charset=\"utf-8\">\n\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n\
         <meta name=\"referrer\" content=\"no-referrer\">\n\
         <title>{title}</title>\n<link rel=\"icon\" href=\"{icon}\">\n\
         <link rel=\"stylesheet\" href=\"{css}\">\n\
         <script type=\"application/json\" id=\"i18n\">{i18n}</script>\n\
         <script type=\"application/json\" id=\"boot\">{boot}</script>\n\
         <script src=\"{js}\" defer></script>\n</head>\n<body>\n{body}\n</body>\n</html>\n",
        lang = lang.code(),
        title = escape::html(title),
        icon = escape::html(&asset_url("favicon.svg")),
        css = escape::html(&asset_url("console.css")),
        i18n = lang.json(),
        boot = script_json(boot),
        js = escape::html(&asset_url("console.js")),
    )
}

fn boot(page: &str, viewer: &Viewer<'_>, extra: Value) -> Value {
    let icons: serde_json::Map<String, Value> = ICONS
        .iter()
        .map(|name| {
            (
                (*name).to_string(),
                Value::from(asset_url(&format!("{name}.svg"))),
            )
        })
        .collect();
    let mut value = json!({
        "page": page,
        "user": viewer.user,
        "lang": viewer.lang.code(),
        "csrf": viewer.csrf,
        "icons": icons,
    });
    if let (Some(target), Value::Object(extra)) = (value.as_object_mut(), extra) {
        target.extend(extra);
    }
    value
}

/// The header every signed-in page shows: search box, reports menu, language
/// switch, keys help, user and sign-out form.
fn header(viewer: &Viewer<'_>, q: &str) -> String {
    let lang = viewer.lang;
    let e = |key| escape::html(lang.text(key));
    let option = |code: &str, label: &str| {
        format!(
            "<option value=\"{code}\"{sel}>{label}</option>",
            sel = if lang.code() == code { " selected" } else { "" }
        )
    };
    format!(
        "<header class=\"topbar\">\
         <a class=\"brand\" href=\"/\">{app}</a>\
         <form class=\"search\" method=\"get\" action=\"/search\" role=\"search\">\
         <input id=\"search-box\" type=\"search\" name=\"q\" value=\"{q}\" placeholder=\"{search}\" aria-label=\"{search}\"></form>\
         <span id=\"status\" class=\"status\" role=\"status\"></span>\
         <span class=\"spacer\"></span>\
         <details class=\"reports\"><summary>{reports}</summary><ul id=\"reports-list\"></ul></details>\
         <label><span hidden>{language}</span><select id=\"lang-switch\" aria-label=\"{language}\">{tr}{en}</select></label>\
         <button type=\"button\" id=\"keys-button\" title=\"?\">{keys}</button>\
         <span class=\"user\" dir=\"auto\">{display}</span>\
         <form method=\"post\" action=\"/logout\"><input type=\"hidden\" name=\"csrf\" value=\"{csrf}\">\
         <button type=\"submit\">{logout}</button></form>\
         </header>",
        app = e("app.title"),
        q = escape::html(q),
        search = e("header.search"),
        reports = e("header.reports"),
        language = e("header.language"),
        tr = option("tr", "Türkçe"),
        en = option("en", "English"),
        keys = e("header.keys"),
        display = escape::html(viewer.display_name),
        csrf = escape::html(viewer.csrf),
        logout = e("header.logout"),
    )
}

/// The keyboard help and the author side panel, shared by the signed-in pages.
fn panels(lang: Lang) -> String {
    let e = |key| escape::html(lang.text(key));
    let keys = [
        ("j / k", "keys.jk"),
        ("a", "keys.a"),
        ("t", "keys.t"),
        ("o", "keys.o"),
        ("/", "keys.slash"),
        ("x", "keys.x"),
        ("A", "keys.shift_a"),
        ("?", "keys.help"),
    ]
    .iter()
    .map(|(key, text)| format!("<dt>{}</dt><dd>{}</dd>", escape::html(key), e(text)))
    .collect::<String>();
    format!(
        "<dialog id=\"keys-dialog\"><h2>{title}</h2><dl class=\"keys\">{keys}</dl>\
         <div class=\"buttons\"><button type=\"button\" data-close-dialog>{close}</button></div></dialog>\
         <aside id=\"side\" class=\"side\" hidden><div class=\"side-head\"><h2 dir=\"auto\"></h2>\
         <button type=\"button\" id=\"side-close\">{close}</button></div><div class=\"side-body\"></div></aside>",
        title = e("keys.title"),
        close = e("author.close"),
    )
}

/// The add/edit column dialog (`console.js` fills and reads it).
fn column_dialog(lang: Lang) -> String {
    let e = |key| escape::html(lang.text(key));
    let input = |name: &str, key, kind: &str| {
        format!(
            "<label><span>{label}</span><input name=\"{name}\" type=\"{kind}\"></label>",
            label = e(key)
        )
    };
    format!(
        "<dialog id=\"column-dialog\"><form method=\"dialog\">\
         <label><span>{kind}</span><select name=\"kind\"></select></label>{key}{title}{source}\
         <label><span>{sentiment}</span><select name=\"sentiment\"><option value=\"\">{any}</option>\
         <option value=\"negative\">{neg}</option><option value=\"neutral\">{neu}</option>\
         <option value=\"positive\">{pos}</option></select></label>{lang_input}{min}{text}\
         <div class=\"buttons\"><button type=\"button\" data-cancel>{cancel}</button>\
         <button type=\"submit\" class=\"primary\">{save}</button></div></form></dialog>",
        kind = e("column.kind"),
        key = input("key", "column.key", "text"),
        title = input("title", "column.title", "text"),
        source = input("source", "filter.source", "text"),
        sentiment = e("filter.sentiment"),
        any = e("filter.any"),
        neg = e("sentiment.negative"),
        neu = e("sentiment.neutral"),
        pos = e("sentiment.positive"),
        lang_input = input("lang", "filter.lang", "text"),
        min = input("min_followers", "filter.min_followers", "number"),
        text = input("text", "filter.text", "text"),
        cancel = e("column.cancel"),
        save = e("column.save"),
    )
}

/// `GET /`: the header and an empty deck that `console.js` fills with the user's
/// columns; its live feed starts after change `seq`.
pub(crate) fn console_page(viewer: &Viewer<'_>, seq: i64) -> String {
    let lang = viewer.lang;
    let body = format!(
        "{header}<main id=\"deck\" class=\"deck\" aria-live=\"polite\"></main>{panels}{dialog}",
        header = header(viewer, ""),
        panels = panels(lang),
        dialog = column_dialog(lang),
    );
    layout(
        lang,
        lang.text("app.title"),
        &boot("console", viewer, json!({ "after": seq.to_string() })),
        &body,
    )
}

/// `GET /authors/{source}/{author}`: the author's profile and every hit of theirs,
/// newest first, in pages (`console.js` reads `/console/api/authors/…`).
pub(crate) fn author_page(viewer: &Viewer<'_>, source: &str, author: &str) -> String {
    let lang = viewer.lang;
    let body = format!(
        "{header}<main class=\"page\"><h1 dir=\"auto\">{title}: @{author}</h1>\
         <div id=\"profile\" class=\"profile\"><span class=\"chip\">{source}</span></div>\
         <h2>{hits}</h2><div id=\"list\" class=\"list\"></div></main>{panels}",
        header = header(viewer, ""),
        title = escape::html(lang.text("author.title")),
        author = escape::html(author),
        source = escape::html(source),
        hits = escape::html(lang.text("author.hits")),
        panels = panels(lang),
    );
    let page_title = format!("@{author} · {}", lang.text("app.title"));
    layout(
        lang,
        &page_title,
        &boot(
            "author",
            viewer,
            json!({ "source": source, "author": author }),
        ),
        &body,
    )
}

/// `GET /search?q=`: results over every stored hit (`console.js` reads
/// `/console/api/search`).
pub(crate) fn search_page(viewer: &Viewer<'_>, q: &str) -> String {
    let lang = viewer.lang;
    let body = format!(
        "{header}<main class=\"page\"><h1 dir=\"auto\">{title}: <span class=\"user-text\">{q}</span></h1>\
         <div id=\"list\" class=\"list\"></div></main>{panels}",
        header = header(viewer, q),
        title = escape::html(lang.text("search.results")),
        q = escape::html(q),
        panels = panels(lang),
    );
    let page_title = format!("{} · {}", lang.text("search.title"), lang.text("app.title"));
    layout(
        lang,
        &page_title,
        &boot("search", viewer, json!({ "q": q })),
        &body,
    )
}

/// What the login page offers and says.
pub(crate) struct LoginForm<'a> {
    /// The interface language (from `Accept-Language`).
    pub lang: Lang,
    /// The pre-session CSRF token (double submit: also in a cookie).
    pub csrf: &'a str,
    /// The name of the form field carrying it.
    pub csrf_field: &'a str,
    /// Whether `[[users]]` are configured (name + password form).
    pub users: bool,
    /// Whether a shared token is configured (token form).
    pub token: bool,
    /// Whether the previous attempt failed.
    pub failed: bool,
    /// The local page to go to after signing in.
    pub next: &'a str,
}

/// `GET /login`: the name/password form and/or the shared-token form.
pub(crate) fn login_page(form: &LoginForm<'_>) -> String {
    let lang = form.lang;
    let e = |key| escape::html(lang.text(key));
    let csrf = format!(
        "<input type=\"hidden\" name=\"{}\" value=\"{}\">\
         <input type=\"hidden\" name=\"next\" value=\"{}\">",
        escape::html(form.csrf_field),
        escape::html(form.csrf),
        escape::html(form.next),
    );
    let mut body = format!("<main class=\"login\"><h1>{}</h1>", e("app.title"));
    if form.failed {
        body.push_str(&format!(
            "<p class=\"error\" role=\"alert\">{}</p>",
            e("login.failed")
        ));
    }
    if form.users {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/login\" id=\"login-form\">{csrf}\
             <label><span>{name}</span><input name=\"name\" autocomplete=\"username\" required autofocus></label>\
             <label><span>{password}</span><input name=\"password\" type=\"password\" autocomplete=\"current-password\" required></label>\
             <button type=\"submit\" class=\"primary\">{submit}</button></form>",
            name = e("login.name"),
            password = e("login.password"),
            submit = e("login.submit"),
        ));
    }
    if form.users && form.token {
        body.push_str(&format!("<hr><p class=\"or\">{}</p>", e("login.or_token")));
    }
    if form.token {
        body.push_str(&format!(
            "<form method=\"post\" action=\"/login\" id=\"token-form\">{csrf}\
             <label><span>{token}</span><input name=\"token\" type=\"password\" autocomplete=\"off\" required></label>\
             <button type=\"submit\" class=\"primary\">{submit}</button></form>",
            token = e("login.token"),
            submit = e("login.submit"),
        ));
    }
    body.push_str("</main>");
    let page_title = format!("{} · {}", lang.text("login.title"), lang.text("app.title"));
    layout(
        lang,
        &page_title,
        &json!({ "page": "login", "lang": lang.code() }),
        &body,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const HOSTILE: &str = "<script>alert(1)</script>\"'><img src=x onerror=alert(2)>&amp;";

    fn viewer(lang: Lang) -> Viewer<'static> {
        Viewer {
            user: HOSTILE,
            display_name: HOSTILE,
            csrf: HOSTILE,
            lang,
        }
    }

    /// No tag, attribute or entity came from the hostile value: the only `<script`
    /// elements are the page's own three, and no `<img` exists at all.
    fn assert_inert(page: &str) {
        assert!(!page.contains("<img"), "{page}");
        assert!(!page.contains("alert(1)</script>"), "{page}");
        assert!(!page.contains("\"'>"), "{page}");
        assert_eq!(page.matches("<script").count(), 3, "{page}");
        assert!(
            page.contains("&lt;script&gt;") || page.contains("\\u003cscript"),
            "{page}"
        );
    }

    #[test]
    fn every_page_escapes_what_it_interpolates() {
        for lang in [Lang::En, Lang::Tr] {
            let v = viewer(lang);
            let console = console_page(&v, 7);
            assert_inert(&console);
            assert!(console.contains("&lt;img src=x onerror=alert(2)&gt;&amp;amp;"));
            assert_inert(&author_page(&v, HOSTILE, HOSTILE));
            assert_inert(&search_page(&v, HOSTILE));
            let login = login_page(&LoginForm {
                lang,
                csrf: HOSTILE,
                csrf_field: "csrf",
                users: true,
                token: true,
                failed: true,
                next: HOSTILE,
            });
            assert_inert(&login);
        }
    }

    #[test]
    fn the_boot_data_round_trips_through_its_script_element() {
        let v = viewer(Lang::Tr);
        let page = search_page(&v, HOSTILE);
        let start = page.find("id=\"boot\">").unwrap() + "id=\"boot\">".len();
        let end = start + page[start..].find("</script>").unwrap();
        let boot: Value = serde_json::from_str(&page[start..end]).unwrap();
        assert_eq!(boot["q"], HOSTILE);
        assert_eq!(boot["page"], "search");
        assert_eq!(boot["lang"], "tr");
        assert_eq!(
            boot["icons"]["mastodon"],
            find_asset("mastodon.svg").unwrap().url()
        );
    }

    #[test]
    fn pages_carry_no_inline_script_or_style_and_nothing_from_outside() {
        let v = Viewer {
            user: "ayse",
            display_name: "Ayşe",
            csrf: "token",
            lang: Lang::En,
        };
        for page in [
            console_page(&v, 7),
            author_page(&v, "x", "y"),
            search_page(&v, "q"),
        ] {
            for (i, _) in page.match_indices("<script") {
                let tag = &page[i..i + page[i..].find('>').unwrap()];
                assert!(
                    tag.contains("type=\"application/json\"") || tag.contains("src=\"/assets/"),
                    "{tag}"
                );
            }
            assert!(!page.contains("style="), "inline style");
            let handler = page.match_indices(" on").any(|(i, _)| {
                let name: String = page[i + 1..]
                    .chars()
                    .take_while(char::is_ascii_alphabetic)
                    .collect();
                page[i + 1 + name.len()..].starts_with('=')
            });
            assert!(!handler, "inline event handler");
            assert!(!page.contains("http://") && !page.contains("https://"));
        }
    }

    #[tokio::test]
    async fn assets_are_served_with_their_content_type_etag_and_long_cache() {
        for asset in ASSETS {
            let response = serve_asset(Path(asset.name.to_string()), HeaderMap::new()).await;
            assert_eq!(response.status(), StatusCode::OK, "{}", asset.name);
            let headers = response.headers();
            assert_eq!(headers[header::CONTENT_TYPE], asset.content_type);
            assert_eq!(
                headers[header::ETAG],
                format!("\"{}\"", asset.hash()).as_str()
            );
            assert_eq!(
                headers[header::CACHE_CONTROL],
                "public, max-age=31536000, immutable"
            );
            let body = axum::body::to_bytes(response.into_body(), usize::MAX)
                .await
                .unwrap();
            assert_eq!(&body[..], asset.body);
        }
        let mut headers = HeaderMap::new();
        let etag = format!("\"{}\"", find_asset("console.js").unwrap().hash());
        headers.insert(header::IF_NONE_MATCH, HeaderValue::from_str(&etag).unwrap());
        let cached = serve_asset(Path("console.js".into()), headers).await;
        assert_eq!(cached.status(), StatusCode::NOT_MODIFIED);
        let missing = serve_asset(Path("../mod.rs".into()), HeaderMap::new()).await;
        assert_eq!(missing.status(), StatusCode::NOT_FOUND);
    }

    #[test]
    fn every_asset_has_a_content_type_a_hash_and_every_icon_exists() {
        for icon in ICONS {
            assert!(find_asset(&format!("{icon}.svg")).is_some(), "{icon}");
        }
        for asset in ASSETS {
            assert_eq!(asset.hash().len(), 16);
            let expected = match asset.name.rsplit('.').next() {
                Some("js") => "text/javascript; charset=utf-8",
                Some("css") => "text/css; charset=utf-8",
                Some("svg") => "image/svg+xml",
                other => panic!("unexpected asset type {other:?}"),
            };
            assert_eq!(asset.content_type, expected, "{}", asset.name);
        }
        let hashes: std::collections::BTreeSet<_> = ASSETS.iter().map(Asset::hash).collect();
        assert_eq!(hashes.len(), ASSETS.len());
    }
}
