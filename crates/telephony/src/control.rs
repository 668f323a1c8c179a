//! Call control and device features through the link that supervises the
//! device (ECMA-269 services): make call, answer, clear connection, hold,
//! retrieve, consultation, transfer, conference, deflect, single step
//! transfer, directed and group pickup, generate digits, forwarding,
//! do-not-disturb, and callback ("double call", guide 1.3.3).
//!
//! Where a call is optional, the device's state picks it (the ringing call
//! to answer, the connected call to hold...); give the call id when the
//! device may have several. Requests fail fast with
//! [`ControlError::LinkDown`] while the device's link is down.

use std::time::Duration;

use twp_csta::{
    AutoOriginate, ConnectionId, DeviceId, ForwardingType, LocalConnectionState as S, Request,
    Response,
};

use crate::error::ControlError;
use crate::events::{Filter, Subscription, TelephonyEvent};
use crate::monitor::DeviceEntry;
use crate::service::Telephony;
use crate::state::Forward;

/// Checks a number to dial: digits, with an optional leading `+`, and
/// `*`/`#`; spaces, dots and dashes are removed.
pub fn dialable(number: &str) -> Result<String, ControlError> {
    let cleaned: String = number
        .chars()
        .filter(|c| !matches!(c, ' ' | '.' | '-'))
        .collect();
    let ok = !cleaned.is_empty()
        && cleaned.len() <= 32
        && cleaned
            .chars()
            .enumerate()
            .all(|(i, c)| c.is_ascii_digit() || c == '*' || c == '#' || (c == '+' && i == 0));
    if ok {
        Ok(cleaned)
    } else {
        Err(ControlError::InvalidNumber {
            number: number.to_owned(),
        })
    }
}

fn pick(
    entry: &DeviceEntry,
    call: Option<&str>,
    states: &[S],
    wanted: &'static str,
) -> Result<String, ControlError> {
    if let Some(c) = call {
        return Ok(c.to_owned());
    }
    entry.read(|s| {
        states
            .iter()
            .find_map(|st| s.calls_in(*st).next().map(|c| c.call_id.clone()))
            .ok_or_else(|| ControlError::NoSuchCall {
                device: s.number.clone(),
                wanted,
            })
    })
}

fn conn(call: &str, device: &str) -> ConnectionId {
    ConnectionId::new(call, device)
}

impl Telephony {
    async fn send(&self, device: &str, request: Request) -> Result<Response, ControlError> {
        let (_, link) = self.route(device)?;
        let name = request.name();
        link.request(request)
            .await
            .map_err(|e| ControlError::from_link(name, e))
    }

    /// Calls `number` from `device`; returns the new call id.
    pub async fn make_call(&self, device: &str, number: &str) -> Result<String, ControlError> {
        let number = dialable(number)?;
        let r = self
            .send(
                device,
                Request::MakeCall {
                    calling_device: DeviceId::new(device),
                    called_directory_number: DeviceId::new(number),
                    auto_originate: Some(AutoOriginate::DoNotPrompt),
                },
            )
            .await?;
        match r {
            Response::MakeCall { calling_device } => Ok(calling_device.call_id.unwrap_or_default()),
            other => Err(ControlError::Unexpected {
                request: "MakeCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Answers the ringing call (or `call`).
    pub async fn answer(&self, device: &str, call: Option<&str>) -> Result<(), ControlError> {
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Alerting], "ringing")?;
        self.send(
            device,
            Request::AnswerCall {
                call_to_be_answered: conn(&call, device),
            },
        )
        .await
        .map(drop)
    }

    /// Hangs up (ClearConnection): the connected call first, else a
    /// ringing, held or failed one (or `call`).
    pub async fn hang_up(&self, device: &str, call: Option<&str>) -> Result<(), ControlError> {
        let (entry, _) = self.route(device)?;
        let call = pick(
            &entry,
            call,
            &[
                S::Connected,
                S::Initiated,
                S::Alerting,
                S::Fail,
                S::Hold,
                S::Queued,
            ],
            "current",
        )?;
        self.send(
            device,
            Request::ClearConnection {
                connection_to_be_cleared: conn(&call, device),
            },
        )
        .await
        .map(drop)
    }

    pub async fn hold(&self, device: &str, call: Option<&str>) -> Result<(), ControlError> {
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Connected], "connected")?;
        self.send(
            device,
            Request::HoldCall {
                call_to_be_held: conn(&call, device),
            },
        )
        .await
        .map(drop)
    }

