//! `POST /v1/comments`: the request as sent, and its validation into a [`CommentSubmission`].

use serde::Deserialize;
use utoipa::ToSchema;

/// Longest accepted identifier (external ids of comments, threads, authors).
pub const MAX_ID_CHARS: usize = 200;
pub const MAX_URL_CHARS: usize = 2048;
pub const MAX_TITLE_CHARS: usize = 500;
pub const MAX_NAME_CHARS: usize = 100;
pub const MAX_EMAIL_CHARS: usize = 254;
pub const MAX_USER_AGENT_CHARS: usize = 512;

/// A field that failed validation, named by its JSON path.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{field}: {detail}")]
pub struct ValidationError {
    pub field: String,
    pub detail: String,
}

impl ValidationError {
    pub fn new(field: impl Into<String>, detail: impl Into<String>) -> Self {
        ValidationError {
            field: field.into(),
            detail: detail.into(),
        }
    }
}

/// A comment as the site sends it.
#[derive(Debug, Deserialize, ToSchema)]
pub struct CommentRequest {
    /// The site's own id for the comment; resending it is idempotent. Trimmed; 1 to 200
    /// characters, no control characters (the same for every id).
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub external_id: String,
    #[serde(deserialize_with = "crate::extract::object")]
    pub thread: ThreadRequest,
    /// The site's `external_id` of the comment this one replies to (same thread).
    #[serde(default)]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub parent_id: Option<String>,
    #[serde(deserialize_with = "crate::extract::object")]
    pub author: AuthorRequest,
    /// The text: not blank, at most `max_body_chars` characters (10,000 by default), no NUL.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub body: String,
    /// Language of the body (`fr`, `en`, …) when the site knows it: a language tag.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 16,
        pattern = r"^[A-Za-z]{2}[A-Za-z0-9]{0,6}(?:-[A-Za-z0-9]{1,8})*$"
    )]
    pub lang: Option<String>,
    #[serde(default, deserialize_with = "crate::extract::optional_object")]
    pub client: Option<ClientRequest>,
}

/// The article a comment belongs to, created on first sight.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ThreadRequest {
    /// The site's id for the article.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub id: String,
    /// An `http` or `https` URL.
    #[serde(default)]
    #[schema(
        max_length = 2048,
        pattern = r"^https?://(?:[A-Za-z0-9-]+\.)*[A-Za-z][A-Za-z0-9-]*(?::[0-9]{1,4})?(?:/[A-Za-z0-9._~/-]*)?$"
    )]
    pub url: Option<String>,
    #[serde(default)]
    #[schema(max_length = 500, pattern = r"^[^\x00]*$")]
    pub title: Option<String>,
}

/// The comment's author, created on first sight.
#[derive(Debug, Deserialize, ToSchema)]
pub struct AuthorRequest {
    /// The site's user id or a pseudonym.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[^\x00-\x1f\x7f-\x9f]*[^\s\x00-\x1f\x7f-\x9f][^\x00-\x1f\x7f-\x9f]*$"
    )]
    pub id: String,
    #[serde(default)]
    #[schema(max_length = 100, pattern = r"^[^\x00]*$")]
    pub name: Option<String>,
    /// Stored only as a keyed hash.
    #[serde(default)]
    #[schema(
        max_length = 254,
        pattern = r"^[^\s\x00-\x1f\x7f-\x9f@]+@[^\s\x00-\x1f\x7f-\x9f@]*\.[^\s\x00-\x1f\x7f-\x9f@]*$"
    )]
    pub email: Option<String>,
}

/// What the site knows of the reader's connection; the IP is stored only as a keyed hash.
#[derive(Debug, Deserialize, ToSchema)]
pub struct ClientRequest {
    /// An IPv4 or IPv6 address.
    #[serde(default)]
    #[schema(
        pattern = r"^(?:(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])\.){3}(?:25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])$|^(?:[0-9a-fA-F]{1,4}:){7}[0-9a-fA-F]{1,4}$"
    )]
    pub ip: Option<String>,
    #[serde(default)]
    #[schema(max_length = 512, pattern = r"^[^\x00]*$")]
    pub user_agent: Option<String>,
}

/// A validated comment submission: every string is within its limits.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentSubmission {
    pub external_id: String,
    pub thread_id: String,
    pub thread_url: Option<String>,
    pub thread_title: Option<String>,
    pub parent_external_id: Option<String>,
    pub author_id: String,
    pub author_name: Option<String>,
    /// Lower-cased, trimmed; hashed before storage.
    pub author_email: Option<String>,
    pub body: String,
    pub lang: Option<String>,
    pub client_ip: Option<std::net::IpAddr>,
    pub user_agent: Option<String>,
}

