//! The meaning checks of a definition, listing every problem with its path.

use std::collections::{BTreeMap, BTreeSet};

use super::{Definition, DemarcheKind, Problem};
use crate::condition::Condition;
use crate::field::{DataSource, DateBound, Field, FieldKind};
use crate::id::{FieldId, is_snake_case};
use crate::notification::{self, PLACEHOLDERS, placeholders_in};
use crate::workflow::{StandardParameters, WorkflowChoice, check_workflow};

mod connector;

/// Largest size cap of a file field, in megabytes.
pub const MAX_FILE_SIZE_MB: u32 = 100;

struct Problems(Vec<Problem>);

impl Problems {
    fn add(&mut self, path: impl Into<String>, message: impl Into<String>) {
        self.0.push(Problem {
            path: path.into(),
            message: message.into(),
        });
    }

    fn blank(&mut self, path: impl Into<String>, text: &str, what: &str) {
        if text.trim().is_empty() {
            self.add(path, format!("{what} est vide"));
        }
    }
}

/// Every problem of meaning in a definition (empty when it is usable).
pub fn check(definition: &Definition) -> Vec<Problem> {
    let mut p = Problems(Vec::new());
    let d = definition;
    if !d.slug.is_well_formed() {
        p.add("slug", format!("identifiant « {} » invalide : 3 à 80 caractères parmi a-z, 0-9 et -, commençant par une lettre", d.slug));
    }
    p.blank("title", &d.title, "le titre");
    p.blank("category", &d.category, "la catégorie");
    for (i, keyword) in d.keywords.iter().enumerate() {
        p.blank(format!("keywords[{i}]"), keyword, "le mot-clé");
    }
    if let Some(period) = &d.open_period
        && let (Some(from), Some(until)) = (period.from, period.until)
        && from > until
    {
        p.add(
            "open_period",
            format!("la période d'ouverture finit ({until}) avant de commencer ({from})"),
        );
    }
    if d.presentation.average_minutes == 0 {
        p.add(
            "presentation.average_minutes",
            "le temps moyen de saisie doit être d'au moins une minute",
        );
    }
    for (i, step) in d.presentation.steps.iter().enumerate() {
        p.blank(format!("presentation.steps[{i}]"), step, "l'étape");
    }
    for (i, link) in d.presentation.links.iter().enumerate() {
        p.blank(
            format!("presentation.links[{i}].label"),
            &link.label,
            "le libellé du lien",
        );
        if !(link.url.starts_with("https://") || link.url.starts_with("http://")) {
            p.add(
                format!("presentation.links[{i}].url"),
                format!(
                    "adresse « {} » invalide : elle doit commencer par https://",
                    link.url
                ),
            );
        }
    }
    check_pages(d, &mut p);
    p.blank("rgpd.text", &d.rgpd.text, "le texte RGPD");
    p.blank(
        "rgpd.consent_label",
        &d.rgpd.consent_label,
        "le libellé de la case de consentement",
    );
    check_workflow_choice(d, &mut p);
    check_notifications(d, &mut p);
    if let Some(link) = &d.connector {
        connector::check(d, link, &mut p);
    }
    if let Some(satisfaction) = &d.satisfaction {
        for (path, message) in super::satisfaction::problems(satisfaction) {
            p.add(path, message);
        }
    }
    p.0
}

