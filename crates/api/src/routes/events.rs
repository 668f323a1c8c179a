//! Live telephony events (guide 1.3): WebSocket, and Server-Sent Events for
//! simple clients. A client subscribes to one domain's devices (or all of
//! them), gets their current states, then every change with its sequence
//! number. A client too slow to keep up is disconnected with a close
//! reason naming the last event it got, and resumes from there with
//! `after` (and the `stream` it was on); it never delays anybody else.

use std::collections::HashSet;
use std::convert::Infallible;
use std::sync::Arc;
use std::time::{Duration, UNIX_EPOCH};

use axum::Json;
use axum::extract::ws::{CloseFrame, Message, Utf8Bytes, WebSocket, WebSocketUpgrade};
use axum::extract::{FromRequestParts, Path, Query, State};
use axum::http::StatusCode;
use axum::http::request::Parts;
use axum::response::sse::{Event, KeepAlive, Sse};
use axum::response::{IntoResponse, Response};
use futures_util::{SinkExt, StreamExt};
use serde::{Deserialize, Serialize};
use twp_domain::DomainId;
use twp_telephony::{CloseReason, Envelope, Filter, SubscribeError, Subscription, TelephonyEvent};
use utoipa::{IntoParams, ToSchema};

use crate::AppState;
use crate::error::{ApiError, ApiResult, ErrorBody};
use crate::hub::DomainTelephony;
use crate::reach::Reach;
use crate::routes::telephony::{DeviceStateDto, activity_token, device_dto};

/// Events queued per client before it counts as too slow.
const QUEUE: usize = 4096;
/// How long one WebSocket write may take before the client is dropped.
const SEND_TIMEOUT: Duration = Duration::from_secs(10);
/// WebSocket close code for a client cut off because it was too slow.
pub const CLOSE_LAGGED: u16 = 4008;
/// WebSocket close code for the end of the domain's event stream (restart
/// or shutdown): subscribe again.
pub const CLOSE_STREAM_ENDED: u16 = 4009;

#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct TicketDto {
    /// Use once, within 30 seconds, as `?ticket=` on an event stream.
    pub ticket: String,
    pub expires_in_seconds: u64,
}

#[derive(Debug, Deserialize, IntoParams)]
#[serde(rename_all = "camelCase")]
#[into_params(parameter_in = Query)]
pub struct EventQuery {
    /// Comma-separated device numbers; absent: every device of the domain.
    pub devices: Option<String>,
    /// Resume after this sequence number (from a close reason or the last
    /// event received); needs `stream`.
    pub after: Option<u64>,
    /// The stream the sequence numbers belong to (from the `hello`).
    pub stream: Option<String>,
    /// A one-time ticket from POST /api/v1/events/tickets, for clients
    /// that cannot send an Authorization header.
    pub ticket: Option<String>,
}

/// A call as events show it.
#[derive(Debug, Serialize, ToSchema)]
#[serde(rename_all = "camelCase")]
pub struct CallEventDto {
    pub call_id: String,
    /// The device's own connection state; `null` once the call ended for it.
    pub state: String,
    pub calling: Option<String>,
    pub called: Option<String>,
    /// Other parties and their connection state when known.
    pub parties: Vec<(String, Option<String>)>,
}

/// One message on an event stream.
#[derive(Debug, Serialize, ToSchema)]
#[serde(
    tag = "type",
    rename_all = "camelCase",
    rename_all_fields = "camelCase"
)]
pub enum EventDto {
    /// First message: the stream id, the last sequence number, and the
    /// current states of the subscribed devices (absent when resuming).
    Hello {
        stream: String,
        domain_id: i64,
        last_seq: u64,
        devices: Option<Vec<DeviceStateDto>>,
    },
    DeviceState {
        seq: u64,
        device: String,
        supervised: bool,
        activity: String,
        do_not_disturb: bool,
        message_waiting: bool,
    },
    CallState {
        seq: u64,
        device: String,
        call: CallEventDto,
        cause: Option<String>,
    },
    Forwarding {
        seq: u64,
        device: String,
        forwarding: Vec<(String, String)>,
    },
    LinkState {
        seq: u64,
        link: usize,
        connected: bool,
        reason: Option<String>,
    },
}

