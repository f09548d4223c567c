//! What a handler answers: a status code, a content type, a body (whole or streamed) and the
//! `Warning` headers to add.

use bytes::Bytes;
use http::{HeaderValue, Response, StatusCode, header};
use http_body_util::{BodyExt, Full, combinators::UnsyncBoxBody};

use super::status::Status;

/// The response body type of the whole server.
pub type Body = UnsyncBoxBody<Bytes, std::io::Error>;

/// A body holding these bytes.
pub fn full(bytes: impl Into<Bytes>) -> Body {
    Full::new(bytes.into())
        .map_err(|never| match never {})
        .boxed_unsync()
}

/// `application/json`.
pub const JSON: &str = "application/json";

/// A successful answer.
pub struct Reply {
    /// HTTP status.
    pub status: StatusCode,
    /// Content-Type.
    pub content_type: HeaderValue,
    /// Extra headers (ETag, Cache-Control, ...).
    pub headers: http::HeaderMap,
    /// The body.
    pub body: Body,
    /// Texts for `Warning: 299 - "<text>"` headers.
    pub warnings: Vec<String>,
}

impl Reply {
    /// A JSON answer.
    pub fn json(status: StatusCode, value: &serde_json::Value) -> Self {
        Self::bytes(
            status,
            JSON,
            serde_json::to_vec(value).expect("a JSON value serializes"),
        )
    }

    /// An answer with this content type and body.
    pub fn bytes(status: StatusCode, content_type: &'static str, body: impl Into<Bytes>) -> Self {
        Self::body(status, HeaderValue::from_static(content_type), full(body))
    }

    /// An answer with this content type and any body (a stream, for watches and logs).
    pub fn body(status: StatusCode, content_type: HeaderValue, body: Body) -> Self {
        Reply {
            status,
            content_type,
            headers: http::HeaderMap::new(),
            body,
            warnings: Vec::new(),
        }
    }

    /// Adds a header.
    pub fn header(mut self, name: http::HeaderName, value: HeaderValue) -> Self {
        self.headers.insert(name, value);
        self
    }

    /// Adds a warning.
    pub fn warn(mut self, text: impl Into<String>) -> Self {
        self.warnings.push(text.into());
        self
    }

    /// The HTTP response.
    pub fn into_response(self) -> Response<Body> {
        let mut resp = Response::new(self.body);
        *resp.status_mut() = self.status;
        let h = resp.headers_mut();
        // An upgrade answer has no body to describe.
        if self.status != StatusCode::SWITCHING_PROTOCOLS {
            h.insert(header::CONTENT_TYPE, self.content_type);
        }
        h.extend(self.headers);
        for w in self.warnings {
            if let Ok(v) = HeaderValue::from_str(&warning_value(&w)) {
                h.append(header::WARNING, v);
            }
        }
        resp
    }
}

/// A `Warning` header value in the form Kubernetes uses: `299 - "text"`, with quotes and
/// backslashes escaped and control characters replaced.
pub fn warning_value(text: &str) -> String {
    let mut s = String::from("299 - \"");
    for c in text.chars() {
        match c {
            '"' | '\\' => {
                s.push('\\');
                s.push(c);
            }
            c if c.is_control() => s.push(' '),
            c => s.push(c),
        }
    }
    s.push('"');
    s
}

impl From<Status> for Reply {
    fn from(s: Status) -> Self {
        let code = StatusCode::from_u16(s.code).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
        Reply::json(code, &s.to_json())
    }
}

#[cfg(test)]
mod tests {
    #[test]
    fn warnings_are_quoted() {
        assert_eq!(super::warning_value("a \"b\"\n"), "299 - \"a \\\"b\\\" \"");
    }
}