fn check_pages(d: &Definition, p: &mut Problems) {
    if d.pages.is_empty() {
        p.add("pages", "le formulaire doit avoir au moins une page");
    }
    let mut page_ids = BTreeSet::new();
    // Fields seen so far, with the index of their page: conditions may only
    // look back.
    let mut earlier: BTreeMap<&FieldId, (usize, &Field)> = BTreeMap::new();
    let all: BTreeMap<&FieldId, &Field> = d.fields().map(|f| (&f.id, f)).collect();
    for (pi, page) in d.pages.iter().enumerate() {
        let at = format!("pages[{pi}]");
        if !is_snake_case(page.id.as_str(), 64) {
            p.add(
                format!("{at}.id"),
                format!(
                    "identifiant de page invalide « {} » (minuscules, chiffres et _)",
                    page.id.as_str()
                ),
            );
        }
        if !page_ids.insert(&page.id) {
            p.add(
                format!("{at}.id"),
                format!("page « {} » définie deux fois", page.id.as_str()),
            );
        }
        p.blank(format!("{at}.title"), &page.title, "le titre de la page");
        if page.fields.is_empty() {
            p.add(format!("{at}.fields"), "la page n'a aucun champ");
        }
        if let Some(condition) = &page.condition {
            let before: BTreeMap<&FieldId, &Field> = earlier
                .iter()
                .filter(|(_, (page_index, _))| *page_index < pi)
                .map(|(id, (_, f))| (*id, *f))
                .collect();
            check_condition(
                condition,
                &before,
                &all,
                false,
                &format!("{at}.condition"),
                p,
            );
        }
        for (fi, field) in page.fields.iter().enumerate() {
            let at = format!("{at}.fields[{fi}]");
            if !field.id.is_well_formed() {
                p.add(
                    format!("{at}.id"),
                    format!(
                        "identifiant de champ invalide « {} » (minuscules, chiffres et _)",
                        field.id
                    ),
                );
            }
            if earlier.contains_key(&field.id) {
                p.add(
                    format!("{at}.id"),
                    format!("champ « {} » défini deux fois", field.id),
                );
            }
            if let Some(condition) = &field.condition {
                let before: BTreeMap<&FieldId, &Field> =
                    earlier.iter().map(|(id, (_, f))| (*id, *f)).collect();
                check_condition(
                    condition,
                    &before,
                    &all,
                    field.agent_only,
                    &format!("{at}.condition"),
                    p,
                );
            }
            if let Some((_, Some(source))) = field.kind.choice_list() {
                check_source_params(field, source, pi, &earlier, &all, &at, p);
            }
            check_field(field, &at, p);
            earlier.entry(&field.id).or_insert((pi, field));
        }
    }
}