impl EventDto {
    fn from_envelope(e: &Envelope) -> EventDto {
        let seq = e.seq;
        match &e.event {
            TelephonyEvent::DeviceStateChanged {
                device,
                supervised,
                activity,
                do_not_disturb,
                message_waiting,
            } => EventDto::DeviceState {
                seq,
                device: device.clone(),
                supervised: *supervised,
                activity: activity_token(*activity).into(),
                do_not_disturb: *do_not_disturb,
                message_waiting: *message_waiting,
            },
            TelephonyEvent::CallStateChanged {
                device,
                call,
                cause,
            } => EventDto::CallState {
                seq,
                device: device.clone(),
                call: CallEventDto {
                    call_id: call.call_id.clone(),
                    state: call.state.token().into(),
                    calling: call.calling.clone(),
                    called: call.called.clone(),
                    parties: call
                        .parties
                        .iter()
                        .map(|p| (p.device.clone(), p.state.map(|s| s.token().to_owned())))
                        .collect(),
                },
                cause: cause.clone(),
            },
            TelephonyEvent::ForwardingChanged { device, forwarding } => EventDto::Forwarding {
                seq,
                device: device.clone(),
                forwarding: forwarding
                    .iter()
                    .map(|f| (f.kind.token().to_owned(), f.destination.clone()))
                    .collect(),
            },
            TelephonyEvent::LinkStateChanged {
                link,
                connected,
                reason,
            } => EventDto::LinkState {
                seq,
                link: *link,
                connected: *connected,
                reason: reason.clone(),
            },
        }
    }

    fn name(&self) -> &'static str {
        match self {
            EventDto::Hello { .. } => "hello",
            EventDto::DeviceState { .. } => "deviceState",
            EventDto::CallState { .. } => "callState",
            EventDto::Forwarding { .. } => "forwarding",
            EventDto::LinkState { .. } => "linkState",
        }
    }
}

/// An administrator or a user on an event stream: by bearer token, or by
/// ticket. A user gets the events of its own devices only.
pub struct EventClient(Reach);

impl FromRequestParts<AppState> for EventClient {
    type Rejection = ApiError;

    async fn from_request_parts(parts: &mut Parts, st: &AppState) -> Result<Self, ApiError> {
        if parts
            .headers
            .contains_key(axum::http::header::AUTHORIZATION)
        {
            return Reach::from_request_parts(parts, st).await.map(EventClient);
        }
        let q: Query<EventQuery> = Query::from_request_parts(parts, st)
            .await
            .map_err(|e| ApiError::bad_request("query", "invalid_query", e.body_text()))?;
        let ticket = q.ticket.as_deref().ok_or_else(|| {
            ApiError::unauthorized(
                "send 'Authorization: Bearer <token>', or get a ticket with POST /api/v1/events/tickets and pass it as ?ticket=",
            )
        })?;
        let hash = st.tickets.redeem(ticket).ok_or_else(|| {
            ApiError::unauthorized("ticket unknown, used or expired: get a new one")
        })?;
        Reach::from_token_hash(st, &hash).await.map(EventClient)
    }
}

/// A one-time ticket to open an event stream without an Authorization
/// header (browsers' WebSocket and EventSource).
#[utoipa::path(post, path = "/api/v1/events/tickets", tag = "events", security(("bearer" = [])),
    responses((status = 200, body = TicketDto), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn ticket(State(st): State<AppState>, a: Reach) -> ApiResult<Json<TicketDto>> {
    a.telephony(&st).await?;
    let t = st.tickets.issue(a.token_hash()).ok_or_else(|| {
        ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "too_many_tickets",
            "too many tickets outstanding: retry in 30 seconds",
        )
    })?;
    Ok(Json(TicketDto {
        ticket: t,
        expires_in_seconds: crate::tickets::TICKET_TTL.as_secs(),
    }))
}

fn stream_id(d: &DomainTelephony) -> String {
    let ms = d
        .started_at
        .duration_since(UNIX_EPOCH)
        .map(|t| t.as_millis())
        .unwrap_or(0);
    format!("{}-{ms}", d.domain.0)
}

