//! What is posted from a demande's page: a workflow's action with its
//! inputs and file (`processing::apply`), the cadre réservé
//! (`processing::fill_reserved_fields`), the restore from the trash
//! (`processing::restore`); a refusal about an input shows the page
//! again with the error beside it.

use super::*;

/// A refusal of the workflow or the form as the errors of the action's
/// inputs; `None` when it is not about them.
fn action_errors(transition: &str, error: &ServiceError) -> Option<Errors> {
    let on = |name: &str, text: String| {
        Errors(vec![ErrorView {
            field: format!("{transition}-{name}"),
            anchor: format!("{transition}-{name}"),
            message: text,
            label: None,
        }])
    };
    match error {
        ServiceError::Workflow(WorkflowError::MissingInput(input)) => Some(on(
            input_name(*input),
            format!("Renseignez : {}.", input.label()),
        )),
        ServiceError::Workflow(WorkflowError::TextTooLong { input, max }) => Some(on(
            input_name(*input),
            format!("Ce texte dépasse {max} caractères : raccourcissez-le."),
        )),
        ServiceError::Workflow(WorkflowError::ConfirmationRequired) => Some(on(
            CONFIRM_FIELD,
            "Cochez la case pour confirmer cette action.".to_owned(),
        )),
        ServiceError::Workflow(WorkflowError::InvalidService(service)) => Some(on(
            "service",
            format!("Le service « {service} » ne peut pas recevoir cette demande."),
        )),
        ServiceError::Fields(problems) => Some(Errors(
            problems
                .iter()
                .map(|p| {
                    let name = if p.field == FILE_PART {
                        FILE_PART
                    } else {
                        "message"
                    };
                    ErrorView {
                        field: format!("{transition}-{name}"),
                        anchor: format!("{transition}-{name}"),
                        message: p.message.clone(),
                        label: None,
                    }
                })
                .collect(),
        )),
        _ => None,
    }
}

/// An action no longer possible, or a demande changed meanwhile, as a
/// page; any other failure as [`failure`].
fn refused(site: &Site, id: &str, error: ServiceError) -> Response {
    let back = format!("/back-office/demandes/{id}");
    match error {
        ServiceError::Workflow(WorkflowError::RightMissing(right)) => message(
            site,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            &format!("Cette action demande le droit « {} ».", right.label()),
        ),
        ServiceError::AgentFields(AgentFieldsError::RightMissing) => message(
            site,
            StatusCode::FORBIDDEN,
            "Accès refusé",
            "Le cadre réservé à l'administration demande le droit « traitement des demandes ».",
        ),
        ServiceError::AgentFields(error) => message(
            site,
            StatusCode::CONFLICT,
            "Modification impossible",
            &format!(
                "Le cadre réservé n'a pas pu être enregistré : {error}. Retournez à la demande ({back})."
            ),
        ),
        ServiceError::Workflow(error) => message(
            site,
            StatusCode::CONFLICT,
            "Action impossible",
            &format!(
                "Cette action n'a pas pu être faite : {error}. Retournez à la demande ({back}) pour voir ce qui est possible maintenant."
            ),
        ),
        ServiceError::Store(StoreError::Conflict(_)) => message(
            site,
            StatusCode::CONFLICT,
            "Demande modifiée entre-temps",
            &format!(
                "La demande a changé pendant que vous écriviez : rien n'a été enregistré. Retournez à la demande ({back}), puis recommencez."
            ),
        ),
        other => failure(site, other),
    }
}

