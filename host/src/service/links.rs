//! Account links: an usager links their account once to their record at a
//! vendor (their family at Espace famille) with the proof the vendor asks
//! (a family code and its secret); later lookups and transmissions use the
//! link instead of asking the proof again (the pattern of every family
//! connector in Publik).
//!
//! **What proves a link.** An instance offers linking when its use says so
//! (`guichet_store::registry::InstanceUse::link`, set by an administrator
//! with the instance's configuration): which of the connector's data
//! sources proves a link (`family-link`), and the only parameters an
//! usager may give it (`family-code`, `secret`). Linking is a lookup of
//! that source with the given parameters: exactly one record back is the
//! link, kept with the record's id and label ([`guichet_store::link`]);
//! the proof itself is never kept. A refusal of the vendor (wrong secret,
//! no such family, several families) is [`ServiceError::LinkRefused`]; a
//! vendor down is the connector's error (`connector_unavailable`).
//! Nothing is stored on failure.
//!
//! **Who may link.** An usager links their own account ([`link`]), only
//! with the parameters the instance lets usagers give: a parent's name and
//! birth date, which anyone may know, would list a family's children to
//! whoever types them. An agent links on an usager's behalf after checking
//! their identity ([`link_on_behalf`]), with any parameter the source
//! declares (name and birth date included), when they hold the *saisie au
//! nom de l'usager* right (`file_on_behalf`) on a démarche that uses the
//! instance (its connector, or a data source of its form): the right of
//! agents who already act for usagers on those démarches — Saisie BO,
//! Gestionnaire, Qualité, Administrateur — and not of those who only read
//! or process elsewhere. The link records the agent.
//!
//! **Removed** by the usager ([`unlink`]), by an agent who may link for
//! the instance ([`unlink_on_behalf`]; [`of_usager`] lists what that agent
//! sees), and with the account (the store's cascade). Linking again
//! replaces the link.

use std::collections::BTreeMap;

use guichet_core::demarche::Definition;
use guichet_core::id::UserId;
use guichet_core::role::Right;
use guichet_store::StoreError;
use guichet_store::account::{User, UserKind};
use guichet_store::link::AccountLink;
use guichet_store::registry::LinkSource;

use super::{Caller, Guichet, ServiceError};
use crate::connectors::CallError;
use crate::connectors::model::{ConnectorError, LookupQuery};
use crate::connectors::registry::RegistryError;

/// The most parameters a proof of a link holds.
pub const MAX_PARAMS: usize = 20;

/// Who asks for a link, which decides the parameters allowed.
enum Prover {
    /// The usager: only the instance's `usager_params`, all of them.
    Usager,
    /// An agent on the usager's behalf: any parameter the source declares.
    Agent(UserId),
}

/// Links the caller's own account to their record at `instance`, proved
/// with `params` (`family-code`, `secret`).
///
/// # Errors
/// `Forbidden` for an agent; `NotFound` for an unknown instance or one
/// offering no link; [`ServiceError::LinkParams`] for parameters usagers
/// may not give, or missing ones; [`ServiceError::LinkRefused`] when the
/// vendor refuses the proof; the connector's error when it cannot answer;
/// a store failure.
pub async fn link(
    guichet: &Guichet,
    caller: &Caller,
    instance: &str,
    params: BTreeMap<String, String>,
) -> Result<AccountLink, ServiceError> {
    if !caller.is_usager() {
        return Err(ServiceError::Forbidden(
            "seul un usager rattache son propre compte ; un agent le fait au nom de l'usager"
                .into(),
        ));
    }
    prove_and_keep(guichet, caller.user.id, instance, params, Prover::Usager).await
}

