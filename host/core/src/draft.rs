//! The rules of a draft, the form an usager (or an agent for them) fills
//! page by page before filing it: its first answers, taken from the
//! profile ([`prefill`]).

use crate::demarche::Definition;
use crate::profile::Profile;
use crate::value::Answers;

/// The first draft of a form: every field with a `prefill` the profile can
/// answer. Agent-only fields are never prefilled.
pub fn prefill(definition: &Definition, profile: &Profile) -> Answers {
    definition
        .fields()
        .filter(|field| !field.agent_only)
        .filter_map(|field| {
            let source = field.prefill?;
            source.read(profile).map(|value| (field.id.clone(), value))
        })
        .collect()
}