    pub async fn retrieve(&self, device: &str, call: Option<&str>) -> Result<(), ControlError> {
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Hold], "held")?;
        self.send(
            device,
            Request::RetrieveCall {
                call_to_be_retrieved: conn(&call, device),
            },
        )
        .await
        .map(drop)
    }

    /// Holds the connected call (or `call`) and calls `number`; returns the
    /// consultation call id.
    pub async fn consult(
        &self,
        device: &str,
        call: Option<&str>,
        number: &str,
    ) -> Result<String, ControlError> {
        let number = dialable(number)?;
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Connected, S::Hold], "connected")?;
        match self
            .send(
                device,
                Request::ConsultationCall {
                    existing_call: conn(&call, device),
                    consulted_device: DeviceId::new(number),
                },
            )
            .await?
        {
            Response::ConsultationCall { initiated_call } => {
                Ok(initiated_call.call_id.unwrap_or_default())
            }
            other => Err(ControlError::Unexpected {
                request: "ConsultationCall",
                got: other.name().to_owned(),
            }),
        }
    }

    fn held_and_active(
        &self,
        entry: &DeviceEntry,
        calls: Option<(&str, &str)>,
    ) -> Result<(String, String), ControlError> {
        match calls {
            Some((h, a)) => Ok((h.to_owned(), a.to_owned())),
            None => Ok((
                pick(entry, None, &[S::Hold], "held")?,
                pick(
                    entry,
                    None,
                    &[S::Connected, S::Alerting, S::Initiated],
                    "active",
                )?,
            )),
        }
    }

    /// Transfers the held call to the active one (`calls` = (held, active),
    /// else taken from the device's state); the device leaves. Returns the
    /// resulting call id when the PBX tells it.
    pub async fn transfer(
        &self,
        device: &str,
        calls: Option<(&str, &str)>,
    ) -> Result<Option<String>, ControlError> {
        let (entry, _) = self.route(device)?;
        let (held, active) = self.held_and_active(&entry, calls)?;
        match self
            .send(
                device,
                Request::TransferCall {
                    held_call: conn(&held, device),
                    active_call: conn(&active, device),
                },
            )
            .await?
        {
            Response::TransferCall { transferred_call } => {
                Ok(transferred_call.and_then(|c| c.call_id))
            }
            other => Err(ControlError::Unexpected {
                request: "TransferCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Joins the held and the active call; returns the conference call id.
    pub async fn conference(
        &self,
        device: &str,
        calls: Option<(&str, &str)>,
    ) -> Result<String, ControlError> {
        let (entry, _) = self.route(device)?;
        let (held, active) = self.held_and_active(&entry, calls)?;
        match self
            .send(
                device,
                Request::ConferenceCall {
                    held_call: conn(&held, device),
                    active_call: conn(&active, device),
                },
            )
            .await?
        {
            Response::ConferenceCall { conference_call } => {
                Ok(conference_call.call_id.unwrap_or_default())
            }
            other => Err(ControlError::Unexpected {
                request: "ConferenceCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Diverts the ringing call (or `call`) to `to` (DeflectCall).
    pub async fn deflect(
        &self,
        device: &str,
        call: Option<&str>,
        to: &str,
    ) -> Result<(), ControlError> {
        let to = dialable(to)?;
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Alerting], "ringing")?;
        self.send(
            device,
            Request::DeflectCall {
                call_to_be_diverted: conn(&call, device),
                new_destination: DeviceId::new(to),
            },
        )
        .await
        .map(drop)
    }

    /// Transfers the connected call (or `call`) to `to` without
    /// consultation; the device leaves.
    pub async fn single_step_transfer(
        &self,
        device: &str,
        call: Option<&str>,
        to: &str,
    ) -> Result<Option<String>, ControlError> {
        let to = dialable(to)?;
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Connected], "connected")?;
        match self
            .send(
                device,
                Request::SingleStepTransferCall {
                    active_call: conn(&call, device),
                    transferred_to: DeviceId::new(to),
                },
            )
            .await?
        {
            Response::SingleStepTransferCall { transferred_call } => {
                Ok(transferred_call.and_then(|c| c.call_id))
            }
            other => Err(ControlError::Unexpected {
                request: "SingleStepTransferCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Takes a call ringing at `ringing_device` (its ringing call, or
    /// `call`) to `device` (interception, DirectedPickupCall). Returns the
    /// call id.
    pub async fn pickup(
        &self,
        device: &str,
        ringing_device: &str,
        call: Option<&str>,
    ) -> Result<String, ControlError> {
        let call = match call {
            Some(c) => c.to_owned(),
            None => {
                let (entry, _) = self.inner.devices.get(ringing_device).ok_or_else(|| {
                    ControlError::UnknownDevice {
                        device: ringing_device.to_owned(),
                    }
                })?;
                pick(entry, None, &[S::Alerting], "ringing")?
            }
        };
        match self
            .send(
                device,
                Request::DirectedPickupCall {
                    call_to_be_picked_up: conn(&call, ringing_device),
                    requesting_device: DeviceId::new(device),
                },
            )
            .await?
        {
            Response::DirectedPickupCall { picked_call } => {
                Ok(picked_call.and_then(|c| c.call_id).unwrap_or(call))
            }
            other => Err(ControlError::Unexpected {
                request: "DirectedPickupCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Takes any call ringing in the device's pickup group.
    pub async fn group_pickup(&self, device: &str) -> Result<Option<String>, ControlError> {
        match self
            .send(
                device,
                Request::GroupPickupCall {
                    new_destination: DeviceId::new(device),
                    pickup_device: None,
                },
            )
            .await?
        {
            Response::GroupPickupCall { picked_call } => Ok(picked_call.and_then(|c| c.call_id)),
            other => Err(ControlError::Unexpected {
                request: "GroupPickupCall",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Sends DTMF digits (`0-9 * # A-D`) on the connected call (or `call`).
    pub async fn send_digits(
        &self,
        device: &str,
        call: Option<&str>,
        digits: &str,
    ) -> Result<(), ControlError> {
        let ok = !digits.is_empty()
            && digits.len() <= 64
            && digits
                .chars()
                .all(|c| c.is_ascii_digit() || matches!(c, '*' | '#' | 'A'..='D'));
        if !ok {
            return Err(ControlError::InvalidNumber {
                number: digits.to_owned(),
            });
        }
        let (entry, _) = self.route(device)?;
        let call = pick(&entry, call, &[S::Connected], "connected")?;
        self.send(
            device,
            Request::GenerateDigits {
                connection_to_send_digits: conn(&call, device),
                chars_to_send: digits.to_owned(),
            },
        )
        .await
        .map(drop)
    }

    /// Reads the forwarding rules from the PBX (and refreshes the state).
    pub async fn get_forwarding(&self, device: &str) -> Result<Vec<Forward>, ControlError> {
        let (entry, _) = self.route(device)?;
        match self
            .send(
                device,
                Request::GetForwarding {
                    device: DeviceId::new(device),
                },
            )
            .await?
        {
            Response::GetForwarding { forwarding } => {
                entry.update(&self.inner.bus, |s| {
                    s.apply_features(None, Some(&forwarding))
                });
                Ok(entry.read(|s| s.forwarding.clone()))
            }
            other => Err(ControlError::Unexpected {
                request: "GetForwarding",
                got: other.name().to_owned(),
            }),
        }
    }

    /// Activates forwarding of `kind` to `destination`, or cancels it
    /// (`None`).
    pub async fn set_forwarding(
        &self,
        device: &str,
        kind: ForwardingType,
        destination: Option<&str>,
    ) -> Result<(), ControlError> {
        let destination = destination.map(dialable).transpose()?;
        self.send(
            device,
            Request::SetForwarding {
                device: DeviceId::new(device),
                forwarding_type: kind,
                activate_forward: destination.is_some(),
                forward_dn: destination.map(DeviceId::new),
                ring_count: None,
            },
        )
        .await
        .map(drop)
    }

    pub async fn set_do_not_disturb(&self, device: &str, on: bool) -> Result<(), ControlError> {
        self.send(
            device,
            Request::SetDoNotDisturb {
                device: DeviceId::new(device),
                do_not_disturb_on: on,
            },
        )
        .await
        .map(drop)
    }

    /// Callback ("double call", guide 1.3.3): the callback device calls the
    /// user's device; once the user answers, it consults the customer; once
    /// the customer answers, it transfers, leaving user and customer
    /// together. Returns the joined call id. On no answer the attempt is
    /// cleared and [`ControlError::CallbackNoAnswer`] names who did not
    /// answer.
    pub async fn callback(&self, user: &str, customer: &str) -> Result<String, ControlError> {
        let customer = dialable(customer)?;
        let agent = self
            .inner
            .config
            .callback_device
            .clone()
            .ok_or(ControlError::CallbackNotConfigured)?;
        self.route(user)?;
        let timeout = self.inner.config.callback_answer_timeout;
        let mut sub = self
            .subscribe(Filter::devices([agent.clone()]), 256, None)
            .map_err(|_| ControlError::ShuttingDown)?;
        let first = self.make_call(&agent, user).await?;
        if let Err(e) = wait_answered(&mut sub, &agent, &first, user, timeout).await {
            let _ = self.hang_up(&agent, Some(&first)).await;
            return Err(e);
        }
        let second = match self.consult(&agent, Some(&first), &customer).await {
            Ok(c) => c,
            Err(e) => {
                let _ = self.hang_up(&agent, Some(&first)).await;
                return Err(e);
            }
        };
        if let Err(e) = wait_answered(&mut sub, &agent, &second, &customer, timeout).await {
            let _ = self.hang_up(&agent, Some(&second)).await;
            let _ = self.hang_up(&agent, Some(&first)).await;
            return Err(e);
        }
        let joined = self
            .transfer(&agent, Some((first.as_str(), second.as_str())))
            .await?;
        Ok(joined.unwrap_or(second))
    }
}

/// Waits until `party` is connected in `call` as seen by `device`.
async fn wait_answered(
    sub: &mut Subscription,
    device: &str,
    call: &str,
    party: &str,
    timeout: Duration,
) -> Result<(), ControlError> {
    let deadline = tokio::time::Instant::now() + timeout;
    loop {
        let next = tokio::time::timeout_at(deadline, sub.recv()).await;
        let env = match next {
            Err(_) => {
                return Err(ControlError::CallbackNoAnswer {
                    party: party.to_owned(),
                    after: timeout,
                });
            }
            Ok(Err(_)) => return Err(ControlError::ShuttingDown),
            Ok(Ok(env)) => env,
        };
        if let TelephonyEvent::CallStateChanged {
            device: d, call: c, ..
        } = &env.event
            && d == device
            && c.call_id == call
        {
            if c.state == S::Null {
                return Err(ControlError::CallbackDropped {
                    party: party.to_owned(),
                });
            }
            if c.parties
                .iter()
                .any(|p| p.device == party && p.state == Some(S::Connected))
            {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dialable_numbers() {
        assert_eq!(
            dialable("+33 1 23-45.67").ok().as_deref(),
            Some("+33123 4567".replace(' ', "").as_str())
        );
        assert!(dialable("12a").is_err());
        assert!(dialable("1+2").is_err());
        assert!(dialable("").is_err());
        assert_eq!(dialable("*21#").ok().as_deref(), Some("*21#"));
    }
}