/// Links the account of the usager whose login is `usager` to their
/// record at `instance`, by an agent who checked their identity; any
/// parameter the link source declares may prove it (a name and a birth
/// date included).
///
/// # Errors
/// `Forbidden` without the `file_on_behalf` right on a démarche using the
/// instance; `NotFound` for an unknown usager, instance or one offering no
/// link; as [`link`] otherwise.
pub async fn link_on_behalf(
    guichet: &Guichet,
    agent: &Caller,
    usager: &str,
    instance: &str,
    params: BTreeMap<String, String>,
) -> Result<AccountLink, ServiceError> {
    if agent.is_usager() || !may_link_for_usagers(guichet, agent, instance).await? {
        return Err(ServiceError::Forbidden(format!(
            "droit manquant : {} sur une démarche qui utilise « {instance} »",
            Right::FileOnBehalf.label()
        )));
    }
    let account = usager_account(guichet, usager).await?.id;
    prove_and_keep(
        guichet,
        account,
        instance,
        params,
        Prover::Agent(agent.user.id),
    )
    .await
}

/// An usager's account with the links an agent may see and change.
#[derive(Debug, Clone)]
pub struct UsagerLinks {
    /// The usager's account.
    pub usager: User,
    /// Their links to the instances the agent may link for, by instance.
    pub links: Vec<AccountLink>,
    /// The instances the agent may link them to, each with the parameters
    /// an agent gives (those the connector's link source declares:
    /// `last-name`, `first-name`, `birth-date`…).
    pub offered: Vec<(String, Vec<String>)>,
}

/// The links of the usager whose login is `usager`, as an agent with the
/// `file_on_behalf` right on a démarche using each instance sees them.
///
/// # Errors
/// `Forbidden` when the agent may link for no instance; `NotFound` for an
/// unknown usager; a store failure.
pub async fn of_usager(
    guichet: &Guichet,
    agent: &Caller,
    usager: &str,
) -> Result<UsagerLinks, ServiceError> {
    let mut offered = Vec::new();
    if !agent.is_usager() {
        for (instance, source) in self::offered(guichet).await? {
            if may_link_for_usagers(guichet, agent, &instance).await? {
                let params =
                    declared_params(guichet, &instance, &source.source).unwrap_or_default();
                offered.push((instance, params));
            }
        }
    }
    if offered.is_empty() {
        return Err(ServiceError::Forbidden(format!(
            "droit manquant : {} sur une démarche qui utilise un dossier rattachable",
            Right::FileOnBehalf.label()
        )));
    }
    let account = usager_account(guichet, usager).await?;
    let links = guichet
        .store
        .account_links(account.id)
        .await?
        .into_iter()
        .filter(|link| {
            offered
                .iter()
                .any(|(instance, _)| *instance == link.instance)
        })
        .collect();
    Ok(UsagerLinks {
        usager: account,
        links,
        offered,
    })
}

