//! The signed-in user of a page: the access token of the session cookie,
//! verified as the REST API verifies it; an expired one is refreshed with the
//! refresh cookie on the way (`/session/refresh`), and without a session the
//! page sends the browser to sign in and back.

use axum::{
    Form,
    extract::{FromRequestParts, Query, State},
    http::{HeaderMap, HeaderValue, Method, StatusCode, header, request::Parts},
    response::{IntoResponse, Redirect, Response},
};
use homeroom_platform::auth::{Principal, Role};
use homeroom_proto::identity::v1 as idpb;
use serde::Deserialize;

use super::{Chrome, MessagePage, UserChrome, render, safe_next};
use crate::{
    api::{
        caller::{Caller, RequestId},
        cookies,
    },
    app::AppState,
};

/// A page's signed-in user.
pub struct Signed {
    /// Calls services with the user's token.
    pub caller: Caller,
    /// The session's CSRF token, for the page's forms.
    pub csrf: String,
    /// The request's headers (language, cookies).
    pub headers: HeaderMap,
}

impl Signed {
    /// The frame of a page of this user.
    pub fn chrome(&self, here: &'static str) -> Chrome {
        Chrome::new(
            super::language(&self.headers),
            Some(UserChrome {
                csrf: self.csrf.clone(),
                reports: self
                    .caller
                    .principal
                    .has_district_role(&self.district_id(), Role::DistrictAdmin),
                // A hint; identity decides who may list whom.
                people: self
                    .caller
                    .principal
                    .holds_any(&homeroom_platform::auth::ACCOUNT_LISTERS),
                // A hint too; roster decides who may upload where.
                rostering: self
                    .caller
                    .principal
                    .holds_any(&[Role::DistrictAdmin, Role::RosteringAdmin]),
                // A hint too; messaging decides who may send to whom.
                messages: self
                    .caller
                    .principal
                    .holds_any(&[Role::DistrictAdmin, Role::CommunicationsAdmin]),
            }),
            here,
        )
    }

    /// The user's district.
    pub fn district_id(&self) -> String {
        match &self.caller.principal {
            Principal::Account { district_id, .. } => district_id.clone(),
            Principal::Service { .. } => String::new(),
        }
    }

    /// Whether a form's CSRF field is this session's.
    pub fn csrf_ok(&self, field: &str) -> bool {
        cookies::csrf_field_ok(&self.headers, field)
    }
}

impl FromRequestParts<AppState> for Signed {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, state: &AppState) -> Result<Self, Response> {
        // Back to this page after signing in; a form's target is not a page.
        let back = if parts.method == Method::GET {
            parts
                .uri
                .path_and_query()
                .map_or("/account", |p| p.as_str())
                .to_owned()
        } else {
            "/account".to_owned()
        };
        let request_id = RequestId::from_request_parts(parts, state)
            .await
            .map_err(IntoResponse::into_response)?;
        if let Some(token) = cookies::get(&parts.headers, cookies::ACCESS) {
            match Caller::verified(state, token, request_id).await {
                Ok(caller) => {
                    return Ok(Signed {
                        caller,
                        csrf: cookies::get(&parts.headers, cookies::CSRF).unwrap_or_default(),
                        headers: parts.headers.clone(),
                    });
                }
                Err(e) if e.status == StatusCode::TOO_MANY_REQUESTS => {
                    return Err(e.into_response());
                }
                Err(_) => {}
            }
        }
        let next = form_urlencoded::byte_serialize(safe_next(&back).as_bytes()).collect::<String>();
        Err(
            if cookies::get(&parts.headers, cookies::REFRESH).is_some() {
                Redirect::to(&format!("/session/refresh?next={next}"))
            } else {
                Redirect::to(&format!("/sign-in?next={next}"))
            }
            .into_response(),
        )
    }
}

/// `?next=` of the session routes.
#[derive(Debug, Deserialize)]
pub struct Next {
    #[serde(default)]
    next: String,
}