fn check_field(field: &Field, at: &str, p: &mut Problems) {
    let needs_label = !matches!(field.kind, FieldKind::Comment { .. });
    if needs_label {
        p.blank(format!("{at}.label"), &field.label, "le libellé");
    }
    if field.kind.is_block() {
        if field.required {
            p.add(
                format!("{at}.required"),
                "un bloc de texte ne peut pas être obligatoire",
            );
        }
        if field.prefill.is_some() {
            p.add(
                format!("{at}.prefill"),
                "un bloc de texte ne peut pas être prérempli",
            );
        }
    }
    if let Some(source) = field.prefill {
        if !field.kind.takes_prefill_from(source) {
            p.add(
                format!("{at}.prefill"),
                format!(
                    "« {} » ne convient pas à un champ de type {}",
                    source.name(),
                    field.kind.name()
                ),
            );
        }
        if field.agent_only {
            p.add(format!("{at}.prefill"), "un champ réservé à l'administration ne se préremplit pas depuis le profil de l'usager");
        }
    }
    match &field.kind {
        FieldKind::Text { max_length, .. } | FieldKind::LongText { max_length }
            if max_length.is_some_and(|max| max == 0 || max > 100_000) =>
        {
            p.add(
                format!("{at}.max_length"),
                "la longueur maximale doit être comprise entre 1 et 100 000",
            );
        }
        FieldKind::Number { min, max, .. } => {
            if min.is_some_and(|v| !v.is_finite()) || max.is_some_and(|v| !v.is_finite()) {
                p.add(
                    format!("{at}.min"),
                    "les bornes doivent être des nombres finis",
                );
            }
            if let (Some(min), Some(max)) = (min, max)
                && min > max
            {
                p.add(
                    format!("{at}.min"),
                    format!("le minimum ({min}) dépasse le maximum ({max})"),
                );
            }
        }
        FieldKind::Date { min, max } => {
            for (name, bound) in [("min", min), ("max", max)] {
                if let Some(DateBound::Fixed(date)) = bound
                    && !crate::format::plausible_date(*date)
                {
                    p.add(
                        format!("{at}.{name}"),
                        format!(
                            "une date doit avoir une année de {} à {}",
                            crate::format::MIN_YEAR,
                            crate::format::MAX_YEAR
                        ),
                    );
                }
            }
            if let (Some(DateBound::Fixed(min)), Some(DateBound::Fixed(max))) = (min, max)
                && min > max
            {
                p.add(
                    format!("{at}.min"),
                    format!("la date minimale ({min}) suit la date maximale ({max})"),
                );
            }
        }
        FieldKind::Choice { choices, source }
        | FieldKind::MultipleChoice {
            choices, source, ..
        } => {
            if choices.is_empty() && source.is_none() {
                p.add(
                    format!("{at}.choices"),
                    "un champ de choix doit avoir une liste de choix ou une source de données",
                );
            }
            if !choices.is_empty() && source.is_some() {
                p.add(
                    format!("{at}.source"),
                    "un champ de choix a une liste de choix ou une source de données, pas les deux",
                );
            }
            let mut values = BTreeSet::new();
            for (ci, choice) in choices.iter().enumerate() {
                p.blank(
                    format!("{at}.choices[{ci}].value"),
                    &choice.value,
                    "la valeur du choix",
                );
                p.blank(
                    format!("{at}.choices[{ci}].label"),
                    &choice.label,
                    "le libellé du choix",
                );
                if !values.insert(&choice.value) {
                    p.add(
                        format!("{at}.choices[{ci}].value"),
                        format!("valeur de choix « {} » en double", choice.value),
                    );
                }
            }
            if let Some(source) = source {
                p.blank(
                    format!("{at}.source.connector"),
                    &source.connector,
                    "l'instance de connecteur",
                );
                p.blank(
                    format!("{at}.source.name"),
                    &source.name,
                    "le nom de la source",
                );
            }
            if let FieldKind::MultipleChoice {
                min_choices,
                max_choices,
                ..
            } = &field.kind
            {
                if let (Some(min), Some(max)) = (min_choices, max_choices)
                    && min > max
                {
                    p.add(
                        format!("{at}.min_choices"),
                        format!("le nombre minimal de choix ({min}) dépasse le maximal ({max})"),
                    );
                }
                if max_choices == &Some(0) {
                    p.add(
                        format!("{at}.max_choices"),
                        "le nombre maximal de choix doit être d'au moins 1",
                    );
                }
            }
        }
        FieldKind::File {
            accept,
            max_size_mb,
            max_files,
        } => {
            if accept.as_ref().is_some_and(Vec::is_empty) {
                p.add(
                    format!("{at}.accept"),
                    "la liste des formats acceptés est vide",
                );
            }
            if max_size_mb.is_some_and(|mb| mb == 0 || mb > MAX_FILE_SIZE_MB) {
                p.add(
                    format!("{at}.max_size_mb"),
                    format!(
                        "la taille maximale doit être comprise entre 1 et {MAX_FILE_SIZE_MB} Mo"
                    ),
                );
            }
            if max_files.is_some_and(|n| n == 0 || n > 20) {
                p.add(
                    format!("{at}.max_files"),
                    "le nombre de fichiers doit être compris entre 1 et 20",
                );
            }
        }
        FieldKind::Comment { text } => p.blank(format!("{at}.text"), text, "le texte"),
        _ => {}
    }
}

