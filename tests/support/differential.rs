//! The differential test's one description of what each fuzz corpus input means: an input
//! becomes a few deterministic lines, one per reader, each the typed result or the error.
//! Shared with `#[path]` by the native side (`examples/differential.rs`, which prints every
//! corpus file's lines) and the wasm side (`tests/differential_wasm.rs`, which computes the
//! same lines inside the npm build in Node and compares them with the native ones).
//!
//! Each corpus folder is read with its fuzz target's input convention (see `fuzz/README.md`),
//! and each reader is the one the drivers call, with the JSON engine the caller hands in:
//! `SerdeJson` natively, `drivers::Json` in the wasm. Secrets never appear in a line: a token,
//! state or code is shown as its length and a 64-bit FNV-1a fingerprint, enough to see that
//! both builds read the same text.

use freedom_id_edge::base::json::{JsonEngine, Member, Present};
use freedom_id_edge::base::secret::CsrfState;
use freedom_id_edge::base::time::parse_utc_instant;
use freedom_id_edge::base::url::AbsoluteUrl;
use freedom_id_edge::config::grants::Grants;
use freedom_id_edge::config::settings::{Setting, Settings};
use freedom_id_edge::error::Error;
use freedom_id_edge::freedom_id::authorize::{
    body_text, check_answer, check_status, read_reply, AuthorizationLink, AuthorizeRequest,
};
use freedom_id_edge::freedom_id::callback::{check_callback, CallbackParams, ExpectedState};
use freedom_id_edge::freedom_id::token::{read_token_reply, TokenCall, Tokens};
use freedom_id_edge::freedom_id::upstream::Reply;
use freedom_id_edge::session::{decode_session, Flow, Session};

/// Where the corpora are, from the repository root.
pub const CORPUS_DIR: &str = "fuzz/corpus";

/// Where `make unit` has the native side write its lines, from the repository root.
#[allow(dead_code)] // Read by the wasm side only.
pub const NATIVE_FILE: &str = "target/differential-native.txt";

/// The command that writes [`NATIVE_FILE`], for the wasm side's message when it is missing.
#[allow(dead_code)] // Read by the wasm side only.
pub const NATIVE_COMMAND: &str =
    "cargo run --quiet --example differential > target/differential-native.txt";

/// The fuzz targets whose corpora the differential reads; a corpus folder not named here is
/// refused by both sides, so a new target cannot go unchecked by mistake.
pub const TARGETS: [&str; 4] = ["authorize_answer", "payloads", "settings", "token_answer"];

const AUTHORIZE: &str = "https://passport.freedompay.kz/api/v1/oauth/authorize";
const LOCAL: &str = "http://127.0.0.1:8788/api/v1/oauth/authorize";

/// Every line for one corpus input: `<name>\t<reader>\t<result>`, in a fixed order. `None`
/// when `target` is not one of [`TARGETS`].
pub fn lines(name: &str, target: &str, data: &[u8], json: &impl JsonEngine) -> Option<Vec<String>> {
    let results = match target {
        "authorize_answer" => authorize_answer(data, json),
        "payloads" => payloads(data, json),
        "settings" => settings(data),
        "token_answer" => token_answer(data, json),
        _ => return None,
    };
    Some(
        results
            .into_iter()
            .map(|(reader, result)| format!("{name}\t{reader}\t{result}"))
            .collect(),
    )
}

/// The first two bytes as the HTTP status (big-endian), the rest as the body; a shorter
/// input is all body under status 0 (the `authorize_answer` and `token_answer` convention).
fn status_and_body(data: &[u8]) -> (u16, &[u8]) {
    match data {
        [high, low, body @ ..] => (u16::from_be_bytes([*high, *low]), body),
        _ => (0, data),
    }
}

/// The adapters' steps on an authorize answer (the status, the body collected, the answer
/// decoded and judged), then the same body under any status against the default and a
/// local endpoint.
fn authorize_answer(data: &[u8], json: &impl JsonEngine) -> Vec<(&'static str, String)> {
    let (status, body) = status_and_body(data);
    let mut out = Vec::new();
    let (Ok(authorize), Ok(local)) = (AbsoluteUrl::parse(AUTHORIZE), AbsoluteUrl::parse(LOCAL))
    else {
        out.push(("setup", "the authorize URLs do not parse".to_owned()));
        return out;
    };
    let reply = check_status(status)
        .and_then(|()| collect(body))
        .and_then(|text| read_reply(&Reply::answered(status, text), &authorize, json));
    out.push(("reply", link_line(&reply)));
    match std::str::from_utf8(body) {
        Ok(text) => {
            for (reader, endpoint) in [("default", &authorize), ("local", &local)] {
                let judged = check_answer(status, json.decode(text), endpoint);
                out.push((reader, link_line(&judged)));
            }
        }
        Err(_) => out.push(("body", "not UTF-8".to_owned())),
    }
    out
}

/// The body as the fetch driver hands it to the core.
fn collect(body: &[u8]) -> Result<String, Error> {
    body_text(body.to_vec())
}

fn link_line(result: &Result<AuthorizationLink, Error>) -> String {
    match result {
        Ok(link) => format!(
            "link {} track_id={:?} expire_at={:?}",
            link.url.as_str(),
            link.track_id,
            link.expire_at
        ),
        Err(error) => error_line(error),
    }
}

fn error_line(error: &Error) -> String {
    format!("error {} {error:?}", error.code().as_str())
}