impl CommentRequest {
    /// Checks every field; `max_body_chars` is the site's configured comment length limit.
    pub fn validate(self, max_body_chars: usize) -> Result<CommentSubmission, ValidationError> {
        let external_id = identifier("external_id", self.external_id)?;
        let thread_id = identifier("thread.id", self.thread.id)?;
        let thread_url = self
            .thread
            .url
            .map(|u| http_url("thread.url", u))
            .transpose()?;
        let thread_title = optional_text("thread.title", self.thread.title, MAX_TITLE_CHARS)?;
        let parent_external_id = self
            .parent_id
            .map(|p| identifier("parent_id", p))
            .transpose()?;
        let author_id = identifier("author.id", self.author.id)?;
        let author_name = optional_text("author.name", self.author.name, MAX_NAME_CHARS)?;
        let author_email = self.author.email.map(email).transpose()?;
        let body = comment_body(self.body, max_body_chars)?;
        let lang = self.lang.map(language).transpose()?;
        let (client_ip, user_agent) = match self.client {
            None => (None, None),
            Some(c) => (
                c.ip.map(|ip| {
                    ip.trim().parse().map_err(|_| {
                        ValidationError::new("client.ip", "must be an IPv4 or IPv6 address")
                    })
                })
                .transpose()?,
                optional_text("client.user_agent", c.user_agent, MAX_USER_AGENT_CHARS)?,
            ),
        };
        Ok(CommentSubmission {
            external_id,
            thread_id,
            thread_url,
            thread_title,
            parent_external_id,
            author_id,
            author_name,
            author_email,
            body,
            lang,
            client_ip,
            user_agent,
        })
    }
}

/// NUL cannot be stored in PostgreSQL text and has no place in a comment.
/// `PUT /v1/comments/{id}`: a new text for a comment the site already sent (the author edited
/// it).
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EditRequest {
    /// The new text (same rules as at intake).
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[^\x00]*[^\s\x00\x85][^\x00]*$"
    )]
    pub body: String,
    /// The new text's language, when the site knows it; else the previous one is kept.
    #[serde(default)]
    #[schema(
        min_length = 2,
        max_length = 16,
        pattern = r"^[A-Za-z]{2}[A-Za-z0-9]{0,6}(?:-[A-Za-z0-9]{1,8})*$"
    )]
    pub lang: Option<String>,
    /// When the author edited it, on the site (RFC 3339). An edit older than the one stored is
    /// refused (409): edits sent out of order do not overwrite a newer text.
    #[serde(default)]
    pub edited_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// A validated edit.
#[derive(Debug, Clone, PartialEq)]
pub struct CommentEdit {
    pub body: String,
    pub lang: Option<String>,
    pub edited_at: Option<chrono::NaiveDateTime>,
}

impl EditRequest {
    pub fn validate(self, max_body_chars: usize) -> Result<CommentEdit, ValidationError> {
        Ok(CommentEdit {
            body: comment_body(self.body, max_body_chars)?,
            lang: self.lang.map(language).transpose()?,
            edited_at: self.edited_at.map(|t| {
                // stored as PostgreSQL keeps times: microseconds
                let t = t.naive_utc();
                chrono::DateTime::from_timestamp_micros(t.and_utc().timestamp_micros())
                    .map(|d| d.naive_utc())
                    .unwrap_or(t)
            }),
        })
    }
}

fn reject_nul(field: &str, value: &str) -> Result<(), ValidationError> {
    if value.contains('\0') {
        return Err(ValidationError::new(
            field,
            "must not contain NUL characters",
        ));
    }
    Ok(())
}

pub fn identifier(field: &str, value: String) -> Result<String, ValidationError> {
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Err(ValidationError::new(field, "must not be empty"));
    }
    if trimmed.chars().count() > MAX_ID_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_ID_CHARS} characters"),
        ));
    }
    if trimmed.chars().any(char::is_control) {
        return Err(ValidationError::new(
            field,
            "must not contain control characters",
        ));
    }
    Ok(trimmed.to_owned())
}

