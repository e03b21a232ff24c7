//! The HTTP plumbing sources and alerts share: client construction, a body reader
//! that refuses oversized (decompressed) bodies, `Retry-After` parsing, and
//! [`describe`], which names why a request failed.

use std::error::Error as _;
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use reqwest::header::{HeaderMap, RETRY_AFTER};

/// Why a body could not be read.
#[derive(Debug, thiserror::Error)]
pub enum BodyError {
    /// The decoded body grew past the configured cap.
    #[error("response body larger than {limit} bytes")]
    TooLarge {
        /// The cap in bytes.
        limit: u64,
    },
    /// The connection failed or the body could not be decoded while reading; the
    /// cause as [`describe`] names it.
    #[error("reading response body: {0}")]
    Transport(String),
}

/// Most redirects followed in one request.
const MAX_REDIRECTS: usize = 5;

/// Builds a client with a timeout and User-Agent; redirects are followed (up to five)
/// only when `follow_redirects` is set, because alert receivers must treat a 3xx as a
/// failure. Even then only redirects on the host first asked are followed: a source
/// that sends the daemon elsewhere (another site, an address inside the network it
/// runs in) fails with an error naming the target, for the user to configure it.
pub fn client(
    user_agent: &str,
    timeout: Duration,
    follow_redirects: bool,
) -> Result<reqwest::Client, reqwest::Error> {
    let redirect = if follow_redirects {
        reqwest::redirect::Policy::custom(|attempt| {
            let first_host = attempt
                .previous()
                .first()
                .and_then(|url| url.host_str().map(str::to_string));
            if attempt.previous().len() > MAX_REDIRECTS {
                attempt.error(format!("more than {MAX_REDIRECTS} redirects"))
            } else if attempt.url().host_str().map(str::to_string) != first_host {
                // A parsed URL is percent-encoded: no control character reaches a log.
                let target = attempt.url().to_string();
                attempt.error(format!("redirect to another host refused: {target}"))
            } else {
                attempt.follow()
            }
        })
    } else {
        reqwest::redirect::Policy::none()
    };
    reqwest::Client::builder()
        .user_agent(user_agent)
        .timeout(timeout)
        .connect_timeout(timeout.min(Duration::from_secs(10)))
        .redirect(redirect)
        .build()
}

/// Reads the whole (already decompressed) body, failing as soon as it exceeds `limit`
/// bytes, so neither a huge body nor a gzip bomb can exhaust memory. `started` is when
/// the request was sent, so a timeout says how long the whole request took.
pub async fn read_body_capped(
    mut response: reqwest::Response,
    limit: u64,
    started: Instant,
) -> Result<Vec<u8>, BodyError> {
    if response.content_length().is_some_and(|len| len > limit) {
        return Err(BodyError::TooLarge { limit });
    }
    let mut body = Vec::new();
    while let Some(chunk) = response
        .chunk()
        .await
        .map_err(|err| BodyError::Transport(describe(&err, started.elapsed())))?
    {
        if body.len() as u64 + chunk.len() as u64 > limit {
            return Err(BodyError::TooLarge { limit });
        }
        body.extend_from_slice(&chunk);
    }
    Ok(body)
}

