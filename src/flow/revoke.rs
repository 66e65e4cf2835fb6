//! `POST /revoke`: Freedom ID's back-channel sign-out, accepted only with its key.

use crate::base::json::Member;
use crate::base::secret::constant_time_eq;
use crate::config::settings::Settings;
use crate::error::ErrorCode;
use crate::log::{Event, EventName};
use crate::web::{self as http, problem, Answer, Message};

use super::*;

/// The `/revoke` body: `{"id": "<token pair id>"}`; other members are ignored.
#[derive(Default, serde::Deserialize)]
#[serde(default)]
struct RevokeBody {
    id: Member<String>,
}

/// `POST /revoke?key=<FREEDOM_ID_REVOKE_KEY> {"id": "<token id>"}`: Freedom ID's
/// back-channel sign-out. Only with the key (compared in constant time); the answer is the
/// same whether or not the id was known.
pub(super) async fn revoke<E: Effects>(
    fx: &E,
    settings: &Settings,
    request: &Request<'_>,
) -> Answer {
    if let Some(limited) = rate_limit(fx, request).await {
        return limited;
    }
    let Some(expected) = &settings.revoke_key else {
        return problem(
            ErrorCode::RevocationUnavailable,
            &Message::new("detail.revocation_key_missing"),
            &request.client(),
        );
    };
    let key_matches = request
        .query_param("key")
        .is_some_and(|key| constant_time_eq(&key, expected.secret()));
    if !key_matches {
        emit(
            fx,
            request,
            Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationForbidden),
        );
        return problem(
            ErrorCode::RevocationForbidden,
            &Message::new("detail.revocation_forbidden"),
            &request.client(),
        );
    }
    let id = fx.body(MAX_REVOKE_BODY).await.and_then(|body| {
        let body: RevokeBody = fx.decode(&body).ok()?;
        body.id
            .into_value()
            .filter(|id| crate::freedom_id::token::is_token_id(id))
    });
    let Some(id) = id else {
        return problem(
            ErrorCode::InvalidRequest,
            &Message::new("detail.invalid_revoke"),
            &request.client(),
        );
    };
    match fx.revoke(&id, settings.session_max_age).await {
        Revocation::Recorded => {
            emit(
                fx,
                request,
                Event::new(EventName::Revoked).token_id(Some(&id)),
            );
            http::no_content()
        }
        Revocation::NotConfigured => problem(
            ErrorCode::RevocationUnavailable,
            &Message::new("detail.revocation_unavailable"),
            &request.client(),
        ),
        Revocation::Failed => {
            let event = Event::new(EventName::RevokeFailed).code(ErrorCode::RevocationUnavailable);
            emit(fx, request, event);
            problem(
                ErrorCode::RevocationUnavailable,
                &Message::new("detail.revocation_failed"),
                &request.client(),
            )
        }
    }
}

/// The largest `/revoke` body read.
pub(super) const MAX_REVOKE_BODY: usize = 1024;