/// A token answer read as an exchange and as a refresh; then the same text as an ISO-8601
/// instant and as a callback URL (the `token_answer` target feeds them the same bytes).
fn token_answer(data: &[u8], json: &impl JsonEngine) -> Vec<(&'static str, String)> {
    let (status, body) = status_and_body(data);
    let Ok(text) = std::str::from_utf8(body) else {
        return vec![("body", "not UTF-8".to_owned())];
    };
    let mut out = Vec::new();
    for (reader, call) in [
        ("exchange", TokenCall::Exchange),
        ("refresh", TokenCall::Refresh),
    ] {
        let read = read_token_reply(call, &Reply::answered(status, text), json);
        out.push((
            reader,
            match read {
                Ok(tokens) => format!("tokens {}", tokens_line(&tokens)),
                Err(error) => error_line(&error),
            },
        ));
    }
    out.push(("instant", format!("{:?}", parse_utc_instant(text))));
    let callback = match CallbackParams::from_url(text) {
        Ok(params) => {
            let expected = CsrfState::new("fuzz-expected-state");
            let decided = match check_callback(&params, ExpectedState::Value(&expected)) {
                Ok(code) => format!("code {}", fingerprint(code.secret())),
                Err(error) => error_line(&error),
            };
            format!(
                "state={} code={} error_code={:?} -> {decided}",
                optional(params.state.as_ref().map(CsrfState::secret)),
                optional(params.code.as_ref().map(|code| code.secret())),
                params.error_code
            )
        }
        Err(error) => format!("{error:?}"),
    };
    out.push(("callback", callback));
    out
}

fn tokens_line(tokens: &Tokens) -> String {
    format!(
        "id={:?} access={} refresh={} access_expires_at={} refresh_expires_at={}",
        tokens.id,
        fingerprint(tokens.access_token.secret()),
        fingerprint(tokens.refresh_token.secret()),
        tokens.access_expires_at,
        tokens.refresh_expires_at
    )
}

/// The settings target's environment: one value per setting in [`Setting::ALL`] order,
/// separated by 0xFF; a value of exactly 0xFE is unset; invalid UTF-8 is read lossily. The
/// Worker-only settings are left unset: the npm build, the wasm side here, never reads them
/// (it takes their absent value), so both sides read the same environment.
fn settings(data: &[u8]) -> Vec<(&'static str, String)> {
    let mut values: Vec<Option<String>> = data
        .splitn(Setting::ALL.len(), |b| *b == 0xff)
        .map(|part| (part != [0xfe]).then(|| String::from_utf8_lossy(part).into_owned()))
        .collect();
    values.resize(Setting::ALL.len(), None);
    let value = |setting: Setting| {
        if setting.worker_only() {
            return None;
        }
        let index = Setting::ALL.iter().position(|s| *s == setting)?;
        values.get(index).cloned().flatten()
    };
    let mut out = Vec::new();
    if let Some(grants) = value(Setting::Grants) {
        let grants = Grants::parse_list(&grants).map(|grants| {
            let names: Vec<&str> = grants.iter().map(|g| g.as_str()).collect();
            names.join(" ")
        });
        out.push(("grants", format!("{grants:?}")));
    }
    let read = Settings::from_env(|name| {
        let setting = *Setting::ALL.iter().find(|s| s.env_name() == name)?;
        value(setting)
    });
    out.push((
        "settings",
        match read {
            // Debug redacts every secret in the settings.
            Ok(settings) => format!(
                "ok {settings:?} body={}",
                AuthorizeRequest::new(&settings, Some("s")).body
            ),
            Err(error) => {
                let problems: Vec<String> = error
                    .problems()
                    .iter()
                    .map(|p| format!("{}:{:?}", p.setting.env_name(), p.reason))
                    .collect();
                format!("problems {}", problems.join(" "))
            }
        },
    ));
    out
}

/// The text (UTF-8 only, as the `payloads` target) as a session payload, a flow payload and
/// a document of lenient members.
fn payloads(data: &[u8], json: &impl JsonEngine) -> Vec<(&'static str, String)> {
    let Ok(text) = std::str::from_utf8(data) else {
        return vec![("text", "not UTF-8".to_owned())];
    };
    let session = match decode_session(text, json) {
        Some(Session {
            tokens,
            began_at,
            user,
            refreshable,
        }) => {
            // The user's fields as lengths and fingerprints, like the tokens.
            let user =
                user.map(|user| fingerprint(&serde_json::to_string(&user).unwrap_or_default()));
            format!(
                "session {} began_at={began_at} user={user:?} refreshable={refreshable}",
                tokens_line(&tokens)
            )
        }
        None => "none".to_owned(),
    };
    let flow = match Flow::decode(text, json) {
        Some(flow) => format!(
            "flow state={} nonce={:?} return_to={:?} created_at={}",
            fingerprint(flow.state.secret()),
            flow.nonce.as_ref().map(|nonce| fingerprint(nonce.secret())),
            flow.return_to,
            flow.created_at
        ),
        None => "none".to_owned(),
    };
    let members = match json.decode::<Members>(text) {
        Ok(members) => format!("{members:?}"),
        Err(error) => format!("error {error:?}"),
    };
    vec![("session", session), ("flow", flow), ("members", members)]
}

/// One member of each kind a [`Member`] can want, as the `payloads` target reads them.
#[derive(Debug, Default, serde::Deserialize)]
#[serde(default)]
struct Members {
    text: Member<String>,
    count: Member<u64>,
    flag: Member<bool>,
    seen: Member<Present>,
}

fn optional(secret: Option<&str>) -> String {
    secret.map_or_else(|| "none".to_owned(), fingerprint)
}

/// A secret's length and FNV-1a-64 fingerprint: equal texts give equal lines, and the line
/// does not show the text.
fn fingerprint(text: &str) -> String {
    let hash = text.bytes().fold(0xcbf2_9ce4_8422_2325_u64, |hash, byte| {
        (hash ^ u64::from(byte)).wrapping_mul(0x0000_0100_0000_01b3)
    });
    format!("{}:{hash:016x}", text.len())
}