/// Whether the agent may link usagers' accounts to some instance (the
/// `file_on_behalf` right on a démarche using an instance that offers
/// links): whether [`of_usager`] answers them.
///
/// # Errors
/// A store failure.
pub async fn may_link_somewhere(guichet: &Guichet, agent: &Caller) -> Result<bool, ServiceError> {
    if agent.is_usager() {
        return Ok(false);
    }
    for (instance, _) in offered(guichet).await? {
        if may_link_for_usagers(guichet, agent, &instance).await? {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Removes the link of the usager whose login is `usager` to `instance`,
/// by an agent who may link for it (the usager asked them, or the link
/// was wrong).
///
/// # Errors
/// `Forbidden` without the `file_on_behalf` right on a démarche using the
/// instance; `NotFound` for an unknown usager or no such link; a store
/// failure.
pub async fn unlink_on_behalf(
    guichet: &Guichet,
    agent: &Caller,
    usager: &str,
    instance: &str,
) -> Result<(), ServiceError> {
    if agent.is_usager() || !may_link_for_usagers(guichet, agent, instance).await? {
        return Err(ServiceError::Forbidden(format!(
            "droit manquant : {} sur une démarche qui utilise « {instance} »",
            Right::FileOnBehalf.label()
        )));
    }
    let account = usager_account(guichet, usager).await?;
    if guichet
        .store
        .delete_account_link(account.id, instance)
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound(
            "ce compte n'est pas rattaché à cette instance",
        ))
    }
}

/// The usager account whose login is `login`.
async fn usager_account(guichet: &Guichet, login: &str) -> Result<User, ServiceError> {
    match guichet.store.user_by_login(login).await {
        Ok(user) if user.kind == UserKind::Usager => Ok(user),
        Ok(_) | Err(StoreError::NotFound(_)) => Err(ServiceError::NotFound(
            "aucun compte usager n'a cet identifiant",
        )),
        Err(other) => Err(other.into()),
    }
}

/// The instances an usager may link their account to, each with the
/// parameters they give as proof (`family-code`, `secret`), by instance id.
///
/// # Errors
/// A store failure.
pub async fn offered(guichet: &Guichet) -> Result<Vec<(String, LinkSource)>, ServiceError> {
    let mut offered = Vec::new();
    let mut ids: Vec<String> = guichet
        .registry
        .instances()
        .into_iter()
        .map(|i| i.id)
        .collect();
    ids.sort();
    for id in ids {
        if let Some(link) = guichet.store.instance_use(&id).await?.link {
            offered.push((id, link));
        }
    }
    Ok(offered)
}

/// The caller's links, by instance.
///
/// # Errors
/// A store failure.
pub async fn mine(guichet: &Guichet, caller: &Caller) -> Result<Vec<AccountLink>, ServiceError> {
    Ok(guichet.store.account_links(caller.user.id).await?)
}

/// Removes the caller's link to `instance`.
///
/// # Errors
/// `NotFound` when the caller has no link to it; a store failure.
pub async fn unlink(
    guichet: &Guichet,
    caller: &Caller,
    instance: &str,
) -> Result<(), ServiceError> {
    if guichet
        .store
        .delete_account_link(caller.user.id, instance)
        .await?
    {
        Ok(())
    } else {
        Err(ServiceError::NotFound(
            "votre compte n'est pas rattaché à cette instance",
        ))
    }
}

/// Checks the parameters, asks the vendor, keeps the link.
async fn prove_and_keep(
    guichet: &Guichet,
    account: UserId,
    instance: &str,
    params: BTreeMap<String, String>,
    prover: Prover,
) -> Result<AccountLink, ServiceError> {
    let source = link_source(guichet, instance).await?;
    if params.len() > MAX_PARAMS {
        return Err(ServiceError::LinkParams(format!(
            "au plus {MAX_PARAMS} paramètres"
        )));
    }
    let params: BTreeMap<String, String> = params
        .into_iter()
        .map(|(name, value)| (name, value.trim().to_owned()))
        .filter(|(_, value)| !value.is_empty())
        .collect();
    let linked_by = match prover {
        Prover::Usager => {
            check_usager_params(&source, &params)?;
            None
        }
        Prover::Agent(agent) => {
            check_declared_params(guichet, instance, &source, &params)?;
            Some(agent)
        }
    };
    let (remote_id, label) = ask_vendor(guichet, instance, &source.source, params).await?;
    let link = AccountLink {
        account,
        instance: instance.to_owned(),
        remote_id,
        label,
        linked_by,
        created_at: guichet.now(),
    };
    guichet.store.save_account_link(&link).await?;
    Ok(link)
}

/// The source that proves a link to `instance`.
async fn link_source(guichet: &Guichet, instance: &str) -> Result<LinkSource, ServiceError> {
    if guichet.registry.instance(instance).is_none() {
        return Err(ServiceError::NotFound(
            "cette instance de connecteur n'existe pas",
        ));
    }
    guichet
        .store
        .instance_use(instance)
        .await?
        .link
        .ok_or(ServiceError::NotFound(
            "cette instance ne propose pas de rattacher un compte",
        ))
}

/// An usager gives exactly the instance's usager parameters.
fn check_usager_params(
    source: &LinkSource,
    params: &BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    let expected = || source.usager_params.join(", ");
    if let Some(other) = params
        .keys()
        .find(|name| !source.usager_params.contains(name))
    {
        return Err(ServiceError::LinkParams(format!(
            "le paramètre « {other} » n'est pas admis pour rattacher votre compte (attendus : {}) ; un agent peut vous rattacher après avoir vérifié votre identité",
            expected()
        )));
    }
    if let Some(missing) = source
        .usager_params
        .iter()
        .find(|name| !params.contains_key(*name))
    {
        return Err(ServiceError::LinkParams(format!(
            "le paramètre « {missing} » manque (attendus : {})",
            expected()
        )));
    }
    Ok(())
}

/// An agent gives parameters the source declares, at least one.
fn check_declared_params(
    guichet: &Guichet,
    instance: &str,
    source: &LinkSource,
    params: &BTreeMap<String, String>,
) -> Result<(), ServiceError> {
    let declared = declared_params(guichet, instance, &source.source).unwrap_or_default();
    if params.is_empty() {
        return Err(ServiceError::LinkParams(format!(
            "indiquez les paramètres du rattachement (parmi : {})",
            declared.join(", ")
        )));
    }
    if let Some(other) = params.keys().find(|name| !declared.contains(name)) {
        return Err(ServiceError::LinkParams(format!(
            "la source « {} » ne prend pas de paramètre « {other} » (parmi : {})",
            source.source,
            declared.join(", ")
        )));
    }
    Ok(())
}

/// The parameters the active version of `instance` declares for `source`.
fn declared_params(guichet: &Guichet, instance: &str, source: &str) -> Option<Vec<String>> {
    let info = guichet.registry.instance(instance)?;
    let version = guichet
        .registry
        .versions(&info.connector)
        .into_iter()
        .find(|v| v.version() == info.version)?;
    version
        .description()
        .data_sources
        .iter()
        .find(|s| s.name == source)
        .map(|s| s.params.clone())
}

/// Looks the proof up at the vendor: exactly one record is the link.
async fn ask_vendor(
    guichet: &Guichet,
    instance: &str,
    source: &str,
    params: BTreeMap<String, String>,
) -> Result<(String, String), ServiceError> {
    let query = LookupQuery {
        source: source.to_owned(),
        q: None,
        id: None,
        params,
    };
    match super::journal::journaled(guichet, guichet.registry.lookup(instance, query)).await? {
        Ok(items) => match <[_; 1]>::try_from(items) {
            Ok([item]) => Ok((item.id, item.text)),
            Err(items) if items.is_empty() => Err(ServiceError::LinkRefused(
                "aucun dossier ne correspond à ces informations".into(),
            )),
            Err(_) => Err(ServiceError::LinkRefused(
                "plusieurs dossiers correspondent à ces informations : précisez-les".into(),
            )),
        },
        Err(RegistryError::Call(CallError::Connector(
            ConnectorError::Rejected(message) | ConnectorError::NotFound(message),
        ))) => Err(ServiceError::LinkRefused(format!(
            "rattachement refusé : {message}"
        ))),
        Err(RegistryError::Call(CallError::Connector(ConnectorError::InvalidInput(message)))) => {
            Err(ServiceError::LinkParams(message))
        }
        Err(error) => Err(error.into()),
    }
}

/// Whether `agent` files on behalf of usagers on a démarche that uses
/// `instance`.
async fn may_link_for_usagers(
    guichet: &Guichet,
    agent: &Caller,
    instance: &str,
) -> Result<bool, ServiceError> {
    let entries = guichet.store.agent_catalogue(&Default::default()).await?;
    for entry in entries {
        if !agent.rights(&entry.slug).contains(Right::FileOnBehalf) {
            continue;
        }
        let stored = guichet.store.demarche(&entry.slug).await?;
        if uses_instance(&stored.definition, instance) {
            return Ok(true);
        }
    }
    Ok(false)
}

/// Whether a démarche transmits to `instance` or asks it for choices.
fn uses_instance(definition: &Definition, instance: &str) -> bool {
    definition
        .connector
        .as_ref()
        .is_some_and(|link| link.instance == instance)
        || definition.fields().any(|field| {
            field
                .kind
                .choice_list()
                .and_then(|(_, source)| source)
                .is_some_and(|source| source.connector == instance)
        })
}
