//! The CSTA server: accepts links, decodes requests, answers them from the
//! PBX model, and writes events queued by the dispatcher.

use std::net::SocketAddr;
use std::sync::Arc;

use bytes::BytesMut;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::tcp::OwnedWriteHalf;
use tokio::net::{TcpListener, TcpStream};
use tokio::sync::{Notify, mpsc, watch};
use tracing::debug;

use twp_csta::frame::encode_frame;
use twp_csta::{CstaError, ErrorCategory, Frame, FrameDecoder, Message, Request, Response, encode};

use crate::core::{Core, LinkSlot, World};
use crate::pbx::Effects;

pub(crate) async fn accept_loop(
    core: Arc<Core>,
    listener: TcpListener,
    listen: usize,
    mut shutdown: watch::Receiver<bool>,
) {
    loop {
        tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok((stream, peer)) => {
                    let _ = stream.set_nodelay(true);
                    tokio::spawn(serve_link(core.clone(), stream, listen, peer));
                }
                Err(e) => {
                    core.lock().log(format!("accept on listener {listen} failed: {e}"));
                    tokio::time::sleep(std::time::Duration::from_millis(50)).await;
                }
            },
            _ = shutdown.changed() => return,
        }
    }
}

async fn serve_link(core: Arc<Core>, stream: TcpStream, listen: usize, peer: SocketAddr) {
    let (tx, rx) = mpsc::channel(core.config.link_queue.max(16));
    let kill = Arc::new(Notify::new());
    let id = {
        let mut w = core.lock();
        if w.refusing {
            w.log(format!("link from {peer} refused (links down on demand)"));
            return;
        }
        let id = w.next_link;
        w.next_link += 1;
        w.links.insert(
            id,
            LinkSlot {
                tx: tx.clone(),
                listen,
                peer,
                monitors: Default::default(),
                kill: kill.clone(),
            },
        );
        w.log(format!("link {id} up from {peer} on listener {listen}"));
        id
    };
    let (mut reader, writer) = stream.into_split();
    tokio::spawn(write_frames(core.clone(), writer, rx, kill.clone()));
    let mut decoder = FrameDecoder::new(core.config.framing, core.config.max_frame_len);
    let mut buf = BytesMut::with_capacity(8 * 1024);
    let reason = 'link: loop {
        loop {
            match decoder.decode(&mut buf) {
                Ok(Some(frame)) => {
                    if let Err(reason) = handle_frame(&core, id, &tx, frame) {
                        break 'link reason;
                    }
                }
                Ok(None) => break,
                Err(e) => break 'link format!("malformed frame: {e}"),
            }
        }
        tokio::select! {
            read = reader.read_buf(&mut buf) => match read {
                Ok(0) => break 'link "closed by the client".to_owned(),
                Ok(_) => {}
                Err(e) => break 'link format!("read error: {e}"),
            },
            _ = kill.notified() => break 'link "dropped".to_owned(),
        }
    };
    let mut w = core.lock();
    w.remove_link(id);
    w.log(format!("link {id} down: {reason}"));
}

async fn write_frames(
    core: Arc<Core>,
    mut writer: OwnedWriteHalf,
    mut rx: mpsc::Receiver<Frame>,
    kill: Arc<Notify>,
) {
    let mut buf = BytesMut::with_capacity(16 * 1024);
    while let Some(frame) = rx.recv().await {
        buf.clear();
        let mut next = Some(frame);
        while let Some(f) = next {
            let _ = encode_frame(core.config.framing, &f, core.config.max_frame_len, &mut buf);
            next = if buf.len() < 256 * 1024 {
                rx.try_recv().ok()
            } else {
                None
            };
        }
        if writer.write_all(&buf).await.is_err() {
            kill.notify_one();
            return;
        }
    }
    let _ = writer.shutdown().await;
}

