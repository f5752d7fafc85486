//! What every version's world `plugin` shares since 0.1.0: its call, the
//! conversions between the generated types and the host's
//! [`model`](crate::connectors::model), and the host imports (`http`,
//! `log`, `config`, `attachments`).
//!
//! The generated types of two versions are distinct Rust types with the
//! same shape, so the code is written once as a macro and expanded in each
//! version's module, where `types`, `http`, `log`, `config`,
//! `attachments`, `Plugin`, `PluginPre`, `CONTRACT` and that version's
//! `operation` conversion are in scope. A version whose shapes diverge
//! stops expanding it and writes its own.

/// Expands the world `plugin`'s call, conversions and host imports in a
/// version's module (see the module docs for what must be in scope).
macro_rules! plugin_world {
    () => {
        impl World for PluginPre<CallState> {
            fn serves(&self, operation: model::Operation) -> bool {
                operation != model::Operation::SendSms
            }

            fn call<'a>(
                &'a self,
                store: &'a mut Store<CallState>,
                request: &'a model::Request,
            ) -> BoxFuture<'a, Answer> {
                Box::pin(async move {
                    let plugin = self.instantiate_async(&mut *store).await?;
                    dispatch(&plugin, store, request).await
                })
            }

            fn instantiate<'a>(
                &'a self,
                store: &'a mut Store<CallState>,
            ) -> BoxFuture<'a, wasmtime::Result<()>> {
                Box::pin(async move { self.instantiate_async(store).await.map(drop) })
            }
        }

        /// Runs one request on an instantiated component.
        ///
        /// # Errors
        /// A trap or host error as `wasmtime::Error`; a connector error inside `Ok`.
        async fn dispatch(
            plugin: &Plugin,
            store: &mut Store<CallState>,
            request: &model::Request,
        ) -> Answer {
            let api = plugin.guichet_connector_connector();
            Ok(match request {
                model::Request::Describe => Ok(model::Response::Describe(description(
                    api.call_describe(&mut *store).await?,
                ))),
                model::Request::Check => api
                    .call_check(&mut *store)
                    .await?
                    .map(|a| model::Response::Check(availability(a))),
                model::Request::Transmit {
                    demande: d,
                    idempotency_key,
                } => api
                    .call_transmit(&mut *store, &demande(d), idempotency_key)
                    .await?
                    .map(|r| {
                        model::Response::Transmit(model::Receipt {
                            remote_id: r.remote_id,
                            display_id: r.display_id,
                        })
                    }),
                model::Request::Status { remote_id } => api
                    .call_status(&mut *store, remote_id)
                    .await?
                    .map(|s| model::Response::Status(remote_status(s))),
                model::Request::Lookup(query) => api
                    .call_lookup_items(&mut *store, &lookup_query(query))
                    .await?
                    .map(|items| {
                        model::Response::Lookup(items.into_iter().map(lookup_item).collect())
                    }),
                model::Request::Card { remote_id } => api
                    .call_card(&mut *store, remote_id)
                    .await?
                    .map(|c| model::Response::Card(card(c))),
                // Refused at install (`World::serves`): never called.
                model::Request::SendSms(_) => {
                    return Err(wasmtime::Error::msg(
                        "le monde « plugin » n'exporte pas l'envoi de SMS",
                    ));
                }
            }
            .map_err(connector_error))
        }

        fn description(d: types::Description) -> model::Description {
            model::Description {
                name: d.name,
                version: d.version,
                vendor: d.vendor,
                summary: d.summary,
                operations: d.operations.into_iter().map(operation).collect(),
                config_schema: serde_json::from_str(&d.config_schema)
                    .unwrap_or(serde_json::Value::String(d.config_schema)),
                hosts: d.hosts,
                data_sources: d
                    .data_sources
                    .into_iter()
                    .map(|s| model::DataSource {
                        name: s.name,
                        label: s.label,
                        params: s.params,
                    })
                    .collect(),
                contract: CONTRACT.to_string(),
            }
        }

        fn availability(a: types::Availability) -> model::Availability {
            model::Availability {
                available: a.available,
                message: a.message,
                remote_version: a.remote_version,
            }
        }

        fn address(a: &model::Address) -> types::Address {
            types::Address {
                label: a.label.clone(),
                street: a.street.clone(),
                postcode: a.postcode.clone(),
                city: a.city.clone(),
                latitude: a.latitude,
                longitude: a.longitude,
            }
        }

        fn choice(c: &model::Choice) -> types::Choice {
            types::Choice {
                value: c.value.clone(),
                label: c.label.clone(),
            }
        }

        fn field_value(v: &model::FieldValue) -> types::FieldValue {
            match v {
                model::FieldValue::Text(t) => types::FieldValue::Text(t.clone()),
                model::FieldValue::Number(n) => types::FieldValue::Number(*n),
                model::FieldValue::Boolean(b) => types::FieldValue::Boolean(*b),
                model::FieldValue::Date(d) => types::FieldValue::Date(d.clone()),
                model::FieldValue::Choice(c) => types::FieldValue::Choice(choice(c)),
                model::FieldValue::Choices(cs) => {
                    types::FieldValue::Choices(cs.iter().map(choice).collect())
                }
                model::FieldValue::Address(a) => types::FieldValue::Address(address(a)),
                model::FieldValue::Files(files) => types::FieldValue::Files(
                    files
                        .iter()
                        .map(|f| types::AttachmentRef {
                            id: f.id.clone(),
                            filename: f.filename.clone(),
                            media_type: f.media_type.clone(),
                            size: f.size,
                        })
                        .collect(),
                ),
            }
        }

        fn demande(d: &model::Demande) -> types::Demande {
            let u = &d.usager;
            types::Demande {
                id: d.id.clone(),
                numero: d.numero.clone(),
                demarche: d.demarche.clone(),
                demarche_version: d.demarche_version,
                submitted_at: d.submitted_at.clone(),
                usager: types::Identity {
                    first_name: u.first_name.clone(),
                    last_name: u.last_name.clone(),
                    email: u.email.clone(),
                    phone: u.phone.clone(),
                    mobile: u.mobile.clone(),
                    address: u.address.as_ref().map(address),
                    birth_date: u.birth_date.clone(),
                },
                fields: d
                    .fields
                    .iter()
                    .map(|f| types::Field {
                        id: f.id.clone(),
                        label: f.label.clone(),
                        value: field_value(&f.value),
                    })
                    .collect(),
            }
        }

        fn remote_status(s: types::RemoteStatus) -> model::RemoteStatus {
            model::RemoteStatus {
                code: s.code,
                label: s.label,
                is_final: s.is_final,
                comments: s
                    .comments
                    .into_iter()
                    .map(|c| model::RemoteComment {
                        author: c.author,
                        at: c.at,
                        text: c.text,
                    })
                    .collect(),
            }
        }

        fn lookup_query(q: &model::LookupQuery) -> types::LookupQuery {
            types::LookupQuery {
                source: q.source.clone(),
                q: q.q.clone(),
                id: q.id.clone(),
                params: q
                    .params
                    .iter()
                    .map(|(k, v)| (k.clone(), v.clone()))
                    .collect(),
            }
        }

        fn lookup_item(i: types::LookupItem) -> model::LookupItem {
            model::LookupItem {
                id: i.id,
                text: i.text,
                extra: i
                    .extra
                    .map(|e| serde_json::from_str(&e).unwrap_or(serde_json::Value::String(e))),
            }
        }

        fn card(c: types::AgentCard) -> model::Card {
            model::Card {
                title: c.title,
                sections: c
                    .sections
                    .into_iter()
                    .map(|s| model::CardSection {
                        title: s.title,
                        entries: s
                            .entries
                            .into_iter()
                            .map(|e| model::CardEntry {
                                label: e.label,
                                value: e.value,
                            })
                            .collect(),
                    })
                    .collect(),
                link: c.link,
            }
        }

        fn connector_error(e: types::ConnectorError) -> model::ConnectorError {
            match e {
                types::ConnectorError::InvalidInput(m) => model::ConnectorError::InvalidInput(m),
                types::ConnectorError::NotFound(m) => model::ConnectorError::NotFound(m),
                types::ConnectorError::Unavailable(m) => model::ConnectorError::Unavailable(m),
                types::ConnectorError::Rejected(m) => model::ConnectorError::Rejected(m),
                types::ConnectorError::Configuration(m) => model::ConnectorError::Configuration(m),
                types::ConnectorError::Other(m) => model::ConnectorError::Other(m),
            }
        }

        fn method(m: http::Method) -> &'static str {
            match m {
                http::Method::Get => "GET",
                http::Method::Post => "POST",
                http::Method::Put => "PUT",
                http::Method::Patch => "PATCH",
                http::Method::Delete => "DELETE",
                http::Method::Head => "HEAD",
            }
        }

        fn http_error(e: model::HttpError) -> http::HttpError {
            match e {
                model::HttpError::Forbidden(m) => http::HttpError::Forbidden(m),
                model::HttpError::InvalidUrl(m) => http::HttpError::InvalidUrl(m),
                model::HttpError::Connection(m) => http::HttpError::Connection(m),
                model::HttpError::Timeout => http::HttpError::Timeout,
                model::HttpError::TooLarge(n) => http::HttpError::TooLarge(n),
                model::HttpError::TooManyRedirects => http::HttpError::TooManyRedirects,
                model::HttpError::Other(m) => http::HttpError::Other(m),
            }
        }

        fn level(l: log::Level) -> &'static str {
            match l {
                log::Level::Debug => "debug",
                log::Level::Info => "info",
                log::Level::Warn => "warn",
                log::Level::Error => "error",
            }
        }

        impl types::Host for CallState {}

        impl http::Host for CallState {
            async fn send(
                &mut self,
                request: http::Request,
            ) -> Result<http::Response, http::HttpError> {
                let request = model::HttpRequest {
                    method: method(request.method).to_string(),
                    url: request.url,
                    headers: request.headers,
                    body: request.body,
                };
                self.send_http(request)
                    .await
                    .map(|r| http::Response {
                        status: r.status,
                        headers: r.headers,
                        body: r.body,
                    })
                    .map_err(http_error)
            }
        }

        impl log::Host for CallState {
            async fn write(
                &mut self,
                level_: log::Level,
                message: String,
                fields: Vec<(String, String)>,
            ) {
                self.write_log(level(level_), message, fields);
            }
        }

        impl config::Host for CallState {
            async fn get(&mut self, key: String) -> Option<String> {
                self.config_value(&key)
            }

            async fn secret(&mut self, key: String) -> Option<String> {
                self.secret_value(&key)
            }
        }

        impl attachments::Host for CallState {
            async fn read(&mut self, id: String) -> Result<Vec<u8>, String> {
                self.read_attachment(&id).await
            }
        }
    };
}

pub(super) use plugin_world;