/// `GET /session/refresh?next=`: new tokens for the refresh cookie, then
/// back to `next`; a spent or expired session goes to sign-in.
pub async fn refresh(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Query(Next { next }): Query<Next>,
) -> Response {
    let next = safe_next(&next);
    let Some(refresh_token) = cookies::get(&headers, cookies::REFRESH) else {
        return sign_in_again(&next);
    };
    let answer = state
        .identity()
        .refresh_token(id.request(idpb::RefreshTokenRequest {
            refresh_token,
            client: crate::api::session::client(&headers, &id),
        }))
        .await;
    match answer.map(|a| a.into_inner().tokens) {
        Ok(Some(tokens)) => {
            let csrf = cookies::get(&headers, cookies::CSRF).unwrap_or_else(cookies::new_csrf);
            (cookies::session(&tokens, &csrf), Redirect::to(&next)).into_response()
        }
        _ => sign_in_again(&next),
    }
}

fn sign_in_again(next: &str) -> Response {
    let next = form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>();
    (
        cookies::cleared(),
        Redirect::to(&format!("/sign-in?next={next}")),
    )
        .into_response()
}

/// The sign-out forms.
#[derive(Debug, Deserialize)]
pub struct SignOutForm {
    #[serde(default)]
    csrf: String,
    /// Any value: every session of the account.
    #[serde(default)]
    everywhere: String,
}

/// `POST /sign-out`: ends this session (or all of the account's) and clears
/// the cookies.
pub async fn sign_out(
    State(state): State<AppState>,
    id: RequestId,
    headers: HeaderMap,
    Form(form): Form<SignOutForm>,
) -> Response {
    let chrome = Chrome::anonymous(&headers);
    let t = chrome.t;
    if !cookies::csrf_field_ok(&headers, &form.csrf) {
        return render(
            StatusCode::FORBIDDEN,
            MessagePage {
                chrome,
                title: t.sign_out.into(),
                text: t.expired_form.into(),
                tone: "bad",
                link: "/account".into(),
                link_text: t.my_account.into(),
            },
        );
    }
    let everywhere = !form.everywhere.is_empty();
    let ended = match cookies::get(&headers, cookies::REFRESH) {
        Some(refresh_token) => state
            .identity()
            .logout(id.request(idpb::LogoutRequest {
                refresh_token,
                all_sessions: everywhere,
                client: crate::api::session::client(&headers, &id),
            }))
            .await
            .map(drop)
            .map_err(|e| e.code()),
        None => Err(tonic::Code::Unauthenticated),
    };
    let (status, text, tone) = match ended {
        // This browser forgets the session either way; a session identity
        // could not end expires with its refresh token.
        _ if !everywhere => (StatusCode::OK, t.signed_out, "good"),
        Ok(()) => (StatusCode::OK, t.signed_out_everywhere, "good"),
        // Signing out everywhere is what someone does after losing a phone:
        // never say it happened when it did not.
        Err(tonic::Code::Unauthenticated) => (
            StatusCode::UNAUTHORIZED,
            t.sign_out_everywhere_expired,
            "bad",
        ),
        Err(code) => {
            tracing::warn!(
                ?code,
                "sign-out everywhere: identity did not end the sessions"
            );
            // The session stays, so the person can try again from their page.
            return render(
                StatusCode::SERVICE_UNAVAILABLE,
                MessagePage {
                    chrome,
                    title: t.sign_out_everywhere.into(),
                    text: t.sign_out_everywhere_failed.into(),
                    tone: "bad",
                    link: "/account".into(),
                    link_text: t.my_account.into(),
                },
            );
        }
    };
    let page = MessagePage {
        chrome,
        title: t.sign_out.into(),
        text: text.into(),
        tone,
        link: "/sign-in".into(),
        link_text: t.sign_in_again.into(),
    };
    let mut response = render(status, page);
    for value in cookies::cleared().get_all(header::SET_COOKIE) {
        response
            .headers_mut()
            .append(header::SET_COOKIE, value.clone());
    }
    // Signed out, pages follow the browser's language again (a family
    // computer: the next person is not asked in the last one's language).
    response.headers_mut().append(
        header::SET_COOKIE,
        HeaderValue::from_static("homeroom_lang=; Path=/; Max-Age=0; Secure; SameSite=Lax"),
    );
    response
}