/// Checks the request and subscribes; errors are plain HTTP errors since
/// nothing is upgraded yet.
fn subscribe(
    st: &AppState,
    a: &Reach,
    company: i64,
    domain: i64,
    q: &EventQuery,
) -> ApiResult<(Subscription, EventDto, Arc<DomainTelephony>)> {
    let cid = a.company(company)?;
    let own = a.own_numbers(DomainId(domain)).transpose()?;
    let d = st
        .telephony
        .domain(DomainId(domain))
        .filter(|d| d.company == cid)
        .ok_or_else(|| {
            ApiError::new(
                StatusCode::SERVICE_UNAVAILABLE,
                "telephony_not_running",
                "this domain's telephony is not running: check its links and restart it",
            )
        })?;
    let filter = match (q.devices.as_deref().map(str::trim), own) {
        (None | Some("") | Some("*"), None) => Filter::All,
        // A user's "all" is its own supervised devices.
        (None | Some("") | Some("*"), Some(own)) => Filter::Devices(
            own.iter()
                .filter(|n| d.engine.device(n).is_some())
                .cloned()
                .collect(),
        ),
        (Some(list), own) => {
            let set: HashSet<String> = list
                .split(',')
                .map(|s| s.trim().to_owned())
                .filter(|s| !s.is_empty())
                .collect();
            if set.len() > 10_000 {
                return Err(ApiError::bad_request(
                    "devices",
                    "too_many",
                    "subscribe to at most 10000 devices, or to all",
                ));
            }
            if let Some(own) = own
                && set.iter().any(|n| !own.contains(n))
            {
                return Err(ApiError::not_found("device"));
            }
            if let Some(unknown) = set.iter().find(|n| d.engine.device(n).is_none()) {
                return Err(ApiError::bad_request(
                    "devices",
                    "device_not_supervised",
                    format!("device {unknown} is not supervised in this domain"),
                ));
            }
            Filter::Devices(set)
        }
    };
    let stream = stream_id(&d);
    let map_err = |e: SubscribeError| match e {
        SubscribeError::Shutdown => ApiError::new(
            StatusCode::SERVICE_UNAVAILABLE,
            "shutting_down",
            e.to_string(),
        ),
        other => ApiError::new(StatusCode::CONFLICT, "cannot_resume", other.to_string())
            .with_field("after"),
    };
    match q.after {
        Some(after) => {
            if q.stream.as_deref() != Some(stream.as_str()) {
                return Err(ApiError::new(
                    StatusCode::CONFLICT,
                    "stream_restarted",
                    format!(
                        "the domain's event stream restarted (now {stream}): subscribe again without `after` and read the states"
                    ),
                )
                .with_field("stream"));
            }
            let sub = d
                .engine
                .subscribe(filter, QUEUE, Some(after))
                .map_err(map_err)?;
            let hello = EventDto::Hello {
                stream,
                domain_id: domain,
                last_seq: after,
                devices: None,
            };
            Ok((sub, hello, d.clone()))
        }
        None => {
            let last = d.engine.bus().last_seq();
            let (sub, states) = d
                .engine
                .subscribe_with_state(filter, QUEUE)
                .map_err(map_err)?;
            let devices = states.into_iter().map(|s| device_dto(domain, s)).collect();
            let hello = EventDto::Hello {
                stream,
                domain_id: domain,
                last_seq: last,
                devices: Some(devices),
            };
            Ok((sub, hello, d.clone()))
        }
    }
}

/// Events of a domain's devices over WebSocket. Text frames, one JSON
/// message each: `hello` first, then `deviceState`, `callState`,
/// `forwarding` and `linkState` with their `seq`. Close codes: 4008 too
/// slow (the reason says `after=N`: reconnect with it), 4009 the stream
/// ended (restart or shutdown: subscribe again).
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/events/ws", tag = "events", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), EventQuery),
    responses((status = 101, description = "WebSocket of EventDto messages"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn websocket(
    State(st): State<AppState>,
    EventClient(a): EventClient,
    Path((company, domain)): Path<(i64, i64)>,
    Query(q): Query<EventQuery>,
    upgrade: WebSocketUpgrade,
) -> ApiResult<Response> {
    a.telephony(&st).await?;
    let (sub, hello, d) = subscribe(&st, &a, company, domain, &q)?;
    Ok(upgrade
        .on_upgrade(move |socket| pump(socket, sub, hello, d))
        .into_response())
}

fn text(m: &EventDto) -> Message {
    Message::Text(Utf8Bytes::from(
        serde_json::to_string(m).unwrap_or_default(),
    ))
}

/// The JSON text of an event, shared by every stream of the domain.
fn event_text(d: &DomainTelephony, e: &Envelope) -> Arc<str> {
    d.event_json(e.seq, || {
        serde_json::to_string(&EventDto::from_envelope(e)).unwrap_or_default()
    })
}

async fn pump(socket: WebSocket, mut sub: Subscription, hello: EventDto, d: Arc<DomainTelephony>) {
    let (mut tx, mut rx) = socket.split();
    if send(&mut tx, text(&hello)).await.is_err() {
        return;
    }
    let close = loop {
        tokio::select! {
            got = sub.recv() => match got {
                Ok(e) => {
                    let shared = |e: &Envelope| Message::Text(Utf8Bytes::from(event_text(&d, e).as_ref()));
                    let mut batch = vec![shared(&e)];
                    // drain what is queued, then write it in one flush
                    while batch.len() < 256 {
                        match sub.try_recv() {
                            Some(Ok(e)) => batch.push(shared(&e)),
                            _ => break,
                        }
                    }
                    let mut ok = true;
                    for m in batch {
                        if tokio::time::timeout(SEND_TIMEOUT, tx.feed(m)).await.map_or(true, |r| r.is_err()) {
                            ok = false;
                            break;
                        }
                    }
                    if !ok || tokio::time::timeout(SEND_TIMEOUT, tx.flush()).await.map_or(true, |r| r.is_err()) {
                        tracing::info!("event client too slow to write to: disconnected");
                        return;
                    }
                }
                Err(reason) => break close_frame(&reason),
            },
            msg = rx.next() => match msg {
                Some(Ok(Message::Close(_))) | None | Some(Err(_)) => return,
                Some(Ok(_)) => {} // pings are answered by the library; other input is ignored
            },
        }
    };
    let _ = send(&mut tx, Message::Close(Some(close))).await;
}

/// Sends one message, giving up after [`SEND_TIMEOUT`].
async fn send(
    tx: &mut futures_util::stream::SplitSink<WebSocket, Message>,
    m: Message,
) -> Result<(), ()> {
    match tokio::time::timeout(SEND_TIMEOUT, tx.send(m)).await {
        Ok(Ok(())) => Ok(()),
        _ => Err(()),
    }
}

fn close_frame(reason: &CloseReason) -> CloseFrame {
    match reason {
        CloseReason::Lagged { last_delivered, .. } => CloseFrame {
            code: CLOSE_LAGGED,
            reason: Utf8Bytes::from(format!("too slow: reconnect with after={last_delivered}")),
        },
        CloseReason::Shutdown => CloseFrame {
            code: CLOSE_STREAM_ENDED,
            reason: Utf8Bytes::from_static(
                "event stream ended (restart or shutdown): subscribe again",
            ),
        },
    }
}

/// Events of a domain's devices as Server-Sent Events: `event:` is the
/// message type, `id:` the sequence number (so `Last-Event-ID` works for
/// `after`), `data:` the JSON message. A slow client gets an `event: close`
/// naming where to resume, then the stream ends.
#[utoipa::path(get, path = "/api/v1/companies/{companyId}/domains/{domainId}/events/sse", tag = "events", security(("bearer" = [])),
    params(("companyId" = i64, Path), ("domainId" = i64, Path), EventQuery),
    responses((status = 200, description = "text/event-stream of EventDto messages"), (status = 401, body = ErrorBody), (status = 403, body = ErrorBody), (status = 409, body = ErrorBody), (status = 503, body = ErrorBody)))]