/// The parameters of a data source come from answers on earlier pages (the
/// options are asked for when the field's page is shown), visible to
/// whoever fills the field, or — one of them at most — from the usager's
/// account link (`link`), never from both.
fn check_source_params(
    field: &Field,
    source: &DataSource,
    page_index: usize,
    earlier: &BTreeMap<&FieldId, (usize, &Field)>,
    all: &BTreeMap<&FieldId, &Field>,
    at: &str,
    p: &mut Problems,
) {
    if let Some(link) = &source.link {
        let at = format!("{at}.source.link");
        if link.trim().is_empty() {
            p.add(
                at,
                "indiquez le paramètre qui reçoit l'identifiant du rattachement du compte",
            );
        } else if source.params.contains_key(link) {
            p.add(
                at,
                format!("le paramètre « {link} » vient du rattachement du compte : il ne peut pas venir aussi d'une réponse"),
            );
        }
    }
    for (param, id) in &source.params {
        let at = format!("{at}.source.params.{param}");
        match earlier.get(id) {
            Some((source_page, _)) if *source_page == page_index => p.add(
                at,
                format!("le paramètre « {param} » vient de « {id} », sur la même page : il doit venir d'une page précédente"),
            ),
            Some((_, source_field)) => {
                if !source_field.has_value() {
                    p.add(at, format!("le paramètre « {param} » vient de « {id} », qui n'a pas de valeur"));
                } else if source_field.agent_only && !field.agent_only {
                    p.add(at, format!("le paramètre « {param} » vient de « {id} », réservé à l'administration, que l'usager ne voit pas"));
                }
            }
            None if all.contains_key(id) => p.add(
                at,
                format!("le paramètre « {param} » vient de « {id} », placé après : il doit venir d'une page précédente"),
            ),
            None => p.add(
                at,
                format!("le paramètre « {param} » vient d'un champ inconnu « {id} »"),
            ),
        }
    }
}

fn check_condition(
    condition: &Condition,
    before: &BTreeMap<&FieldId, &Field>,
    all: &BTreeMap<&FieldId, &Field>,
    for_agents: bool,
    at: &str,
    p: &mut Problems,
) {
    if let Condition::All(list) | Condition::Any(list) = condition
        && list.is_empty()
    {
        p.add(
            at,
            "une condition « all » ou « any » doit contenir au moins une condition",
        );
    }
    for (id, operator) in condition.references() {
        let Some(field) = before.get(id) else {
            if all.contains_key(id) {
                p.add(at, format!("la condition porte sur « {id} », placé après : une condition ne regarde que les champs précédents"));
            } else {
                p.add(
                    at,
                    format!("la condition porte sur un champ inconnu « {id} »"),
                );
            }
            continue;
        };
        let fits = match operator {
            "checked" => matches!(field.kind, FieldKind::Checkbox {}),
            "equals" | "not_equals" | "in" => matches!(
                field.kind,
                FieldKind::Choice { .. }
                    | FieldKind::MultipleChoice { .. }
                    | FieldKind::Text { .. }
            ),
            _ => field.has_value(),
        };
        if !fits {
            p.add(
                at,
                format!(
                    "« {operator} » ne s'applique pas au champ « {id} » de type {}",
                    field.kind.name()
                ),
            );
        }
        if field.agent_only && !for_agents {
            p.add(at, format!("la condition porte sur « {id} », réservé à l'administration, que l'usager ne voit pas"));
        }
    }
    for (id, value) in condition.compared_values() {
        let static_choices = before
            .get(id)
            .and_then(|f| f.kind.choice_list())
            .filter(|(_, source)| source.is_none());
        if let Some((choices, _)) = static_choices
            && !choices.iter().any(|c| c.value == value)
        {
            p.add(
                at,
                format!("« {value} » n'est pas une valeur de choix du champ « {id} »"),
            );
        }
    }
}