/// Handles one frame from a client; `Err` closes the link.
fn handle_frame(
    core: &Arc<Core>,
    link: u64,
    tx: &mpsc::Sender<Frame>,
    frame: Frame,
) -> Result<(), String> {
    let invoke_id = frame.invoke_id;
    let msg = twp_csta::decode(&frame.body)
        .map_err(|e| format!("malformed body in frame {invoke_id}: {e}"))?;
    match msg {
        Message::Request(Request::GetSwitchingFunctionDevices {
            requested_device_id,
            requested_device_category,
        }) => {
            let mut w = core.lock();
            let frames = crate::listing::answer(
                &mut w,
                &core.config,
                invoke_id,
                requested_device_id.as_ref(),
                requested_device_category,
            );
            for f in frames {
                if tx.try_send(f).is_err() {
                    return Err("response queue full".into());
                }
            }
        }
        Message::Request(request) => {
            let mut fx = Effects::default();
            {
                let mut w = core.lock();
                let answer = match answer(&mut w, link, request, &mut fx) {
                    Ok(r) => Message::Response(r),
                    Err(e) => Message::Error(e),
                };
                let reply = Frame::new(invoke_id, encode(&answer).into_bytes());
                if tx.try_send(reply).is_err() {
                    return Err("response queue full".into());
                }
                w.dispatch(std::mem::take(&mut fx.notes));
            }
            core.start_timers(fx.timers);
        }
        Message::Response(_) => debug!(link, %invoke_id, "response from client ignored"),
        other => {
            let refusal = Message::Error(CstaError::new(ErrorCategory::Operation, "generic"));
            debug!(link, name = other.name(), "unsupported message refused");
            let _ = tx.try_send(Frame::new(invoke_id, encode(&refusal).into_bytes()));
        }
    }
    Ok(())
}

fn number(d: &twp_csta::DeviceId) -> &str {
    d.number()
}

