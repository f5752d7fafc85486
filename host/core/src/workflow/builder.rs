//! A builder of transitions, for the built-in templates.

use super::{
    Effects, HistoryText, Input, Notify, ServiceChange, Target, TimerGroup, TimerTrigger,
    Transition, TransitionId,
};
use crate::actor::ActorKind;
use crate::history::Audience;
use crate::id::StatusId;
use crate::role::Right;

/// A transition under construction.
pub(super) struct T(pub(super) Transition);

impl T {
    pub(super) fn new(
        id: &str,
        label: &str,
        from: &[&str],
        to: Option<&str>,
        actor: ActorKind,
    ) -> T {
        T(Transition {
            id: TransitionId::from(id),
            label: label.to_owned(),
            from: from.iter().map(|s| StatusId::from(*s)).collect(),
            to: to.map(|s| Target::Status(StatusId::from(s))),
            actor,
            right: None,
            on_timer: None,
            requires: Vec::new(),
            accepts: Vec::new(),
            confirm: false,
            service_change: None,
            effects: Effects::default(),
        })
    }

    pub(super) fn agent(id: &str, label: &str, from: &[&str], to: Option<&str>, right: Right) -> T {
        let mut t = T::new(id, label, from, to, ActorKind::Agent);
        t.0.right = Some(right);
        t
    }

    pub(super) fn usager(id: &str, label: &str, from: &[&str], to: Option<&str>) -> T {
        T::new(id, label, from, to, ActorKind::Usager)
    }

    pub(super) fn automatic(
        id: &str,
        label: &str,
        from: &[&str],
        to: Option<&str>,
        trigger: TimerTrigger,
    ) -> T {
        let mut t = T::new(id, label, from, to, ActorKind::System);
        t.0.on_timer = Some(trigger);
        t
    }

    pub(super) fn back_to_previous(mut self) -> T {
        self.0.to = Some(Target::Previous);
        self
    }

    pub(super) fn requires(mut self, inputs: &[Input]) -> T {
        self.0.requires.extend_from_slice(inputs);
        self
    }

    pub(super) fn accepts(mut self, inputs: &[Input]) -> T {
        self.0.accepts.extend_from_slice(inputs);
        self
    }

    pub(super) fn confirm(mut self) -> T {
        self.0.confirm = true;
        self
    }

    pub(super) fn service_change(mut self, change: ServiceChange) -> T {
        self.0.service_change = Some(change);
        self
    }

    pub(super) fn history(mut self, audience: Audience, text: &str) -> T {
        self.0.effects.history.push(HistoryText {
            audience,
            text: text.to_owned(),
        });
        self
    }

    pub(super) fn notices(mut self, notices: Vec<Notify>) -> T {
        self.0.effects.notify.extend(notices);
        self
    }

    pub(super) fn start(mut self, groups: &[TimerGroup]) -> T {
        self.0.effects.start.extend_from_slice(groups);
        self
    }

    pub(super) fn cancel(mut self, groups: &[TimerGroup]) -> T {
        self.0.effects.cancel.extend_from_slice(groups);
        self
    }
}
