//! The checks of a démarche's link to a business connector: the instance
//! named, the status transmitted on, and the synchronisation of the
//! vendor's statuses with the workflow.

use super::Problems;
use crate::actor::ActorKind;
use crate::demarche::{ConnectorLink, Definition, StatusSync};
use crate::workflow::Input;

/// The link names an instance and a status of the workflow; its
/// synchronisation is checked by [`check_sync`].
pub(super) fn check(d: &Definition, link: &ConnectorLink, p: &mut Problems) {
    p.blank(
        "connector.instance",
        &link.instance,
        "l'instance du connecteur",
    );
    if d.workflow().status(&link.transmit_on).is_none() {
        p.add(
            "connector.transmit_on",
            format!("le circuit n'a pas de statut « {} »", link.transmit_on),
        );
    }
    if let Some(sync) = &link.sync {
        check_sync(d, sync, p);
    }
}

/// The vendor statuses name agents' transitions of the workflow whose
/// required inputs the vendor can give (a comment, a refusal type named
/// in the mapping).
fn check_sync(d: &Definition, sync: &StatusSync, p: &mut Problems) {
    if sync.every_minutes == 0 {
        p.add(
            "connector.sync.every_minutes",
            "l'intervalle de lecture doit être d'au moins une minute",
        );
    }
    let workflow = d.workflow();
    for (code, remote) in &sync.on {
        let path = format!("connector.sync.on.{code}");
        if remote.transitions.is_empty() {
            p.add(&path, "indiquez au moins une transition du circuit");
        }
        for id in &remote.transitions {
            let Some(transition) = workflow.transition(id) else {
                p.add(&path, format!("le circuit n'a pas de transition « {id} »"));
                continue;
            };
            if transition.actor != ActorKind::Agent {
                p.add(&path, format!("« {id} » n'est pas une action des agents"));
            }
            for input in &transition.requires {
                let given = match input {
                    Input::Message | Input::Justification | Input::ClosingComment => true,
                    Input::RefusalType => remote.refusal_type.is_some(),
                    Input::Attachment | Input::Service => false,
                };
                if !given {
                    p.add(
                        &path,
                        format!(
                            "« {id} » demande : {}, que l'application métier ne donne pas",
                            input.label()
                        ),
                    );
                }
            }
        }
    }
}