fn check_workflow_choice(d: &Definition, p: &mut Problems) {
    let template_exists =
        |key: &str| d.notifications.contains_key(key) || notification::default_text(key).is_some();
    match &d.workflow {
        WorkflowChoice::Standard(parameters) => {
            check_standard(d.kind, parameters, p);
            // The templates pass the workflow checks; anything found here is
            // a parameter problem already reported above, or a bug.
            if p.0
                .iter()
                .all(|problem| !problem.path.starts_with("workflow"))
            {
                for problem in check_workflow(&d.workflow(), &template_exists) {
                    p.add(
                        format!("workflow.standard.{}", problem.path),
                        problem.message,
                    );
                }
            }
        }
        WorkflowChoice::Custom(workflow) => {
            for problem in check_workflow(workflow, &template_exists) {
                p.add(format!("workflow.custom.{}", problem.path), problem.message);
            }
        }
    }
}

fn check_standard(kind: DemarcheKind, s: &StandardParameters, p: &mut Problems) {
    let at = |name: &str| format!("workflow.standard.{name}");
    if kind == DemarcheKind::Simple {
        let complexe_only = [
            ("hold", s.hold.is_some()),
            ("hold_max_days", s.hold_max_days.is_some()),
            ("transfer_targets", !s.transfer_targets.is_empty()),
            ("no_answer_days", s.no_answer_days.is_some()),
        ];
        for (name, set) in complexe_only {
            if set {
                p.add(
                    at(name),
                    "ce paramètre n'existe que dans le parcours standard complexe",
                );
            }
        }
    }
    let processing = s.processing_days.unwrap_or(27);
    if processing == 0 {
        p.add(
            at("processing_days"),
            "le délai de traitement doit être d'au moins un jour",
        );
    }
    for (i, days) in s.reminder_days.iter().flatten().enumerate() {
        if *days == 0 || *days >= processing {
            p.add(
                at(&format!("reminder_days[{i}]")),
                format!(
                    "une relance ({days} jours) doit précéder l'échéance de {processing} jours"
                ),
            );
        }
    }
    for (name, value) in [
        ("archive_after_days", s.archive_after_days),
        ("anonymise_after_days", s.anonymise_after_days),
        ("no_answer_days", s.no_answer_days),
        ("hold_max_days", s.hold_max_days),
    ] {
        if value == Some(0) {
            p.add(at(name), "le délai doit être d'au moins un jour");
        }
    }
    let archive = s
        .archive_after_days
        .unwrap_or(if kind == DemarcheKind::Simple { 7 } else { 27 });
    let anonymise = s
        .anonymise_after_days
        .unwrap_or(if kind == DemarcheKind::Simple {
            365
        } else {
            730
        });
    if anonymise <= archive {
        p.add(
            at("anonymise_after_days"),
            "l'anonymisation doit suivre l'archivage",
        );
    }
}

fn check_notifications(d: &Definition, p: &mut Problems) {
    let mut known: BTreeSet<String> = notification::template_keys().map(str::to_owned).collect();
    if let WorkflowChoice::Custom(workflow) = &d.workflow {
        let effects = workflow
            .transitions
            .iter()
            .map(|t| &t.effects)
            .chain([&workflow.on_submit]);
        known.extend(effects.flat_map(|e| e.notify.iter().map(|n| n.template.clone())));
    }
    for (key, text) in &d.notifications {
        let at = format!("notifications.{key}");
        if !known.contains(key) {
            p.add(&at, format!("modèle de notification inconnu « {key} »"));
        }
        p.blank(format!("{at}.subject"), &text.subject, "l'objet");
        p.blank(format!("{at}.body"), &text.body, "le corps du message");
        let parts = [
            ("subject", Some(&text.subject)),
            ("body", Some(&text.body)),
            ("sms", text.sms.as_ref()),
        ];
        for (part, content) in parts {
            for name in content.map(|c| placeholders_in(c)).unwrap_or_default() {
                if !PLACEHOLDERS.contains(&name) {
                    p.add(
                        format!("{at}.{part}"),
                        format!("paramètre de modèle inconnu {{{name}}}"),
                    );
                }
            }
        }
    }
}