/// Names why a request failed in words an operator can act on ("connection refused",
/// "could not resolve host", "timed out after 10 s", "TLS: certificate not trusted",
/// "could not decode the response body: …") by walking the error's
/// [`source`](std::error::Error::source) chain; reqwest's own text ("error sending
/// request") hides the cause. `elapsed` is the time since the request was sent. The
/// URL is never included (receiver URLs are secrets).
pub fn describe(err: &reqwest::Error, elapsed: Duration) -> String {
    if err.is_timeout() {
        return timed_out_after(elapsed);
    }
    let causes: Vec<&(dyn std::error::Error + 'static)> =
        std::iter::successors(err.source(), |cause| (*cause).source()).collect();
    let detail = causes
        .last()
        .map_or_else(|| "no cause given".to_string(), ToString::to_string);
    for cause in &causes {
        if let Some(named) = cause
            .downcast_ref::<std::io::Error>()
            .and_then(|io| describe_io(io, elapsed))
        {
            return named;
        }
        let text = cause.to_string();
        if text == "dns error" {
            return format!("could not resolve host: {detail}");
        }
        if text.contains("certificate") {
            return format!("TLS: certificate not trusted: {text}");
        }
    }
    if err.is_decode() {
        format!("could not decode the response body: {detail}")
    } else if err.is_body() {
        format!("response body broke off: {detail}")
    } else if err.is_connect() {
        format!("could not connect: {detail}")
    } else if err.is_redirect() {
        format!("redirect not followed: {detail}")
    } else {
        format!("error sending request: {detail}")
    }
}

/// Names the network failures a user can act on (refused, reset, timed out), for
/// every connection that is not a reqwest request (the Jetstream WebSocket); `None`
/// for any other I/O error, which is shown as it is.
pub fn describe_io(io: &std::io::Error, elapsed: Duration) -> Option<String> {
    match io.kind() {
        std::io::ErrorKind::ConnectionRefused => Some("connection refused".into()),
        std::io::ErrorKind::ConnectionReset => Some("connection reset by peer".into()),
        std::io::ErrorKind::TimedOut => Some(timed_out_after(elapsed)),
        _ => None,
    }
}

/// `timed out after 10 s` (whole seconds from 10 s on, tenths below).
pub fn timed_out_after(elapsed: Duration) -> String {
    let seconds = elapsed.as_secs_f64();
    if seconds >= 10.0 {
        format!("timed out after {seconds:.0} s")
    } else {
        format!("timed out after {seconds:.1} s")
    }
}

/// The wait a `Retry-After` header asks for: delay-seconds or an HTTP-date.
pub fn retry_after(headers: &HeaderMap, now: DateTime<Utc>) -> Option<Duration> {
    let value = headers.get(RETRY_AFTER)?.to_str().ok()?.trim();
    if let Ok(seconds) = value.parse::<u64>() {
        return Some(Duration::from_secs(seconds));
    }
    let at = DateTime::parse_from_rfc2822(value)
        .ok()?
        .with_timezone(&Utc);
    Some((at - now).to_std().unwrap_or(Duration::ZERO))
}

#[cfg(test)]
mod tests {
    use super::*;
    use reqwest::header::HeaderValue;

    #[test]
    fn retry_after_seconds_and_http_date() {
        let now = DateTime::parse_from_rfc3339("2015-10-21T07:27:00Z")
            .unwrap()
            .with_timezone(&Utc);
        let mut headers = HeaderMap::new();
        assert_eq!(retry_after(&headers, now), None);
        headers.insert(RETRY_AFTER, HeaderValue::from_static("120"));
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(120)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:28:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::from_secs(60)));
        headers.insert(
            RETRY_AFTER,
            HeaderValue::from_static("Wed, 21 Oct 2015 07:00:00 GMT"),
        );
        assert_eq!(retry_after(&headers, now), Some(Duration::ZERO));
        headers.insert(RETRY_AFTER, HeaderValue::from_static("soon"));
        assert_eq!(retry_after(&headers, now), None);
    }
}

#[cfg(test)]
mod describe_tests {
    use super::*;
    use wiremock::matchers::path;
    use wiremock::{Mock, MockServer, ResponseTemplate};

    fn test_client(timeout: Duration) -> reqwest::Client {
        client("mentiond-test", timeout, true).unwrap()
    }

    async fn failure(client: &reqwest::Client, url: &str) -> String {
        let started = Instant::now();
        let err = client.get(url).send().await.unwrap_err();
        describe(&err, started.elapsed())
    }

    #[tokio::test]
    async fn a_closed_port_is_named_connection_refused() {
        let port = {
            let listener = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
            listener.local_addr().unwrap().port()
        };
        let text = failure(
            &test_client(Duration::from_secs(5)),
            &format!("http://127.0.0.1:{port}/feed?token=secret"),
        )
        .await;
        assert_eq!(text, "connection refused");
    }

    #[tokio::test]
    async fn a_slow_server_is_named_a_timeout_with_its_duration() {
        let server = MockServer::start().await;
        Mock::given(path("/slow"))
            .respond_with(ResponseTemplate::new(200).set_delay(Duration::from_secs(5)))
            .mount(&server)
            .await;
        let text = failure(
            &test_client(Duration::from_millis(1000)),
            &format!("{}/slow", server.uri()),
        )
        .await;
        // 1 s timeout; a loaded machine may notice it a little late.
        assert!(
            text.starts_with("timed out after 1.") && text.ends_with(" s"),
            "{text}"
        );
        assert_eq!(
            timed_out_after(Duration::from_millis(10_040)),
            "timed out after 10 s"
        );
    }

    #[tokio::test]
    async fn a_body_that_cannot_be_decoded_says_why() {
        let server = MockServer::start().await;
        Mock::given(path("/gz"))
            .respond_with(
                ResponseTemplate::new(200)
                    .insert_header("content-encoding", "gzip")
                    .set_body_raw(b"not gzip at all".to_vec(), "application/json"),
            )
            .mount(&server)
            .await;
        let started = Instant::now();
        let response = test_client(Duration::from_secs(5))
            .get(format!("{}/gz", server.uri()))
            .send()
            .await
            .unwrap();
        let err = read_body_capped(response, 1 << 20, started)
            .await
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "reading response body: could not decode the response body: Invalid gzip header"
        );
    }
}
