//! `GET /` and `GET /healthz`: the start page, and whether the settings are valid.

use crate::base::cookies::cookie_value;
use crate::config::settings::{Problem, ProblemReason, Setting, Settings, SettingsError};
use crate::config::values::{Protocol, StateMode};
use crate::web::assertion::{jwks_document, JWKS_CACHE_CONTROL};
use crate::web::i18n::{self, Lang, LANG_COOKIE};
use crate::web::{self as http, Answer};

use super::*;

/// `GET /`: the start page in the visitor's language; `?lang=kk|ru|en` chooses one and keeps
/// it in the `lang` cookie.
pub(super) fn home(request: &Request<'_>) -> Answer {
    let chosen = request
        .query_param("lang")
        .and_then(|tag| Lang::from_tag(&tag));
    let lang = i18n::choose(
        chosen.map(Lang::tag),
        cookie_value(request.cookie, LANG_COOKIE),
        request.accept_language,
    );
    let page = http::start_page(lang);
    match chosen {
        Some(lang) => page.with_cookies([http::lang_cookie(lang)]),
        None => page,
    }
}

/// With the revocations binding, `/revoke` needs its key: without one, every sign-out call
/// from Freedom ID would be refused.
pub(super) fn revoke_key_problem<E: Effects>(fx: &E, settings: &Settings) -> Option<Problem> {
    let missing = settings.state == StateMode::Bind
        && settings.revoke_key.is_none()
        && fx.revocations_bound();
    missing.then_some(Problem {
        setting: Setting::RevokeKey,
        reason: ProblemReason::RevokeKeyRequired,
    })
}

/// `GET /.well-known/jwks.json`: the assertion keys' public halves, for verifiers to keep
/// five minutes; `404` without `FREEDOM_ID_ASSERTION_KEY`, and the settings' failure when
/// they are invalid (a broken key must not look like no key).
pub(super) fn jwks<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Answer {
    match settings {
        Err(error) => failed(
            fx,
            request,
            &Error::Settings(error.clone()),
            None,
            fx.now_ms(),
        ),
        Ok(valid) if valid.assertion_keys.is_empty() => not_found(&request.client()),
        Ok(valid) => http::public_key_set(jwks_document(&valid.assertion_keys), JWKS_CACHE_CONTROL),
    }
}

/// What `/healthz` warns of without failing: in `oauth2` without the user-info call the
/// gate knows no user, so `FREEDOM_ID_ALLOW`'s rules (a user id, an email, a phone) can
/// match no one.
fn warnings(settings: &Settings) -> Vec<&'static str> {
    let blind = !settings.allow.is_empty()
        && settings.protocol == Protocol::OAuth2
        && settings.userinfo_url.is_none();
    if blind {
        vec!["FREEDOM_ID_ALLOW needs the user's profile: set FREEDOM_ID_USERINFO_URL (in oauth2 the gate knows no user without it, so every signed-in user is refused)"]
    } else {
        Vec::new()
    }
}

pub(super) fn healthz<E: Effects>(
    fx: &E,
    settings: &Result<Settings, SettingsError>,
    request: &Request<'_>,
) -> Answer {
    let Ok(valid) = settings else {
        return http::healthz(settings);
    };
    let mut problems: Vec<Problem> = origin_problem(valid, request)
        .map(|error| error.problems().to_vec())
        .unwrap_or_default();
    problems.extend(revoke_key_problem(fx, valid));
    if problems.is_empty() {
        http::healthz_with_warnings(&warnings(valid))
    } else {
        http::healthz(&Err(SettingsError::from_problems(problems)))
    }
}