pub async fn sse(
    State(st): State<AppState>,
    EventClient(a): EventClient,
    Path((company, domain)): Path<(i64, i64)>,
    Query(mut q): Query<EventQuery>,
    headers: axum::http::HeaderMap,
) -> ApiResult<Response> {
    if q.after.is_none()
        && let Some(id) = headers.get("last-event-id").and_then(|v| v.to_str().ok())
        && let Some((stream, seq)) = id.rsplit_once(':')
    {
        q.stream = Some(stream.to_owned());
        q.after = seq.parse().ok();
    }
    a.telephony(&st).await?;
    let (sub, hello, d) = subscribe(&st, &a, company, domain, &q)?;
    let stream_name = match &hello {
        EventDto::Hello { stream, .. } => stream.clone(),
        _ => String::new(),
    };
    let first = sse_event(&hello, &stream_name);
    struct S {
        sub: Subscription,
        stream: Arc<str>,
        domain: Arc<DomainTelephony>,
        done: bool,
    }
    let state = S {
        sub,
        stream: stream_name.into(),
        domain: d,
        done: false,
    };
    let rest = futures_util::stream::unfold(state, |mut s| async move {
        if s.done {
            return None;
        }
        match s.sub.recv().await {
            Ok(e) => {
                let ev = Event::default()
                    .event(EventDto::from_envelope(&e).name())
                    .id(format!("{}:{}", s.stream, e.seq))
                    .data(event_text(&s.domain, &e).as_ref());
                Some((Ok::<_, Infallible>(ev), s))
            }
            Err(reason) => {
                s.done = true;
                let ev = Event::default().event("close").data(reason.to_string());
                Some((Ok(ev), s))
            }
        }
    });
    let stream = futures_util::stream::once(async move { Ok::<_, Infallible>(first) }).chain(rest);
    Ok(Sse::new(stream)
        .keep_alive(KeepAlive::default())
        .into_response())
}

fn sse_event(m: &EventDto, stream: &str) -> Event {
    let ev = Event::default()
        .event(m.name())
        .data(serde_json::to_string(m).unwrap_or_default());
    match m {
        EventDto::DeviceState { seq, .. }
        | EventDto::CallState { seq, .. }
        | EventDto::Forwarding { seq, .. }
        | EventDto::LinkState { seq, .. } => ev.id(format!("{stream}:{seq}")),
        EventDto::Hello { last_seq, .. } => ev.id(format!("{stream}:{last_seq}")),
    }
}