pub(in crate::web::back_office) async fn act(
    State(state): State<AppState>,
    site: Site,
    csrf: Csrf,
    Agent(agent): Agent,
    Path((id, transition)): Path<(String, String)>,
    multipart: Result<Multipart, MultipartRejection>,
) -> Response {
    let form = match upload::checked(
        &site,
        &csrf,
        multipart,
        "L'action n'a pas pu être lue. Revenez à la demande",
    )
    .await
    {
        Ok(form) => form,
        Err(refused) => return refused,
    };
    let (loaded, rights) = match load(&state, &agent, &id, Right::BackOffice).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let typed = Typed {
        transition: Some(transition.clone()),
        texts: form.texts.iter().cloned().collect(),
        reserved: HashMap::new(),
    };
    let show_again = |errors: Errors, typed: Typed| {
        demande_page(
            &state,
            Desk::of(site.clone(), &agent),
            &agent,
            &loaded,
            rights,
            Shown::refused(typed, errors),
        )
    };
    if form.too_large {
        let errors = Errors(vec![ErrorView::on(
            &format!("{transition}-{FILE_PART}"),
            "Ce fichier est trop volumineux pour être envoyé : choisissez un fichier plus petit.",
        )]);
        return show_again(errors, typed).await;
    }
    let text = |name: &str| Some(form.text(name).trim().to_owned()).filter(|t| !t.is_empty());
    let mut action = Action::new(&transition);
    action.inputs.message = text("message");
    action.inputs.justification = text("justification");
    action.inputs.closing_comment = text("commentaire_cloture");
    action.inputs.confirmed = form.has(CONFIRM_FIELD);
    action.inputs.refusal_type = match form.text("type_refus").as_str() {
        "" => None,
        "refusee" => Some(RefusalType::Refusee),
        "annulee" => Some(RefusalType::Annulee),
        "absence_reponse_usager" => Some(RefusalType::AbsenceReponseUsager),
        _ => {
            let errors = Errors(vec![ErrorView::on(
                &format!("{transition}-type_refus"),
                "Choisissez un type de refus de la liste.",
            )]);
            return show_again(errors, typed).await;
        }
    };
    action.inputs.service = match text("service") {
        None => None,
        Some(name) => match GroupName::parse(&name) {
            Ok(group) => Some(group),
            Err(error) => {
                let errors = Errors(vec![ErrorView::on(
                    &format!("{transition}-service"),
                    format!("Ce service n'existe pas : {error}."),
                )]);
                return show_again(errors, typed).await;
            }
        },
    };
    let actor = Actor::Agent {
        id: agent.user.id,
        rights,
    };
    let attachment = form
        .file
        .as_ref()
        .map(|(name, content)| Attachment { name, content });
    match processing::apply(&state.guichet(), &loaded, action, &actor, attachment).await {
        Ok(_) => {
            // A transfer may have taken the demande out of the agent's
            // services: back to the table then.
            let still = Loaded::for_agent(
                &state.guichet(),
                &agent,
                loaded.stored.demande.id,
                Right::Read,
            )
            .await
            .is_ok();
            if still {
                see_other(&format!(
                    "/back-office/demandes/{}?fait={}",
                    loaded.stored.demande.id.uuid(),
                    crate::web::urlencoded(&transition)
                ))
            } else {
                see_other(&format!(
                    "/back-office/demandes?fait={}",
                    crate::web::back_office::TRANSFERRED
                ))
            }
        }
        Err(error) => match action_errors(&transition, &error) {
            Some(errors) => show_again(errors, typed).await,
            None => refused(&site, &id, error),
        },
    }
}

pub(in crate::web::back_office) async fn reserved_fields(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let (loaded, rights) = match load(&state, &agent, &id, Right::Process).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let mut body = serde_json::Map::new();
    let mut typed = Typed::default();
    for field in loaded
        .definition
        .definition
        .pages
        .iter()
        .flat_map(|page| &page.fields)
        .filter(|field| field.agent_only)
    {
        let name = field.id.as_str();
        let value = match field.kind {
            FieldKind::Checkbox {} => serde_json::Value::Bool(posted.has(name)),
            FieldKind::Text { .. }
            | FieldKind::LongText { .. }
            | FieldKind::Email {}
            | FieldKind::Phone {}
            | FieldKind::Number { .. }
            | FieldKind::Date { .. }
            | FieldKind::Choice { .. } => {
                let text = posted.text(name);
                typed.reserved.insert(name.to_owned(), text.clone());
                if text.is_empty() {
                    serde_json::Value::Null
                } else {
                    serde_json::Value::String(text)
                }
            }
            _ => continue,
        };
        body.insert(name.to_owned(), value);
    }
    match processing::fill_reserved_fields(
        &state.guichet(),
        &loaded,
        &agent,
        rights,
        &serde_json::Value::Object(body),
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/back-office/demandes/{}?fait=cadre",
            loaded.stored.demande.id.uuid()
        )),
        Err(
            ServiceError::Fields(problems)
            | ServiceError::AgentFields(AgentFieldsError::Invalid(problems)),
        ) => {
            let errors = Errors(
                problems
                    .into_iter()
                    .map(|p| ErrorView::on(&p.field, p.message))
                    .collect(),
            );
            demande_page(
                &state,
                Desk::of(site.clone(), &agent),
                &agent,
                &loaded,
                rights,
                Shown::refused(typed, errors),
            )
            .await
        }
        Err(error) => refused(&site, &id, error),
    }
}

/// Takes a demande out of the trash (an administrator, confirmed, within
/// the trash period: `service::processing::restore` checks all three).
pub(in crate::web::back_office) async fn restore(
    State(state): State<AppState>,
    site: Site,
    Agent(agent): Agent,
    Path(id): Path<String>,
    Checked(posted): Checked,
) -> Response {
    let (loaded, rights) = match load(&state, &agent, &id, Right::BackOffice).await {
        Ok(found) => found,
        Err(error) => return failure(&site, error),
    };
    let actor = Actor::Agent {
        id: agent.user.id,
        rights,
    };
    match processing::restore(
        &state.guichet(),
        &loaded,
        &actor,
        posted.has(CONFIRM_FIELD),
        state.settings.retention.trash,
    )
    .await
    {
        Ok(_) => see_other(&format!(
            "/back-office/demandes/{}?fait=restauree",
            loaded.stored.demande.id.uuid()
        )),
        Err(ServiceError::Workflow(WorkflowError::ConfirmationRequired)) => {
            let errors = Errors(vec![ErrorView::on(
                "restaurer-confirme",
                "Cochez la case pour confirmer la restauration.",
            )]);
            demande_page(
                &state,
                Desk::of(site.clone(), &agent),
                &agent,
                &loaded,
                rights,
                Shown::refused(Typed::default(), errors),
            )
            .await
        }
        Err(error) => refused(&site, &id, error),
    }
}