/// An optional free-text field: trimmed, empty is absent, NUL refused, at most `max`
/// characters.
pub fn optional_text(
    field: &str,
    value: Option<String>,
    max: usize,
) -> Result<Option<String>, ValidationError> {
    let Some(value) = value else { return Ok(None) };
    reject_nul(field, &value)?;
    let trimmed = value.trim();
    if trimmed.is_empty() {
        return Ok(None);
    }
    if trimmed.chars().count() > max {
        return Err(ValidationError::new(
            field,
            format!("must be at most {max} characters"),
        ));
    }
    Ok(Some(trimmed.to_owned()))
}

pub fn http_url(field: &str, value: String) -> Result<String, ValidationError> {
    if value.chars().count() > MAX_URL_CHARS {
        return Err(ValidationError::new(
            field,
            format!("must be at most {MAX_URL_CHARS} characters"),
        ));
    }
    match url::Url::parse(value.trim()) {
        Ok(u) if matches!(u.scheme(), "http" | "https") => Ok(u.to_string()),
        _ => Err(ValidationError::new(field, "must be an http or https URL")),
    }
}

fn email(value: String) -> Result<String, ValidationError> {
    const FIELD: &str = "author.email";
    let e = value.trim().to_lowercase();
    let valid = e.chars().count() <= MAX_EMAIL_CHARS
        && !e.chars().any(|c| c.is_whitespace() || c.is_control())
        && matches!(e.split_once('@'), Some((local, domain)) if !local.is_empty() && domain.contains('.') && !domain.contains('@'));
    if valid {
        Ok(e)
    } else {
        Err(ValidationError::new(FIELD, "must be an email address"))
    }
}

fn comment_body(value: String, max_chars: usize) -> Result<String, ValidationError> {
    const FIELD: &str = "body";
    reject_nul(FIELD, &value)?;
    if value.trim().is_empty() {
        return Err(ValidationError::new(FIELD, "must not be empty"));
    }
    let chars = value.chars().count();
    if chars > max_chars {
        return Err(ValidationError::new(
            FIELD,
            format!("must be at most {max_chars} characters (got {chars})"),
        ));
    }
    Ok(value)
}

fn language(value: String) -> Result<String, ValidationError> {
    let l = value.trim().to_ascii_lowercase();
    let ok = (2..=16).contains(&l.len())
        && l.split('-').all(|part| {
            !part.is_empty() && part.len() <= 8 && part.chars().all(|c| c.is_ascii_alphanumeric())
        })
        && l.chars().take(2).all(|c| c.is_ascii_alphabetic());
    if ok {
        Ok(l)
    } else {
        Err(ValidationError::new(
            "lang",
            "must be a language tag such as `fr` or `en`",
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(body: &str) -> CommentRequest {
        CommentRequest {
            external_id: "c-1".into(),
            thread: ThreadRequest {
                id: "a-1".into(),
                url: Some("https://example.fr/a-1".into()),
                title: Some("Titre".into()),
            },
            parent_id: None,
            author: AuthorRequest {
                id: "u-1".into(),
                name: Some("Fabrice".into()),
                email: Some(" Fabrice@Example.FR ".into()),
            },
            body: body.into(),
            lang: Some("FR".into()),
            client: None,
        }
    }

    #[test]
    fn a_valid_request_is_normalised() {
        let s = request("Bonjour").validate(10_000).unwrap();
        assert_eq!(s.author_email.as_deref(), Some("fabrice@example.fr"));
        assert_eq!(s.lang.as_deref(), Some("fr"));
    }

    #[test]
    fn empty_blank_and_long_bodies_are_refused_by_field() {
        for body in ["", "   \n\t"] {
            assert_eq!(request(body).validate(10).unwrap_err().field, "body");
        }
        assert_eq!(
            request("é".repeat(11).as_str())
                .validate(10)
                .unwrap_err()
                .field,
            "body"
        );
        assert!(request("é".repeat(10).as_str()).validate(10).is_ok());
    }

    #[test]
    fn nul_characters_are_refused() {
        assert_eq!(request("a\0b").validate(100).unwrap_err().field, "body");
    }

    #[test]
    fn bad_email_url_and_lang_name_their_field() {
        let mut r = request("x");
        r.author.email = Some("not-an-email".into());
        assert_eq!(r.validate(10).unwrap_err().field, "author.email");
        let mut r = request("x");
        r.thread.url = Some("javascript:alert(1)".into());
        assert_eq!(r.validate(10).unwrap_err().field, "thread.url");
        let mut r = request("x");
        r.lang = Some("français".into());
        assert_eq!(r.validate(10).unwrap_err().field, "lang");
    }
}
