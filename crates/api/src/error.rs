//! One error shape for every endpoint: `{"code", "message", "field"?, "errors"?}`.

use axum::Json;
use axum::http::{HeaderValue, StatusCode, header};
use axum::response::{IntoResponse, Response};
use serde::Serialize;
use twp_domain::{FieldError, FieldErrors};
use twp_store::StoreError;
use utoipa::ToSchema;

/// The body of every error response.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct ErrorBody {
    /// Stable machine code, e.g. `not_found`, `conflict`, `invalid_email`.
    pub code: String,
    /// What went wrong and, where possible, what to do.
    pub message: String,
    /// The request field concerned, as the API spells it.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub field: Option<String>,
    /// Every rejected field, when a request has several.
    #[serde(skip_serializing_if = "Vec::is_empty")]
    #[schema(no_recursion)]
    pub errors: Vec<ErrorBody>,
}

#[derive(Debug)]
pub struct ApiError {
    pub status: StatusCode,
    pub body: ErrorBody,
    pub retry_after: Option<u64>,
}

impl ApiError {
    pub fn new(status: StatusCode, code: &str, message: impl Into<String>) -> Self {
        Self {
            status,
            body: ErrorBody {
                code: code.to_owned(),
                message: message.into(),
                field: None,
                errors: Vec::new(),
            },
            retry_after: None,
        }
    }

    pub fn with_field(mut self, field: &str) -> Self {
        if !field.is_empty() {
            self.body.field = Some(field.to_owned());
        }
        self
    }

    pub fn not_found(what: &str) -> Self {
        Self::new(
            StatusCode::NOT_FOUND,
            "not_found",
            format!("{what} not found"),
        )
    }

    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(StatusCode::FORBIDDEN, "forbidden", message)
    }

    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNAUTHORIZED, "unauthorized", message)
    }

    pub fn bad_request(field: &str, code: &str, message: impl Into<String>) -> Self {
        Self::new(StatusCode::UNPROCESSABLE_ENTITY, code, message).with_field(field)
    }

    pub fn internal(e: impl std::fmt::Display) -> Self {
        tracing::error!(error = %e, "internal error");
        Self::new(
            StatusCode::INTERNAL_SERVER_ERROR,
            "internal",
            "internal error; the server log has the details",
        )
    }
}

impl From<FieldError> for ApiError {
    fn from(e: FieldError) -> Self {
        Self::bad_request(&e.field, e.code, e.message)
    }
}

impl From<FieldErrors> for ApiError {
    fn from(e: FieldErrors) -> Self {
        let mut errs: Vec<ErrorBody> =
            e.0.into_iter()
                .map(|f| ErrorBody {
                    code: f.code.to_owned(),
                    message: f.message,
                    field: Some(f.field),
                    errors: Vec::new(),
                })
                .collect();
        if errs.len() == 1 {
            let one = errs.remove(0);
            return Self {
                status: StatusCode::UNPROCESSABLE_ENTITY,
                body: one,
                retry_after: None,
            };
        }
        let message = errs
            .iter()
            .map(|e| format!("{}: {}", e.field.as_deref().unwrap_or(""), e.message))
            .collect::<Vec<_>>()
            .join("; ");
        Self {
            status: StatusCode::UNPROCESSABLE_ENTITY,
            body: ErrorBody {
                code: "invalid_fields".into(),
                message,
                field: None,
                errors: errs,
            },
            retry_after: None,
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::NotFound(what) => Self::not_found(what),
            StoreError::Conflict { field, message } => {
                Self::new(StatusCode::CONFLICT, "conflict", message).with_field(field)
            }
            StoreError::InvalidReference { field, message } => Self::new(
                StatusCode::UNPROCESSABLE_ENTITY,
                "invalid_reference",
                message,
            )
            .with_field(field),
            other => Self::internal(other),
        }
    }
}

impl IntoResponse for ApiError {
    fn into_response(self) -> Response {
        let mut r = (self.status, Json(self.body)).into_response();
        if let Some(s) = self.retry_after
            && let Ok(v) = HeaderValue::from_str(&s.to_string())
        {
            r.headers_mut().insert(header::RETRY_AFTER, v);
        }
        r
    }
}

pub type ApiResult<T> = Result<T, ApiError>;