/// Answers one request from the PBX model.
fn answer(
    w: &mut World,
    link: u64,
    request: Request,
    fx: &mut Effects,
) -> Result<Response, CstaError> {
    let pbx = &mut w.pbx;
    Ok(match request {
        Request::StartApplicationSession {
            requested_protocol_versions,
            requested_session_duration,
            ..
        } => {
            let session_id = format!("{:09}", w.next_session);
            w.next_session += 1;
            Response::StartApplicationSessionPos {
                session_id,
                actual_protocol_version: requested_protocol_versions
                    .into_iter()
                    .next()
                    .or_else(|| Some(twp_csta::Edition::Ed4.namespace().to_owned())),
                actual_session_duration: requested_session_duration.or(Some(600)),
            }
        }
        Request::StopApplicationSession { .. } => Response::StopApplicationSessionPos,
        Request::ResetApplicationSessionTimer {
            requested_session_duration,
            ..
        } => Response::ResetApplicationSessionTimerPos {
            actual_session_duration: requested_session_duration,
        },
        Request::SystemStatus { .. } => Response::SystemStatus,
        Request::SystemRegister => Response::SystemRegister {
            sys_stat_register_id: format!("reg{link}"),
        },
        Request::MonitorStart { monitor_object, .. } => {
            let device = number(&monitor_object).to_owned();
            if !pbx.is_monitorable(&device) {
                return Err(crate::pbx::invalid_device(&device));
            }
            let limit = w.monitors_per_link;
            let slot = w
                .links
                .get_mut(&link)
                .ok_or_else(|| CstaError::new(ErrorCategory::Operation, "generic"))?;
            if slot.monitors.len() >= limit {
                return Err(CstaError::new(
                    ErrorCategory::SystemResourceAvailability,
                    "objectMonitorLimitExceeded",
                ));
            }
            let xref = format!("{}", 1_000_000 + w.next_xref);
            w.next_xref += 1;
            slot.monitors.insert(xref.clone());
            w.monitors
                .by_xref
                .insert(xref.clone(), (link, device.clone()));
            w.monitors
                .by_device
                .entry(device)
                .or_default()
                .push((link, xref.clone()));
            Response::MonitorStart { cross_ref_id: xref }
        }
        Request::MonitorStop { cross_ref_id } => {
            match w.monitors.by_xref.get(&cross_ref_id) {
                Some((owner, _)) if *owner == link => {}
                _ => {
                    return Err(CstaError::new(
                        ErrorCategory::Operation,
                        "invalidCrossRefID",
                    ));
                }
            }
            if let Some((_, device)) = w.monitors.by_xref.remove(&cross_ref_id)
                && let Some(list) = w.monitors.by_device.get_mut(&device)
            {
                list.retain(|(_, x)| *x != cross_ref_id);
            }
            if let Some(slot) = w.links.get_mut(&link) {
                slot.monitors.remove(&cross_ref_id);
            }
            Response::MonitorStop
        }
        Request::SnapshotDevice { snapshot_object } => Response::SnapshotDevice {
            calls: pbx.snapshot(number(&snapshot_object))?,
        },
        Request::MakeCall {
            calling_device,
            called_directory_number,
            ..
        } => Response::MakeCall {
            calling_device: pbx.make_call(
                number(&calling_device),
                number(&called_directory_number),
                fx,
            )?,
        },
        Request::AnswerCall {
            call_to_be_answered: c,
        } => {
            let (call, device) = ids(&c)?;
            pbx.answer(&call, &device, fx)?;
            Response::AnswerCall
        }
        Request::ClearConnection {
            connection_to_be_cleared: c,
        } => {
            let (call, device) = ids(&c)?;
            pbx.clear_connection(&call, &device, fx)?;
            Response::ClearConnection
        }
        Request::ClearCall {
            call_to_be_cleared: c,
        } => {
            let call = c.call_id.ok_or_else(crate::pbx::invalid_call)?;
            pbx.clear_call(&call, fx)?;
            Response::ClearCall
        }
        Request::HoldCall { call_to_be_held } => {
            pbx.hold(&call_to_be_held, fx)?;
            Response::HoldCall
        }
        Request::RetrieveCall {
            call_to_be_retrieved,
        } => {
            pbx.retrieve(&call_to_be_retrieved, fx)?;
            Response::RetrieveCall
        }
        Request::ConsultationCall {
            existing_call,
            consulted_device,
        } => Response::ConsultationCall {
            initiated_call: pbx.consultation(&existing_call, number(&consulted_device), fx)?,
        },
        Request::TransferCall {
            held_call,
            active_call,
        } => Response::TransferCall {
            transferred_call: Some(pbx.transfer(&held_call, &active_call, fx)?),
        },
        Request::ConferenceCall {
            held_call,
            active_call,
        } => Response::ConferenceCall {
            conference_call: pbx.conference(&held_call, &active_call, fx)?,
        },
        Request::DeflectCall {
            call_to_be_diverted,
            new_destination,
        } => {
            pbx.deflect(&call_to_be_diverted, number(&new_destination), fx)?;
            Response::DeflectCall
        }
        Request::SingleStepTransferCall {
            active_call,
            transferred_to,
        } => Response::SingleStepTransferCall {
            transferred_call: Some(pbx.single_step_transfer(
                &active_call,
                number(&transferred_to),
                fx,
            )?),
        },
        Request::GroupPickupCall {
            new_destination,
            pickup_device,
        } => Response::GroupPickupCall {
            picked_call: Some(pbx.group_pickup(
                number(&new_destination),
                pickup_device.as_ref().map(number),
                fx,
            )?),
        },
        Request::DirectedPickupCall {
            call_to_be_picked_up,
            requesting_device,
        } => Response::DirectedPickupCall {
            picked_call: Some(pbx.directed_pickup(
                &call_to_be_picked_up,
                number(&requesting_device),
                fx,
            )?),
        },
        Request::SetForwarding {
            device,
            forwarding_type,
            activate_forward,
            forward_dn,
            ..
        } => {
            pbx.set_forwarding(
                number(&device),
                forwarding_type,
                activate_forward,
                forward_dn.as_ref().map(number),
                fx,
            )?;
            Response::SetForwarding
        }
        Request::GetForwarding { device } => Response::GetForwarding {
            forwarding: pbx.get_forwarding(number(&device))?,
        },
        Request::SetDoNotDisturb {
            device,
            do_not_disturb_on,
        } => {
            pbx.set_do_not_disturb(number(&device), do_not_disturb_on, fx)?;
            Response::SetDoNotDisturb
        }
        Request::GetDoNotDisturb { device } => Response::GetDoNotDisturb {
            do_not_disturb_on: pbx.do_not_disturb(number(&device))?,
        },
        Request::GenerateDigits {
            connection_to_send_digits,
            ..
        } => {
            pbx.generate_digits(&connection_to_send_digits)?;
            Response::GenerateDigits
        }
        // answered by `listing` (the segments follow the response)
        Request::GetSwitchingFunctionDevices { .. }
        // a switch-to-client service
        | Request::SwitchingFunctionDevices { .. } => {
            return Err(CstaError::new(
                ErrorCategory::Operation,
                "requestIncompatibleWithObject",
            ));
        }
    })
}

fn ids(c: &twp_csta::ConnectionId) -> Result<(String, String), CstaError> {
    match (&c.call_id, &c.device_id) {
        (Some(call), Some(device)) => Ok((call.clone(), device.number().to_owned())),
        _ => Err(crate::pbx::invalid_connection()),
    }
}
